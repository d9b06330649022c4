"""Pieces of independent voices, for the DSP note tracker's onset snapping (src/notes/dsp.rs,
"How far a start snaps back"): a held three-voice chord per bar, a bass in quarter notes and a
legato melody in eighth notes (chord tones on the beats, scale steps between, a rest now and
then), 120 BPM, six bars. The chorale pieces of `notes_tool render-music` strike every voice
together; here most melody notes start while the chord holds and have no onset of their own,
so a snap that reaches back too far moves them onto the note before.

    python scripts/render_voices.py OUT_DIR     # OUT_DIR/X.mid + OUT_DIR/X.wav, six pieces

Standard library only; the WAV files come from fluidsynth with the GM soundfont of Debian's
fluid-soundfont-gm, at 44.1 kHz as the other evaluation sets.
"""

import random
import struct
import subprocess
import sys
from pathlib import Path

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SCALE = [0, 2, 4, 5, 7, 9, 11]
PROGRESSION = [[0, 4, 7], [5, 9, 0], [7, 11, 2], [0, 4, 7], [9, 0, 4], [2, 5, 9]]
BEAT_S = 0.5
TICKS = 480  # per beat
# name: (chord program, melody program, bass program, key)
PIECES = {
    "organ": (19, 19, 19, 0),
    "strings": (48, 40, 42, 2),  # string ensemble, violin, cello
    "piano": (0, 0, 0, 5),
    "winds": (71, 73, 70, 7),  # clarinet, flute, bassoon
    "guitar": (24, 24, 32, 9),
    "mixed": (48, 73, 32, 3),
}


def compose(key, rng):
    """(start s, end s, pitch, velocity, part) of each note; parts 0 chord, 1 melody, 2 bass."""
    notes = []
    melody = 72 + key
    for bar, chord in enumerate(PROGRESSION):
        t = bar * 4 * BEAT_S
        for pc in chord:
            notes.append((t, t + 4 * BEAT_S - 0.02, 60 + (pc + key) % 12, 70, 0))
        for k, pc in enumerate([chord[0], chord[2], chord[0], chord[1]]):
            start = t + k * BEAT_S
            notes.append((start, start + BEAT_S - 0.03, 36 + (pc + key) % 12, 80, 2))
        for k in range(8):
            start = t + k * BEAT_S / 2
            if k % 2 == 0:
                options = [p for p in range(melody - 5, melody + 6) if (p - key) % 12 in chord]
            else:
                options = [
                    p
                    for p in range(melody - 2, melody + 3)
                    if (p - key) % 12 in SCALE and p != melody
                ]
            melody = min(options, key=lambda p: abs(p - melody) + 3 * rng.random())
            melody = max(64 + key, min(84 + key, melody))
            if k % 2 == 1 and rng.random() < 0.15:
                continue  # a rest
            notes.append((start, start + BEAT_S / 2, melody, 90, 1))
    return notes


def var_len(v):
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))


def smf(notes, programs):
    """A format-0 MIDI file: tempo, one program per part (channel = part), the notes."""
    tick = lambda s: round(s / BEAT_S * TICKS)
    events = [(0, bytes([0xFF, 0x51, 3]) + (round(BEAT_S * 1e6)).to_bytes(3, "big"))]
    events += [(0, bytes([0xC0 | ch, prog])) for ch, prog in enumerate(programs)]
    for start, end, pitch, vel, part in notes:
        events.append((tick(start), bytes([0x90 | part, pitch, vel])))
        events.append((tick(end), bytes([0x80 | part, pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1][0] & 0xF0 == 0x90))  # offs before ons at a tick
    track, last = b"", 0
    for at, data in events:
        track += var_len(at - last) + data
        last = at
    track += var_len(0) + bytes([0xFF, 0x2F, 0])
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS)
    return header + b"MTrk" + struct.pack(">I", len(track)) + track


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(5)
    for name, (chord, melody, bass, key) in PIECES.items():
        mid, wav = out / f"{name}.mid", out / f"{name}.wav"
        mid.write_bytes(smf(compose(key, rng), [chord, melody, bass]))
        subprocess.run(
            ["fluidsynth", "-ni", "-g", "0.5", "-F", str(wav), "-r", "44100", SOUNDFONT, str(mid)],
            check=True,
            capture_output=True,
        )
        print(wav)


if __name__ == "__main__":
    main()
