"""Basic Pitch's own Python inference (basic-pitch 0.4.0, ONNX backend) scored against MIDI:
the reference row of docs/ANSWERS.md.

    python scripts/basic_pitch_reference.py DIR        # DIR/X.wav against DIR/X.mid, each X

Prints JSON: per file note onset F1 (50 ms, 50 cents, offsets ignored), frame F1 is left to
`musichal evaluate`; notes per second and median note length. Needs the venv of
tests/python/requirements.txt plus basic-pitch --no-deps (what `cargo xtask test` builds in
target/venv-bp).
"""

import json
import logging
import sys
import warnings
from pathlib import Path

import mir_eval
import numpy as np
import pretty_midi

logging.disable(logging.WARNING)
import basic_pitch  # noqa: E402
import basic_pitch.inference as bpi  # noqa: E402

logging.disable(logging.NOTSET)


def notes_of_midi(path):
    pm = pretty_midi.PrettyMIDI(str(path))
    return [(n.start, n.end, n.pitch) for i in pm.instruments if not i.is_drum for n in i.notes]


def main(directory):
    model = bpi.Model(basic_pitch.ICASSP_2022_MODEL_PATH)
    rows = []
    for wav in sorted(Path(directory).glob("*.wav")):
        mid = wav.with_suffix(".mid")
        if not mid.is_file():
            continue
        _, midi_data, _ = bpi.predict(str(wav), model)
        est = [(n.start, n.end, n.pitch) for i in midi_data.instruments for n in i.notes]
        ref = notes_of_midi(mid)
        a = lambda notes: (np.array([n[:2] for n in notes]).reshape(-1, 2),
                           mir_eval.util.midi_to_hz(np.array([n[2] for n in notes], dtype=float)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
                *a(ref), *a(est), onset_tolerance=0.05, pitch_tolerance=50.0, offset_ratio=None)
        rows.append({"file": wav.name, "note_f1": f, "notes": len(est),
                     "median_note_s": float(np.median([n[1] - n[0] for n in est])) if est else None})
    print(json.dumps({"files": rows, "mean_note_f1": float(np.mean([r["note_f1"] for r in rows]))},
                     indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
