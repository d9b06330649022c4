"""Export MERT-v1-95M to the `onnx:<path>` encoder format: `<out>.onnx` + `<out>.onnx.json`.

NEEDS NETWORK ACCESS and PyTorch, which this project's own training deliberately avoids:

    python -m venv .venv-mert && .venv-mert/bin/pip install torch transformers nnAudio onnx onnxruntime
    .venv-mert/bin/python training/export_mert.py --layer 6 -o mert95m_l6.onnx
    musichal train corpus/*.wav --encoder onnx:mert95m_l6.onnx -o corpus.mhc

MERT-v1-95M (m-a-p, CC-BY-NC-4.0: check the licence before you ship a corpus) reads 24 kHz mono
audio through wav2vec 2.0's convolutional front end (receptive field 400 samples, stride 320:
75 frames/s) and a 12-layer transformer of width 768. The exported graph takes `audio`
float32 [1, samples], normalises it as MERT's feature extractor does (zero mean, unit variance
over the call), and returns `features` float32 [1, frames, 768], the hidden state of the chosen
layer, with frames = (samples - 400) // 320 + 1: exactly the frame rule MusicHal checks when it
loads the model. Attention makes a frame depend on the whole call, so the sidecar asks for
`--context-s` seconds of past audio on every call (default 2 s = 150 frames); training and live
use the same context, so their tokens agree.

The script checks the export: ONNX Runtime and PyTorch agree on a random input (max abs
difference printed, must be < 1e-3), and the frame count follows the rule on two lengths.
This script has not been run in the project's CI (no network there); it is the documented route
to a learned encoder. The `onnx:<path>` path itself is tested with a small generated model
(`training/make_test_encoder.py`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

RATE = 24_000
HOP = 320
WINDOW = 400
DIM = 768
MODEL_ID = "m-a-p/MERT-v1-95M"


def frames_for(samples: int) -> int:
    return (samples - WINDOW) // HOP + 1


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", type=Path, required=True, help="output .onnx path")
    ap.add_argument("--layer", type=int, default=6, help="hidden layer 0..12 (0 = conv features)")
    ap.add_argument("--context-s", type=float, default=2.0, help="past audio per call, seconds")
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args(argv)
    if not 0 <= args.layer <= 12:
        ap.error("--layer must be in 0..=12")

    import numpy as np
    import onnxruntime as ort
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(MODEL_ID, trust_remote_code=True).eval()

    class Layer(torch.nn.Module):
        def __init__(self, mert: torch.nn.Module, layer: int):
            super().__init__()
            self.mert = mert
            self.layer = layer

        def forward(self, audio: torch.Tensor) -> torch.Tensor:
            mean = audio.mean(dim=1, keepdim=True)
            var = audio.var(dim=1, keepdim=True, unbiased=False)
            x = (audio - mean) / torch.sqrt(var + 1e-7)
            out = self.mert(x, output_hidden_states=True)
            return out.hidden_states[self.layer]

    wrapper = Layer(model, args.layer).eval()
    dummy = torch.randn(1, RATE * 3)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        wrapper,
        (dummy,),
        str(args.out),
        input_names=["audio"],
        output_names=["features"],
        dynamic_axes={"audio": {1: "samples"}, "features": {1: "frames"}},
        opset_version=args.opset,
    )

    sess = ort.InferenceSession(str(args.out))
    for samples in (RATE * 2, RATE * 2 + 7 * HOP):
        x = np.random.default_rng(samples).standard_normal((1, samples)).astype(np.float32)
        (got,) = sess.run(["features"], {"audio": x})
        with torch.no_grad():
            want = wrapper(torch.from_numpy(x)).numpy()
        assert got.shape == (1, frames_for(samples), DIM), (got.shape, frames_for(samples))
        diff = float(np.abs(got - want).max())
        print(f"{samples} samples: {got.shape[1]} frames, max |onnx - torch| = {diff:.2e}")
        assert diff < 1e-3, "ONNX export disagrees with PyTorch"

    context_frames = round(args.context_s * RATE / HOP)
    sidecar = {
        "format": "musichal-encoder",
        "version": 1,
        "sample_rate": RATE,
        "hop": HOP,
        "window": WINDOW,
        "dim": DIM,
        "context_frames": context_frames,
        "input": "audio",
        "output": "features",
        "output_layout": "frames_dim",
        "n_fft": 2048,
        "description": f"{MODEL_ID} hidden layer {args.layer}, exported by training/export_mert.py",
    }
    side = Path(str(args.out) + ".json")
    side.write_text(json.dumps(sidecar, indent=2) + "\n")
    print(f"wrote {args.out} and {side}")


if __name__ == "__main__":
    main()
