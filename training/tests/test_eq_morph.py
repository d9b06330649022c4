"""Tests of the semantic EQ morph training side. Fast: one quick training run (~30 s)."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from training.musichal_eq import data as D
from training.musichal_eq import eq
from training.musichal_eq import evaluate as E
from training.musichal_eq import export as X

ROOT = D.REPO_ROOT
ONNX_PATH = ROOT / "assets" / "eq_morph.onnx"
META_PATH = ROOT / "assets" / "eq_morph.json"
FIXTURES_PATH = ROOT / "tests" / "fixtures" / "eq_morph" / "fixtures.json"
EXTREMES = np.array([1e6, -1e6, 1e30, -1e30, np.inf, -np.inf, np.nan, 0.0], np.float32)


@pytest.fixture(scope="module")
def dataset() -> D.Dataset:
    return D.load()


@pytest.fixture(scope="module")
def committed():
    meta = json.loads(META_PATH.read_text())
    return meta, X.session(ONNX_PATH)


def close(got, want, tol=1e-5) -> float:
    """Largest error relative to max(|want|, 1): absolute for gains/Q, relative for Hz."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1.0)))


# --- data -----------------------------------------------------------------------------------

def test_normalise_round_trip_exact(dataset):
    rng = np.random.default_rng(0)
    u = rng.uniform(0, 1, (5000, 13))
    for p in (dataset.params, D.denormalise(u), np.array([D.LO, D.HI])):
        assert close(D.denormalise(D.normalise(p)), p) <= 1e-6
    assert np.allclose(D.normalise(np.array([D.LO, D.HI])), [[0.0] * 13, [1.0] * 13], atol=1e-12)
    # gains are linear, frequencies logarithmic: 0 dB -> 0.5; the geometric mid-frequency -> 0.5
    mid = np.sqrt(np.abs(D.LO * D.HI))
    mid[list(D.GAIN_IDX)] = 0.0
    assert np.allclose(D.normalise(mid[None])[0], 0.5, atol=1e-12)
    x = D.normalise(dataset.params)
    assert x.min() >= 0.0 and x.max() <= 1.0


def test_descriptor_stemming_and_junk():
    assert D.stem("  Brighter ") == "bright"
    assert D.stem("AIRY") == "air"
    assert D.stem("warmer") == "warm"
    assert D.stem("Warm   drums") == "warm"
    for junk in ("test", "Test ", "re27", "123", "", "   ", "4.5"):
        assert D.stem(junk) == "", junk


def test_peaking_bands_sorted_and_carried(dataset):
    f = dataset.params[:, [3, 6, 9]]
    assert np.all(np.diff(f, axis=1) >= 0)
    row = np.array([[0, 100, 1.0, 3000, 2.0, 2.0, 200, 3.0, 3.0, 250, 4.0, 5.0, 5000]], float)
    s = D.sort_peaks(row)[0]
    assert list(s[[3, 6, 9]]) == [200, 250, 3000]
    assert list(s[[2, 5, 8]]) == [2.0, 3.0, 1.0] and list(s[[4, 7, 10]]) == [3.0, 4.0, 2.0]
    assert np.all((dataset.params >= D.LO) & (dataset.params <= D.HI))


def test_cleaning_drops_duplicates_junk_and_rare_terms():
    head = ["ID", "Descriptors", "user_pseudonym", "numInputs", "numOutputs"] + [f"p{k}" for k in range(13)]
    base = [0, 150, 0, 560, 0.71, 0, 1000, 0.71, 0, 3300, 0.71, 0, 8200]

    def row(desc, user, gain=0.0):
        vals = [str(v) for v in base]
        vals[0] = str(gain)
        return dict(zip(head, ["1", desc, user, "1", "1"] + vals))

    # 3 exact duplicates (case and spacing of the descriptor do not make a row new)
    rows = [row("warm", "u1")] * 3 + [row(" Warm ", "u1")] + [row("warm", "u3")]
    rows += [row("warm", "u2", g) for g in (1, 2, 3)] + [row("test", "u3")] * 9 + [row("rare", "u4")] * 2
    ds = D.clean(rows, min_examples=5)
    assert list(ds.terms) == ["warm"] * 5
    assert sorted(ds.contributors) == ["u1", "u2", "u2", "u2", "u3"]
    assert len(D.clean(rows[:4] + rows[5:], min_examples=5)) == 0  # 4 warm rows: below the threshold


