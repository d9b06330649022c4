"""Shared fixtures of the notes parity tests: our Rust side (examples/notes_tool.rs) and the
rendered test music. Nothing here skips: a missing tool, model, ONNX Runtime or FluidSynth
fails the test that needs it, with the reason.

Environment:
- MUSICHAL_NOTES_TOOL: the built notes_tool (otherwise `cargo build --example notes_tool` is
  run from the repository root and its path taken from cargo);
- ORT_DYLIB_PATH, MUSICHAL_BASIC_PITCH_PATH: passed on to the tool (what `cargo xtask test`
  sets for the Rust tests).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from notes_support import build_tool, run_tool


@pytest.fixture(scope="session")
def tool() -> Path:
    path = os.environ.get("MUSICHAL_NOTES_TOOL")
    exe = Path(path) if path else build_tool()
    assert exe.is_file(), f"notes_tool not found at {exe}; build it with cargo build --example notes_tool"
    return exe


@pytest.fixture(scope="session")
def basic_pitch_model():
    """basic-pitch's own ONNX model, loaded through basic-pitch with the ONNX backend."""
    logging.disable(logging.WARNING)  # one warning per backend basic_pitch cannot import
    import basic_pitch
    import basic_pitch.inference as bpi

    logging.disable(logging.NOTSET)
    assert not (basic_pitch.TF_PRESENT or basic_pitch.TFLITE_PRESENT or basic_pitch.CT_PRESENT), (
        "tensorflow, tflite-runtime or coremltools is installed in this venv; basic-pitch would not "
        "use its ONNX model. Use the venv of tests/python/requirements.txt"
    )
    model = bpi.Model(basic_pitch.ICASSP_2022_MODEL_PATH)
    assert model.model_type == bpi.Model.MODEL_TYPES.ONNX, model.model_type
    return model


def _render(tool: Path, directory: Path, rate: int):
    return run_tool(tool, "render-music", directory, "--rate", rate)


@pytest.fixture(scope="session")
def music_22050(tool, tmp_path_factory):
    """The test music rendered at the model's rate: [{name, mid, wav, notes}, ...]."""
    return _render(tool, tmp_path_factory.mktemp("music_22050"), 22050)


@pytest.fixture(scope="session")
def music_44100(tool, tmp_path_factory):
    """The same music at 44.1 kHz: both sides resample (basic-pitch with soxr_hq, we with rubato)."""
    return _render(tool, tmp_path_factory.mktemp("music_44100"), 44100)
