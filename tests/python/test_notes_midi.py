"""Our MIDI reader (src/notes/midi_file.rs) gives pretty_midi's notes, to the bit."""

from __future__ import annotations

import warnings

import pretty_midi
import pytest

from notes_support import FIXTURES, run_tool


def pretty_midi_notes(path):
    with warnings.catch_warnings():
        # tempo_map.mid has a tempo event outside track 0 on purpose.
        warnings.simplefilter("ignore", RuntimeWarning)
        pm = pretty_midi.PrettyMIDI(str(path))
    return sorted(
        (n.start, n.end, n.pitch, n.velocity, inst.program, inst.is_drum)
        for inst in pm.instruments
        for n in inst.notes
    )


def our_notes(tool, path):
    return sorted(
        (n["onset_s"], n["offset_s"], n["pitch"], n["velocity"], n["program"], n["channel"] == 9)
        for n in run_tool(tool, "midi-notes", path)
    )


@pytest.mark.parametrize("name", ["tempo_map.mid", "random_format0.mid"])
def test_committed_midi_fixtures_read_as_pretty_midi_reads_them(tool, name):
    path = FIXTURES / "midi" / name
    ref = pretty_midi_notes(path)
    ours = our_notes(tool, path)
    assert len(ref) > 10
    assert ours == ref


def test_tempo_map_fixture_exercises_what_it_claims(tool):
    """The hand-written file's notes, derived by hand from its tempo map (120 BPM, 150 from
    tick 300, 60 and then 80 from tick 960, ~180 from 1500, 30 from 2400; 240 ticks/quarter)."""
    ours = our_notes(tool, FIXTURES / "midi" / "tempo_map.mid")
    q120, q150, q80 = 0.5 / 240, 0.4 / 240, 0.75 / 240
    t300 = 300 * q120
    t960 = t300 + 660 * q150
    t1500 = t960 + 540 * q80
    q180, q30 = 0.333333 / 240, 2.0 / 240
    # Channel 0: 60 (0-360), 64 (120-480) and (400-480) closed by one off, 64 (480-720),
    # 67 (240-960), 72 (1000-1500), 74 (1600-2600); the program is the one at the note's end
    # (6 from tick 900); no 69 (on and off on one tick), no 76 (never closed).
    want = [
        (0.0, t300 + 60 * q150, 60, 100, 5),
        (120 * q120, t300 + 180 * q150, 64, 90, 5),
        (240 * q120, t960, 67, 80, 6),
        (t300 + 100 * q150, t300 + 180 * q150, 64, 70, 5),
        (t300 + 180 * q150, t300 + 420 * q150, 64, 60, 5),
        (t960 + 40 * q80, t1500, 72, 127, 6),
        (t1500 + 100 * q180, t1500 + 900 * q180 + 200 * q30, 74, 1, 6),
    ]
    ch0 = [(a, b, p, v, prog) for a, b, p, v, prog, drum in ours if not drum and prog in (5, 6)]
    assert [w[2:] for w in want] == [c[2:] for c in ch0]
    for w, c in zip(want, ch0):
        assert c[:2] == pytest.approx(w[:2], abs=1e-12), (c, w)
    assert sum(1 for n in ours if n[5]) == 3  # three drum notes


def test_rendered_music_midi_reads_as_pretty_midi_reads_it(tool, music_22050):
    """The test music's own files: format 0 (chorales) and format 1 (ensembles)."""
    for piece in music_22050:
        ref = pretty_midi_notes(piece["mid"])
        assert len(ref) == len(piece["notes"]), piece["name"]
        assert our_notes(tool, piece["mid"]) == ref, piece["name"]
