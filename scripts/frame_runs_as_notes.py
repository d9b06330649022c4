"""The "before" row of docs/ANSWERS.md: a corpus' frames read as notes the way the answer engine
reads them (a note is a run of frames holding a pitch; an onset frame re-attacks it), scored
against MIDI with mir_eval (note onset F1 at 50 ms, offsets ignored).

    musichal inspect c.mhc --json > c.json
    python scripts/frame_runs_as_notes.py c.json DIR      # DIR/X.mid for each source X.*

Prints JSON per source file: note F1, notes per second, median note length.
"""

import json
import sys
import warnings
from pathlib import Path

import mir_eval
import numpy as np
import pretty_midi


def runs(frames):
    notes, open_ = [], {}
    for f in frames:
        now = set(f["pitches"])
        for p in list(open_):
            if p not in now or f["onset"]:
                notes.append((open_.pop(p), f["time_s"], p))
        for p in now:
            open_.setdefault(p, f["time_s"])
    end = frames[-1]["time_s"] + frames[-1]["duration_s"] if frames else 0.0
    notes += [(t, end, p) for p, t in open_.items()]
    return notes


def main(dump, directory):
    model = json.load(open(dump))
    out = []
    for idx, name in enumerate(model["source_files"]):
        frames = [f for f in model["frames"] if f["source_idx"] == idx]
        est = runs(frames)
        pm = pretty_midi.PrettyMIDI(str(Path(directory) / (Path(name).stem + ".mid")))
        ref = [(n.start, n.end, n.pitch) for i in pm.instruments if not i.is_drum for n in i.notes]
        a = lambda ns: (np.array([n[:2] for n in ns]).reshape(-1, 2),
                        mir_eval.util.midi_to_hz(np.array([n[2] for n in ns], dtype=float)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, _, f1, _ = mir_eval.transcription.precision_recall_f1_overlap(
                *a(ref), *a(est), onset_tolerance=0.05, pitch_tolerance=50.0, offset_ratio=None)
        dur = len(frames) / model["frames_per_s"]
        out.append({"file": name, "note_f1": f1, "notes_per_s": len(est) / dur,
                    "median_note_s": float(np.median([n[1] - n[0] for n in est]))})
    print(json.dumps({"files": out, "mean_note_f1": float(np.mean([o["note_f1"] for o in out])),
                      "mean_median_note_s": float(np.mean([o["median_note_s"] for o in out]))},
                     indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