def test_split_by_contributor(dataset):
    tr, te = D.split_by_contributor(dataset, seed=0)
    assert not set(dataset.contributors[tr]) & set(dataset.contributors[te])
    assert tr.sum() + te.sum() == len(dataset) and not np.any(tr & te)
    assert {"warm", "bright"} <= set(dataset.terms[te])
    tr2, _ = D.split_by_contributor(dataset, seed=0)
    assert np.array_equal(tr, tr2)
    for t in np.unique(dataset.terms):  # every term keeps training rows for its centroid
        assert np.sum(dataset.terms[tr] == t) >= 3


# --- filter maths -----------------------------------------------------------------------------

def test_rbj_response_landmarks():
    f = np.array([20.0, 1000.0, 20000.0])
    flat = np.array([0, 150, 0, 560, 0.71, 0, 1000, 0.71, 0, 3300, 0.71, 0, 8200], float)
    assert np.allclose(np.asarray(eq.response_db(flat[None], f)), 0.0, atol=1e-9)
    peak = flat.copy()
    peak[5], peak[6], peak[7] = 6.0, 1000.0, 2.0
    assert abs(float(eq.response_db(peak[None], f)[0, 1]) - 6.0) < 1e-6  # peak gain at centre
    shelves = flat.copy()
    shelves[0], shelves[1], shelves[11], shelves[12] = -9.0, 200.0, 4.0, 2000.0
    r = np.asarray(eq.response_db(shelves[None], np.array([20.0, 200.0, 2000.0, 20000.0])))[0]
    assert abs(r[0] + 9.0) < 0.2 and abs(r[3] - 4.0) < 0.2  # shelves reach their gain
    assert abs(r[1] + 4.5) < 0.2 and abs(r[2] - 2.0) < 0.2  # half the gain at the corner


# --- quick training run ------------------------------------------------------------------------

def test_decoder_bounds_hold_for_random_and_extreme_latents(quick_run):
    model = quick_run["model"]
    d = model.cfg.latent_dim
    rng = np.random.default_rng(3)
    z = np.concatenate([rng.normal(0, 5, (2000, d)), rng.uniform(-1e6, 1e6, (2000, d)),
                        rng.choice(EXTREMES, (500, d)), np.full((1, d), 1e6), np.full((1, d), -1e6)])
    sess = X.session(quick_run["paths"]["onnx"])
    for p in (np.asarray(X.decoder_fn_f32(model)(z.astype(np.float32))), X.run_onnx(sess, z)):
        assert E.valid(p).all()
    # NaN is documented to decode like a 0 coordinate
    nan_row = X.run_onnx(sess, np.array([[np.nan] * d], np.float32))
    assert np.array_equal(nan_row, X.run_onnx(sess, np.zeros((1, d), np.float32)))


def test_onnx_matches_jax(quick_run):
    model = quick_run["model"]
    rng = np.random.default_rng(4)
    z = rng.normal(0, 2, (500, model.cfg.latent_dim)).astype(np.float32)
    sess = X.session(quick_run["paths"]["onnx"])
    assert close(X.run_onnx(sess, z), np.asarray(X.decoder_fn_f32(model)(z))) <= 1e-5
    # and the float64 training-time decoder agrees with the float32 export
    assert close(X.run_onnx(sess, z), model.decode(z.astype(np.float64))) <= 1e-4


