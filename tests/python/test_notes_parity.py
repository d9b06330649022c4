"""Our whole-file Basic Pitch notes (src/notes/basic_pitch.rs through examples/notes_tool.rs)
against basic-pitch 0.4.0's predict() with its ONNX backend, on music rendered by FluidSynth
(four chorales on piano, organ, guitar and strings, and two four-instrument ensembles; about
70 s in all).

- At 22,050 Hz, the model's rate, neither side resamples: our posteriors must be basic-pitch's
  bit for bit and our notes its notes exactly (order, frames, pitches, amplitudes, times,
  velocities).
- At 44.1 kHz basic-pitch resamples with soxr_hq and we with the project's rubato resampler,
  so the posteriors differ slightly; over the rendered set the issue's targets apply: note
  count within 5 % and note onset F1 >= 0.95 at 50 ms (mir_eval, pitch within 50 cents,
  offsets ignored), matches pooled over the pieces.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from pathlib import Path

import mir_eval
import numpy as np
import pytest

from notes_support import run_tool


def reference(model, wav):
    """predict() with its defaults: posteriors, note events and the MIDI velocities it writes."""
    import basic_pitch.inference as bpi

    with contextlib.redirect_stdout(io.StringIO()):
        output, midi, events = bpi.predict(wav, model)
    (instrument,) = midi.instruments
    velocity = {}
    for event, note in zip(sorted(events, key=lambda e: e[:4]), instrument.notes):
        velocity[tuple(float(x) for x in event[:4])] = note.velocity
    notes = [(float(s), float(e), int(p), float(np.float32(a)), velocity[(float(s), float(e), float(p), float(a))])
             for s, e, p, a, _ in events]
    return output, notes


def ours(tool, wav, posteriors_dir=None):
    args = ["bp-notes", wav] + (["--posteriors-out", posteriors_dir] if posteriors_dir else [])
    out = run_tool(tool, *args)
    return out, [(n["start_s"], n["end_s"], n["pitch_midi"], float(np.float32(n["amplitude"])), n["velocity"])
                 for n in out["notes"]]


def onset_matches(ref, est):
    """mir_eval's matched-note count at 50 ms / 50 cents, offsets ignored."""
    if not ref or not est:
        return 0
    ri = np.array([[n[0], n[1]] for n in ref])
    ei = np.array([[n[0], n[1]] for n in est])
    rp = mir_eval.util.midi_to_hz(np.array([n[2] for n in ref], dtype=float))
    ep = mir_eval.util.midi_to_hz(np.array([n[2] for n in est], dtype=float))
    return len(mir_eval.transcription.match_notes(ri, rp, ei, ep, onset_tolerance=0.05,
                                                  pitch_tolerance=50.0, offset_ratio=None))


def test_same_model_file():
    """Parity only means something if both sides run the same network."""
    import basic_pitch

    ours_path = os.environ.get("MUSICHAL_BASIC_PITCH_PATH")
    assert ours_path, "set MUSICHAL_BASIC_PITCH_PATH to target/bundled/nmp.onnx (cargo xtask fetch-basic-pitch)"
    digest = lambda p: hashlib.sha256(Path(p).read_bytes()).hexdigest()  # noqa: E731
    assert digest(ours_path) == digest(basic_pitch.ICASSP_2022_MODEL_PATH)


def test_at_22050_hz_posteriors_and_notes_are_the_reference(tool, basic_pitch_model, music_22050, tmp_path):
    total = 0
    for piece in music_22050:
        post_dir = tmp_path / piece["name"]
        out, notes = ours(tool, piece["wav"], post_dir)
        ref_output, ref_notes = reference(basic_pitch_model, piece["wav"])
        for key in ("note", "onset", "contour"):
            mine = np.load(post_dir / f"{key}.npy")
            assert mine.shape == ref_output[key].shape, (piece["name"], key)
            assert np.array_equal(mine, ref_output[key]), (
                piece["name"], key, float(np.abs(mine - ref_output[key]).max()))
        assert notes == ref_notes, piece["name"]
        total += len(notes)
    assert total > 200


def test_at_44100_hz_note_count_within_5_percent_and_onset_f1_at_least_0_95(
        tool, basic_pitch_model, music_44100):
    n_ref = n_ours = matched = 0
    report = []
    for piece in music_44100:
        _, notes = ours(tool, piece["wav"])
        _, ref_notes = reference(basic_pitch_model, piece["wav"])
        m = onset_matches(ref_notes, notes)
        report.append(f"{piece['name']}: reference {len(ref_notes)}, ours {len(notes)}, "
                      f"F1 {2 * m / (len(ref_notes) + len(notes)):.3f}")
        n_ref += len(ref_notes)
        n_ours += len(notes)
        matched += m
    f1 = 2 * matched / (n_ref + n_ours)
    print("\n".join(report + [f"all: reference {n_ref}, ours {n_ours}, F1 {f1:.4f}"]))
    assert n_ref > 300
    assert abs(n_ours - n_ref) <= 0.05 * n_ref, report
    assert f1 >= 0.95, report


@pytest.mark.parametrize("flags", [["--no-melodia"], ["--min-freq", "80", "--max-freq", "1200"]])
def test_options_decode_committed_posteriors_as_the_reference(tool, flags, tmp_path):
    """The tool's decode options reach the decoder (the fixture test checks the decoder)."""
    import json

    from notes_support import FIXTURES

    doc = json.loads((FIXTURES / "ensemble" / "expected.json").read_text())
    name = "no_melodia" if flags == ["--no-melodia"] else "freq_limits"
    (case,) = [c for c in doc["cases"] if c["name"] == name]
    out = run_tool(tool, "bp-decode", FIXTURES / "ensemble", *flags)
    got = [[n["start_frame"], n["end_frame"], n["pitch_midi"]] for n in out["notes"]]
    assert got == [n[:3] for n in case["notes"]]
