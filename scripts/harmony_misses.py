"""Where an answer's notes miss the input's harmony, and what a reactive answer can reach
(docs/ANSWERS.md, "A reactive answer's delay").

    musichal render X.wav -o out.wav --midi answer.mid --corpus c.mhc "Transpose Search=6"
    python scripts/harmony_misses.py misses X.mid answer.mid
    python scripts/harmony_misses.py follower DIR          # DIR/*.mid, the input pieces
    python scripts/harmony_misses.py heard X.mid answer.mid [SEGMENT_S]

`misses`: each answer note that starts while the input sounds is a hit (its pitch class sounds
in the input at its onset, as `musichal evaluate` counts harmony) or a miss, classed by where
its pitch class is: in the input's chord of the previous 0.7 s, of the next 0.7 s, in the
input's major key, or out of it; then the hit share by the time since the input's last onset.

`heard`: the answer notes by how long the phrase that plays them had heard the input's
latest onset before it was decided (a phrase is decided at the end of the segment it answers,
segments of SEGMENT_S = 0.35 s from 0, and plays from 30 ms after it): "not heard" notes start
after an onset their phrase could not have heard, the ones Follow Changes can reach. Their
hit shares, and the share all notes would reach if every "not heard" miss were left out.

`follower`: a player who hears the input's chord with a delay d plays, at random times, a
pitch class the input sounded d earlier; its harmony share and the evaluate null (the same
notes shifted by 1 s .. length - 1 s, wrapped), per delay. It bounds what an answer that
follows the chord it heard can reach on pieces whose chords change when they do.
"""

import random
import sys
from collections import Counter
from pathlib import Path

import pretty_midi

MAJOR = (0, 2, 4, 5, 7, 9, 11)
NEAR_S = [0.1 * k for k in range(1, 8)]


def notes(path):
    midi = pretty_midi.PrettyMIDI(str(path))
    return sorted(
        (n.start, n.end, n.pitch) for inst in midi.instruments for n in inst.notes
    )


def sounding(piece, t):
    return {p % 12 for (a, b, p) in piece if a <= t < b}


def misses(input_mid, answer_mid):
    inp, ans = notes(input_mid), notes(answer_mid)
    key = max(range(12), key=lambda k: sum((p - k) % 12 in MAJOR for (_, _, p) in inp))
    onsets = sorted({a for (a, _, _) in inp})
    kinds, since = Counter(), []
    for a, _, p in ans:
        now = sounding(inp, a)
        if not now:
            continue
        pc = p % 12
        before = set().union(*(sounding(inp, a - d) for d in NEAR_S))
        after = set().union(*(sounding(inp, a + d) for d in NEAR_S))
        if pc in now:
            kinds["hit"] += 1
        elif pc in before:
            kinds["miss: in the chord the input just left"] += 1
        elif pc in after:
            kinds["miss: in the chord the input goes to"] += 1
        elif (pc - key) % 12 in MAJOR:
            kinds["miss: in key, not near"] += 1
        else:
            kinds["miss: out of key"] += 1
        last = max((o for o in onsets if o <= a), default=0.0)
        since.append((a - last, pc in now))
    total = sum(kinds.values())
    for kind, n in sorted(kinds.items()):
        print(f"{kind:42s} {n:4d}  {n / max(total, 1):.2f}")
    for lo, hi in ((0.0, 0.2), (0.2, 0.4), (0.4, 0.7), (0.7, float("inf"))):
        hits = [h for (d, h) in since if lo <= d < hi]
        if hits:
            print(
                f"starting {lo:.1f}-{hi:.1f} s after the input's last onset: "
                f"hit {sum(hits) / len(hits):.2f} of {len(hits)}"
            )


def heard(input_mid, answer_mid, segment_s=0.35, margin_s=0.03):
    inp, ans = notes(input_mid), notes(answer_mid)
    onsets = sorted({a for (a, _, _) in inp})
    count, hits = Counter(), Counter()
    for a, _, p in ans:
        now = sounding(inp, a)
        if not now:
            continue
        last = max((o for o in onsets if o <= a), default=None)
        decided = ((a - margin_s) // segment_s) * segment_s
        if last is None or last < decided:
            kind = "heard" if last is None or decided - last >= 0.1 else "heard < 0.1 s"
        else:
            kind = "not heard"
        count[kind] += 1
        hits[kind] += (p % 12) in now
    total, hit = sum(count.values()), sum(hits.values())
    for kind in sorted(count):
        print(f"{kind:14s} {count[kind]:4d} notes, hit {hits[kind] / count[kind]:.2f}")
    left_out = count["not heard"] - hits["not heard"]
    print(f"all {total} notes hit {hit / max(total, 1):.3f}; with the not-heard misses left out "
          f"{hit / max(total - left_out, 1):.3f}")


def follower(directory, delays=(0.0, 0.2, 0.35, 0.5, 0.7), draws=2000, seed=3):
    rng = random.Random(seed)
    pieces = [notes(p) for p in sorted(Path(directory).glob("*.mid"))]
    for d in delays:
        share = null = 0.0
        for piece in pieces:
            length = max(b for (_, b, _) in piece)
            hits = counted = null_hits = null_counted = 0
            for _ in range(draws):
                t = rng.uniform(1.0, length)
                heard, now = sorted(sounding(piece, t - d)), sounding(piece, t)
                if not heard or not now:
                    continue
                pc = rng.choice(heard)
                counted += 1
                hits += pc in now
                shifted = sounding(piece, (t + rng.uniform(1.0, length - 1.0)) % length)
                if shifted:
                    null_counted += 1
                    null_hits += pc in shifted
            share += hits / counted / len(pieces)
            null += null_hits / null_counted / len(pieces)
        print(f"delay {d:.2f} s: share {share:.2f}, null {null:.2f}, {share / null:.2f}x")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "misses":
        misses(sys.argv[2], sys.argv[3])
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "heard":
        heard(sys.argv[2], sys.argv[3], *map(float, sys.argv[4:]))
    elif len(sys.argv) == 3 and sys.argv[1] == "follower":
        follower(sys.argv[2])
    else:
        sys.exit(__doc__)
