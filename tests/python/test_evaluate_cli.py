"""`musichal evaluate` gives mir_eval's note onset F1 and frame F1 (issue #16).

A corpus is trained on a short recording whose notes are *given* by an estimate MIDI file
(`musichal train take.wav --notes est.mid`): the corpus then holds exactly those notes. The
command scores them against a reference MIDI file; mir_eval scores the same two files as
pretty_midi reads them. The estimates are the reference with missed notes, onsets shifted
around the 50 ms tolerance, semitone errors and extra notes, so the scores are partial.
"""

from __future__ import annotations

import json
import os
import subprocess
import wave
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from notes_support import REPO_ROOT
from test_notes_metrics import mir_eval_scores, random_case


@pytest.fixture(scope="session")
def musichal_bin() -> Path:
    path = os.environ.get("MUSICHAL_BIN")
    if path:
        exe = Path(path)
    else:
        out = subprocess.run(
            ["cargo", "build", "-p", "musichal-cli", "--message-format=json"],
            cwd=REPO_ROOT, capture_output=True, text=True,
        )
        assert out.returncode == 0, out.stderr[-4000:]
        exe = next(
            Path(m["executable"])
            for m in map(json.loads, out.stdout.splitlines())
            if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "musichal"
        )
    assert exe.is_file(), f"musichal not found at {exe}"
    return exe


def write_midi(path: Path, notes) -> None:
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0)
    for on, off, pitch in notes:
        inst.notes.append(pretty_midi.Note(velocity=90, pitch=int(pitch), start=on, end=off))
    pm.instruments.append(inst)
    pm.write(str(path))


def read_midi(path: Path):
    pm = pretty_midi.PrettyMIDI(str(path))
    return [(n.start, n.end, n.pitch) for i in pm.instruments if not i.is_drum for n in i.notes]


def write_take(path: Path, seconds: float) -> None:
    rate = 22050
    t = np.arange(int(seconds * rate)) / rate
    x = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 1.5 * t))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((x * 32767).astype("<i2").tobytes())


def test_evaluate_equals_mir_eval_on_given_notes(musichal_bin, tmp_path):
    rng = np.random.default_rng(16)
    partial = 0
    for case in range(12):
        ref, est = random_case(rng, 1 + case)  # kind % 7 != 0: never an empty reference
        est = [n for n in est if n[1] > n[0]]
        if not ref or not est:
            continue
        case_dir = tmp_path / f"case{case}"
        case_dir.mkdir()
        take = case_dir / "take.wav"
        write_take(take, 9.0)
        write_midi(case_dir / "est.mid", est)
        write_midi(case_dir / "take.mid", ref)
        mhc = case_dir / "c.mhc"
        subprocess.run(
            [musichal_bin, "train", take, "--notes", case_dir / "est.mid", "-o", mhc],
            check=True, capture_output=True,
        )
        out = subprocess.run(
            [musichal_bin, "evaluate", "--json", "--corpus", mhc, "--midi", case_dir / "take.mid"],
            check=True, capture_output=True, text=True,
        )
        got = json.loads(out.stdout)["files"][0]
        want = mir_eval_scores(read_midi(case_dir / "take.mid"), read_midi(case_dir / "est.mid"))
        assert (got["note_precision"], got["note_recall"], got["note_f1"]) == pytest.approx(
            want["note"], abs=1e-12), (case, got, want)
        assert (got["frame_precision"], got["frame_recall"], got["frame_f1"]) == pytest.approx(
            want["frame"], abs=1e-12), (case, got, want)
        partial += 0 < want["note"][2] < 1
    assert partial >= 6, partial
