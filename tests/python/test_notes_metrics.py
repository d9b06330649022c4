"""Our metrics (src/notes/metrics.rs) equal mir_eval's on random note sets.

- note: mir_eval.transcription.precision_recall_f1_overlap(onset_tolerance=0.05,
  pitch_tolerance=50.0, offset_ratio=None);
- frame: mir_eval.multipitch.metrics precision and recall, F1 by mir_eval.util.f_measure, on
  both note lists rasterised to the 75 frames/s grid: frame k at k / 75 s for
  k < ceil(latest offset * 75), a note sounding when onset <= k / 75 < offset.

Estimates are made from the references with onset shifts at the tolerance's edges (50 ms,
50.05 ms, 50.1 ms, ...), pitch shifts of a semitone, duplicates, and random extra notes, so
that matchings with several candidates per note are common. Equality is exact: both sides
count the same matches and divide the same integers.
"""

from __future__ import annotations

import contextlib
import json
import math
import warnings

import mir_eval
import numpy as np

from notes_support import run_tool

FRAME_RATE = 75.0
EDGE_SHIFTS = [0.0, 0.01, 0.03, 0.049, 0.05, 0.05005, 0.0501, 0.051, 0.08]


def random_case(rng: np.random.Generator, kind: int):
    n_ref = int(rng.integers(0, 40)) if kind % 7 else 0
    step = rng.choice([0.001, 0.005, 0.01])  # onsets on a grid: exact-distance edges happen
    onsets = np.round(rng.uniform(0, 8, n_ref) / step) * step
    pitches = rng.integers(21, 109, n_ref)
    if kind % 3 == 0:  # few pitches: many candidates per note
        pitches = rng.choice([60, 61, 64], n_ref)
    durations = rng.choice([0.02, 0.1, 0.35, 1.0, 2.5], n_ref)
    ref = [(float(o), float(o + d), int(p)) for o, d, p in zip(onsets, durations, pitches)]
    est = []
    for o, off, p in ref:
        r = rng.random()
        if r < 0.15:
            continue  # missed
        shift = float(rng.choice(EDGE_SHIFTS)) * (1 if rng.random() < 0.5 else -1)
        pitch = p + int(rng.choice([0, 0, 0, 1, -1]))
        onset = max(0.0, o + shift)
        est.append((onset, onset + float(rng.choice([0.05, 0.3, off - o])), min(max(pitch, 21), 108)))
        if r > 0.9:
            est.append((onset + 0.02, onset + 0.5, pitch))  # a second candidate nearby
    for _ in range(int(rng.integers(0, 8))):
        o = float(rng.uniform(0, 8))
        est.append((o, o + float(rng.uniform(0.02, 1.0)), int(rng.integers(21, 109))))
    rng.shuffle(est)
    return ref, est


def mir_eval_scores(ref, est):
    def arrays(notes):
        if not notes:
            return np.zeros((0, 2)), np.zeros(0)
        a = np.array(notes, dtype=float)
        return a[:, :2], mir_eval.util.midi_to_hz(a[:, 2])

    ref_int, ref_hz = arrays(ref)
    est_int, est_hz = arrays(est)
    with _quiet():
        p, r, f, _aor = mir_eval.transcription.precision_recall_f1_overlap(
            ref_int, ref_hz, est_int, est_hz, onset_tolerance=0.05, pitch_tolerance=50.0,
            offset_ratio=None)
    latest = max([n[1] for n in ref + est], default=0.0)
    n_frames = math.ceil(latest * FRAME_RATE)
    times = np.arange(n_frames) / FRAME_RATE

    def frames(notes):
        out = [[] for _ in range(n_frames)]
        for on, off, pitch in notes:
            hz = mir_eval.util.midi_to_hz(pitch)
            for k in np.nonzero((times >= on) & (times < off))[0]:
                out[k].append(hz)
        return [np.array(f) for f in out]

    if n_frames == 0:
        fp = fr = 0.0
    else:
        with _quiet():
            scores = mir_eval.multipitch.metrics(times, frames(ref), times, frames(est))
        fp, fr = scores[0], scores[1]
    return {"note": (p, r, f), "frame": (fp, fr, mir_eval.util.f_measure(fp, fr))}


@contextlib.contextmanager
def _quiet():
    """mir_eval warns about empty note lists and frames; those cases are meant."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def as_exact_json(notes):
    # repr strings: exact through serde_json (its default float parsing can be one ulp off)
    return [[repr(on), repr(off), pitch] for on, off, pitch in notes]


def test_note_and_frame_metrics_equal_mir_eval(tool, tmp_path):
    rng = np.random.default_rng(2026)
    cases = [random_case(rng, kind) for kind in range(300)]
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"cases": [
        {"reference": as_exact_json(ref), "estimate": as_exact_json(est)} for ref, est in cases
    ]}))
    ours = run_tool(tool, "metrics", path)
    assert len(ours) == len(cases)
    matched_total = 0
    partial = 0
    for i, ((ref, est), got) in enumerate(zip(cases, ours)):
        want = mir_eval_scores(ref, est)
        note = (got["note"]["precision"], got["note"]["recall"], got["note"]["f1"])
        frame = (got["frame"]["precision"], got["frame"]["recall"], got["frame"]["f1"])
        assert note == want["note"], (i, note, want["note"], ref, est)
        assert frame == want["frame"], (i, frame, want["frame"])
        matched_total += got["matched_notes"]
        partial += 0 < want["note"][2] < 1
    # The cases are not trivial: many matches, and most cases neither all nor nothing.
    assert matched_total > 1000 and partial > 150, (matched_total, partial)


def test_tolerance_edges_match_mir_eval_exactly(tool, tmp_path):
    """One reference note against one estimate at each edge distance, both directions, at
    several absolute times (the f64 difference depends on them)."""
    cases = []
    for base in [0.0, 0.3, 1.0, 2.0, 7.77, 123.456]:
        for shift in EDGE_SHIFTS + [0.04999, 0.05001, 0.05004, 0.05006, 0.05015]:
            for sign in (1, -1):
                on = base + sign * shift
                if on < 0:
                    continue
                cases.append(([(base, base + 1.0, 60)], [(on, on + 1.0, 60)]))
    path = tmp_path / "edges.json"
    path.write_text(json.dumps({"cases": [
        {"reference": as_exact_json(r), "estimate": as_exact_json(e)} for r, e in cases
    ]}))
    ours = run_tool(tool, "metrics", path)
    hits = 0
    for (ref, est), got in zip(cases, ours):
        want = mir_eval_scores(ref, est)["note"]
        assert (got["note"]["precision"], got["note"]["recall"], got["note"]["f1"]) == want, (ref, est)
        hits += want[0] == 1.0
    # Some edge cases match and some do not.
    assert 0 < hits < len(cases)
