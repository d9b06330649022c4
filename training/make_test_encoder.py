"""Write the small ONNX waveform encoder the Rust tests use for the `onnx:<path>` encoder path.

The model is a bank of 16 windowed complex oscillators, a strided convolution like the front
end of wav2vec 2.0 / MERT (window 400 samples, hop 160 at 16 kHz, 100 frames/s):

    features[0, k, j] = ln(1 + 100 * (c_k(j)^2 + s_k(j)^2)),
    c_k(j) = sum_i h[i] cos(2 pi f_k i / 16000) x[j * 160 + i],   s_k: the same with sin,
    h[i] = 0.5 - 0.5 cos(2 pi i / 400),   f_k = 100 * 2^(k / 3) Hz,   i = 0..399, k = 0..15.

Input `audio`: float32 [1, samples]; output `features`: float32 [1, 16, frames] (the
"dim_frames" layout, so the tests also cover the transposed case). The sidecar says so, with
`context_frames` 2 so that the tests exercise past context too. The formula above is the single
definition of the model; `tests/perception_onnx.rs` restates it and computes the expected rows
itself, so the test checks the whole path against plain arithmetic, not against this output.

Usage (from the repository root): python training/make_test_encoder.py
Needs only numpy and the `onnx` package (pinned in training/requirements.txt).
"""

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RATE = 16_000
HOP = 160
WINDOW = 400
DIM = 16
CONTEXT_FRAMES = 2

OUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "onnx_encoder"
MODEL = OUT_DIR / "oscillator_bank.onnx"
SIDECAR = OUT_DIR / "oscillator_bank.onnx.json"


def band_hz() -> np.ndarray:
    return 100.0 * 2.0 ** (np.arange(DIM) / 3.0)


def kernels() -> np.ndarray:
    """Conv weights [2 * DIM, 1, WINDOW]: cosine kernels, then sine kernels."""
    i = np.arange(WINDOW)
    h = 0.5 - 0.5 * np.cos(2 * np.pi * i / WINDOW)
    phase = 2 * np.pi * np.outer(band_hz(), i) / RATE
    w = np.concatenate([h * np.cos(phase), h * np.sin(phase)])
    return w.astype(np.float32)[:, None, :]


def reference(audio: np.ndarray) -> np.ndarray:
    """The formula in plain numpy: [DIM, frames] for a 1-D signal."""
    frames = (len(audio) - WINDOW) // HOP + 1
    w = kernels()[:, 0, :].astype(np.float64)
    windows = np.stack([audio[j * HOP : j * HOP + WINDOW] for j in range(frames)], axis=1)
    z = w @ windows
    return np.log1p(100.0 * (z[:DIM] ** 2 + z[DIM:] ** 2))


def build() -> onnx.ModelProto:
    audio = helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, "samples"])
    feats = helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, DIM, "frames"])
    nodes = [
        helper.make_node("Unsqueeze", ["audio", "axis1"], ["x"]),
        helper.make_node("Conv", ["x", "W"], ["z"], strides=[HOP]),
        helper.make_node("Mul", ["z", "z"], ["z2"]),
        helper.make_node("Reshape", ["z2", "pairs"], ["z2p"]),
        helper.make_node("ReduceSum", ["z2p", "axis1"], ["energy"], keepdims=0),
        helper.make_node("Mul", ["energy", "hundred"], ["scaled"]),
        helper.make_node("Add", ["scaled", "one"], ["shifted"]),
        helper.make_node("Log", ["shifted"], ["features"]),
    ]
    init = [
        numpy_helper.from_array(kernels(), "W"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        numpy_helper.from_array(np.array([1, 2, DIM, -1], dtype=np.int64), "pairs"),
        numpy_helper.from_array(np.array(100.0, dtype=np.float32), "hundred"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
    ]
    graph = helper.make_graph(nodes, "oscillator_bank", [audio], [feats], initializer=init)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="musichal-tests"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def sidecar() -> dict:
    return {
        "format": "musichal-encoder",
        "version": 1,
        "sample_rate": RATE,
        "hop": HOP,
        "window": WINDOW,
        "dim": DIM,
        "context_frames": CONTEXT_FRAMES,
        "input": "audio",
        "output": "features",
        "output_layout": "dim_frames",
        "description": "test model: 16 windowed oscillators, see training/make_test_encoder.py",
    }


def sidecar_text() -> str:
    return json.dumps(sidecar(), indent=2) + "\n"


if __name__ == "__main__":
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    MODEL.write_bytes(build().SerializeToString())
    SIDECAR.write_text(sidecar_text())
    print(f"wrote {MODEL} ({MODEL.stat().st_size} bytes) and {SIDECAR}")
