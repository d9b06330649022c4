"""ONNX export of the decoder, its metadata JSON, the Python reference decode, Rust fixtures.

The reference `decode()` here is the contract the Rust plug-in implements:
latent = (1 - morph) * centroid[A] + morph * centroid[B]  (morph clamped to [0, 1], NaN -> 0),
params = onnx(latent), then every gain *= intensity (clamped to [0, 2], NaN -> 0) and is
clamped to +-12 dB. It is computed in float32 like the plug-in.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import onnx
import onnxruntime as ort
from jax2onnx import to_onnx

from . import data as D
from .model import Decoder, Trained, unit_to_physical

OPSET = 21
INPUT, OUTPUT = "latent", "params"
MAX_INTENSITY = 2.0


def f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def decoder_fn_f32(model: Trained):
    """The shipped decoder as a float32 JAX function: latent [N, d] -> physical params [N, 13]."""
    p32 = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float32), model.dec_params)
    dec = Decoder(model.cfg.hidden)

    def fn(z):
        return unit_to_physical(dec.apply(p32, z))

    return fn


def export_onnx(model: Trained, path: Path) -> onnx.ModelProto:
    proto = to_onnx(
        decoder_fn_f32(model), [("N", model.cfg.latent_dim)], opset=OPSET,
        input_names=[INPUT], output_names=[OUTPUT], model_name="eq_morph_decoder",
    )
    proto.producer_name = "musichal-training"
    onnx.checker.check_model(proto)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, path)
    return proto


def session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run_onnx(sess: ort.InferenceSession, z: np.ndarray) -> np.ndarray:
    return sess.run([OUTPUT], {INPUT: f32(z).reshape(-1, f32(z).shape[-1])})[0]


def build_meta(model: Trained, centroids: np.ndarray, spreads: np.ndarray, counts: dict[str, int],
               data_sha: str, evaluation: dict) -> dict:
    # centroids stored as float32-exact decimals so Rust's f32 parse gives the same latent
    return {
        "format_version": 1,
        "latent_dim": model.cfg.latent_dim,
        "param_order": list(D.PARAM_ORDER),
        "units": list(D.UNITS),
        "ranges": {n: [float(lo), float(hi)] for n, (lo, hi) in zip(D.PARAM_ORDER, D.RANGES)},
        "terms": [
            {"name": t, "count": int(counts[t]),
             "centroid": [float(v) for v in f32(centroids[k])],
             "spread": [float(v) for v in f32(spreads[k])]}
            for k, t in enumerate(model.terms)
        ],
        "training_data_sha256": data_sha,
        "evaluation": evaluation,
        "onnx_input": INPUT,
        "onnx_output": OUTPUT,
    }


def write_json(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1) + "\n")


def term_index(meta: dict, name: str) -> int:
    key = " ".join(name.strip().lower().split())
    for k, t in enumerate(meta["terms"]):
        if t["name"] == key:
            return k
    raise KeyError(f"unknown EQ term {name!r}; known: {[t['name'] for t in meta['terms']]}")


def morph_latent(meta: dict, term_a: str, term_b: str, morph: float) -> np.ndarray:
    m = np.float32(np.clip(morph, 0.0, 1.0) if np.isfinite(morph) else 0.0)
    a = f32(meta["terms"][term_index(meta, term_a)]["centroid"])
    b = f32(meta["terms"][term_index(meta, term_b)]["centroid"])
    return (np.float32(1.0) - m) * a + m * b


def apply_intensity(params: np.ndarray, intensity: float) -> np.ndarray:
    i = np.float32(np.clip(intensity, 0.0, MAX_INTENSITY) if np.isfinite(intensity) else 0.0)
    out = f32(params).copy()
    g = list(D.GAIN_IDX)
    out[..., g] = np.clip(out[..., g] * i, np.float32(-12.0), np.float32(12.0))
    return out


def decode(meta: dict, sess: ort.InferenceSession, term_a: str, term_b: str, morph: float,
           intensity: float) -> np.ndarray:
    """Reference of the plug-in's decode: 13 physical params (float32) for a term morph."""
    z = morph_latent(meta, term_a, term_b, morph)[None, :]
    return apply_intensity(run_onnx(sess, z)[0], intensity)


def write_fixtures(meta: dict, sess: ort.InferenceSession, path: Path, seed: int = 1234) -> dict:
    """~20 raw latents and ~20 term decodes, all computed by onnxruntime on the exported file."""
    rng = np.random.default_rng(seed)
    d = meta["latent_dim"]
    cents = f32([t["centroid"] for t in meta["terms"]])
    lat = [np.zeros(d), cents[0], cents[-1], 0.5 * (cents[0] + cents[-1])]
    lat += list(rng.normal(0.0, 2.0, (12, d)))
    lat += [np.full(d, 40.0), np.full(d, -40.0), np.array([3.0, -3.0] * d)[:d], np.array([-7.5, 0.25] * d)[:d]]
    lat = f32(lat)
    out = run_onnx(sess, lat)
    names = [t["name"] for t in meta["terms"]]
    cases = [("warm", "bright", m, 1.0) for m in (0.0, 0.25, 0.5, 0.75, 1.0)]
    cases += [("bright", "warm", 0.3, 0.5), ("warm", "warm", 0.0, 2.0), ("bright", "bright", 1.0, 1.7),
              ("warm", "bright", 0.6, 0.0), ("warm", "bright", 1.5, 1.0), ("warm", "bright", -0.5, 2.5),
              (" Warm ", "BRIGHT", 0.5, 1.0)]
    for _ in range(8):
        a, b = rng.choice(names, 2)
        cases.append((str(a), str(b), float(np.round(rng.uniform(0, 1), 4)), float(np.round(rng.uniform(0, 2), 4))))
    fx = {
        "note": "Generated by `python -m training.train` with onnxruntime on assets/eq_morph.onnx; "
                "Rust must match within 1e-5 (relative for values above 1).",
        "latent_dim": d,
        "param_order": list(D.PARAM_ORDER),
        "latents": [{"latent": [float(v) for v in z], "params": [float(v) for v in p]} for z, p in zip(lat, out)],
        "decode": [
            {"term_a": a, "term_b": b, "morph": m, "intensity": i,
             "params": [float(v) for v in decode(meta, sess, a, b, m, i)]}
            for a, b, m, i in cases
        ],
    }
    write_json(fx, path)
    return fx