def test_quick_run_writes_consistent_outputs(quick_run):
    p, meta = quick_run["paths"], quick_run["meta"]
    on_disk = json.loads(p["meta"].read_text())
    assert on_disk["latent_dim"] == meta["latent_dim"] and on_disk["terms"] == meta["terms"]
    assert p["report"].read_text().startswith("# Semantic EQ morph model")
    for name in ("eq_terms.png", "eq_morph.png", "eq_latent.png"):
        assert (p["img"] / name).stat().st_size > 1000
    fx = json.loads(p["fixtures"].read_text())
    sess = X.session(p["onnx"])
    for case in fx["latents"]:
        assert close(X.run_onnx(sess, np.array([case["latent"]]))[0], case["params"]) <= 1e-6


# --- committed model -------------------------------------------------------------------------

def test_committed_meta_matches_onnx(committed):
    meta, sess = committed
    model = onnx.load(ONNX_PATH)
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) <= 21
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    assert inp.name == meta["onnx_input"] == "latent" and out.name == meta["onnx_output"] == "params"
    assert inp.shape[1] == meta["latent_dim"] and out.shape[1] == 13
    assert not isinstance(inp.shape[0], int)  # dynamic batch
    assert meta["format_version"] == 1 and tuple(meta["param_order"]) == D.PARAM_ORDER
    assert [meta["ranges"][n] for n in D.PARAM_ORDER] == [list(r) for r in D.RANGES]
    assert {"warm", "bright"} <= {t["name"] for t in meta["terms"]}
    for t in meta["terms"]:
        assert len(t["centroid"]) == len(t["spread"]) == meta["latent_dim"] and t["count"] >= 3
    assert meta["training_data_sha256"] == D.sha256_of(D.csv_path())
    assert ONNX_PATH.stat().st_size < 200_000 and META_PATH.stat().st_size < 200_000
    z = np.zeros((7, meta["latent_dim"]), np.float32)
    assert X.run_onnx(sess, z).shape == (7, 13)


def test_committed_fixtures_reproduce(committed):
    meta, sess = committed
    fx = json.loads(FIXTURES_PATH.read_text())
    assert len(fx["latents"]) >= 10 and len(fx["decode"]) >= 10
    for case in fx["latents"]:
        assert close(X.run_onnx(sess, np.array([case["latent"]]))[0], case["params"]) <= 1e-5
    for c in fx["decode"]:
        got = X.decode(meta, sess, c["term_a"], c["term_b"], c["morph"], c["intensity"])
        assert close(got, c["params"]) <= 1e-5


def test_reference_decode_semantics(committed):
    meta, sess = committed
    g = list(D.GAIN_IDX)
    assert np.all(X.decode(meta, sess, "warm", "bright", 0.4, 0.0)[g] == 0.0)
    one = X.decode(meta, sess, "warm", "bright", 0.4, 1.0)
    assert np.allclose(X.decode(meta, sess, "warm", "bright", 0.4, 5.0)[g], np.clip(2 * one[g], -12, 12))
    assert np.array_equal(X.decode(meta, sess, "warm", "bright", 1.7, 1.0), X.decode(meta, sess, "bright", "warm", 0.0, 1.0))
    assert np.array_equal(X.decode(meta, sess, " WARM", "bright", float("nan"), 1.0), X.decode(meta, sess, "warm", "warm", 0, 1))
    with pytest.raises(KeyError):
        X.decode(meta, sess, "warm", "crunchy-purple", 0.5, 1.0)


@pytest.mark.parametrize("fs,steps", [(44100.0, 11), (48000.0, 21)])
def test_committed_warm_to_bright_tilt_monotonic(committed, fs, steps):
    meta, sess = committed
    p = np.stack([X.decode(meta, sess, "warm", "bright", m, 1.0) for m in np.linspace(0, 1, steps)])
    tilt = eq.tilt_db(p.astype(np.float64), fs)
    assert np.all(np.diff(tilt) < 0), tilt
    assert tilt[0] > 0 > tilt[-1], tilt


def test_committed_model_says_something_per_term(committed):
    meta, sess = committed
    for t in meta["terms"]:
        p = X.decode(meta, sess, t["name"], t["name"], 0.0, 1.0)
        assert np.abs(np.asarray(eq.response_db(p[None].astype(np.float64), eq.log_grid(200)))).max() > 0.5, t["name"]
