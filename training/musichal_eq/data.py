"""SAFE-DB equaliser data: cleaning, term stemming, contributor split and normalisation.

Everything here is plain numpy and deterministic, so the tests can check it exactly and the
Rust side can rely on the normalisation being the plug-in's own parameter ranges.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
# The pseudonymised SAFE-DB copy is committed with the code (provenance and licence note in its
# README), so a fresh clone trains and tests without anything beside the repository.
DATA_DIR = REPO_ROOT / "training" / "data" / "safe-db"
CSV_NAME = "SAFEEqualiserUserData.pseudonymised.csv"

PARAM_ORDER: tuple[str, ...] = (
    "ls_gain_db", "ls_freq_hz",
    "p1_gain_db", "p1_freq_hz", "p1_q",
    "p2_gain_db", "p2_freq_hz", "p2_q",
    "p3_gain_db", "p3_freq_hz", "p3_q",
    "hs_gain_db", "hs_freq_hz",
)
UNITS: tuple[str, ...] = tuple(
    "dB" if n.endswith("_db") else "Hz" if n.endswith("_hz") else "Q" for n in PARAM_ORDER
)
# The SAFE plug-in's own slider ranges (semanticaudio/SAFE PluginProcessor.cpp), per column.
RANGES: tuple[tuple[float, float], ...] = (
    (-12.0, 12.0), (22.0, 1000.0),
    (-12.0, 12.0), (82.0, 3900.0), (0.1, 10.0),
    (-12.0, 12.0), (180.0, 4700.0), (0.1, 10.0),
    (-12.0, 12.0), (220.0, 10000.0), (0.1, 10.0),
    (-12.0, 12.0), (580.0, 20000.0),
)
GAIN_IDX = (0, 2, 5, 8, 11)
FREQ_IDX = (1, 3, 6, 9, 12)
Q_IDX = (4, 7, 10)
PEAK_BANDS = ((2, 3, 4), (5, 6, 7), (8, 9, 10))  # (gain, freq, q) columns of P1..P3
SHELF_Q = 0.71
IS_LOG = np.array([PARAM_ORDER[i].endswith(("_hz", "_q")) for i in range(13)])
LO = np.array([r[0] for r in RANGES])
HI = np.array([r[1] for r in RANGES])
# Normalisation works on log10 for frequencies and Q: equal steps are equal ratios, which is
# how both ears and the plug-in's skewed sliders treat them.
NLO = np.where(IS_LOG, np.log10(np.abs(LO)), LO)
NHI = np.where(IS_LOG, np.log10(np.abs(HI)), HI)

JUNK = frozenset({"test", "re27", "default"})
# Comparatives and adjective forms folded onto one stem (FlowEQ folds brighter/airy too).
STEMS = {
    "brighter": "bright", "brightness": "bright", "airy": "air", "airier": "air",
    "warmer": "warm", "warmth": "warm", "fuller": "full", "clearer": "clear",
    "thinner": "thin", "deeper": "deep", "muddier": "muddy", "mud": "muddy",
    "tinnier": "tinny", "darker": "dark", "boomier": "boomy", "harsher": "harsh",
    "crisper": "crisp", "crispy": "crisp", "boxier": "boxy", "sharper": "sharp",
}
MIN_EXAMPLES = 5


@dataclass(frozen=True)
class Dataset:
    """Cleaned rows: term per row, contributor per row, params [n, 13] in physical units."""

    terms: np.ndarray  # str
    contributors: np.ndarray  # str
    params: np.ndarray  # float64 [n, 13]

    def subset(self, mask: np.ndarray) -> "Dataset":
        return Dataset(self.terms[mask], self.contributors[mask], self.params[mask])

    def __len__(self) -> int:
        return len(self.terms)


def csv_path(data_dir: Path = DATA_DIR) -> Path:
    return data_dir / CSV_NAME


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def normalise_descriptor(raw: str) -> str:
    """Trim, lower-case and collapse whitespace, as the dataset README counts descriptors."""
    return " ".join(raw.strip().lower().split())


def stem(descriptor: str) -> str:
    """First word of the normalised descriptor, edge punctuation removed, comparatives folded.

    Returns "" for junk (empty, plug-in tests, numbers) so callers drop the row.
    """
    words = normalise_descriptor(descriptor).split(" ")
    word = re.sub(r"^[^a-z0-9]+|[^a-z0-9]+$", "", words[0]) if words else ""
    word = STEMS.get(word, word)
    if not word or word in JUNK or re.fullmatch(r"[0-9.,\-]+", word):
        return ""
    return word


def sort_peaks(params: np.ndarray) -> np.ndarray:
    """Sort the three peaking bands by centre frequency, carrying gain and Q along.

    The bands' ranges overlap, so the same setting can be entered in several band orders;
    sorting gives one canonical order. Sorting never leaves a slot's range: the k-th smallest
    of three values, each in its own band range, lies within band k's range because the range
    bounds are themselves increasing (82<180<220, 3900<4700<10000); the Q ranges are shared.
    """
    out = params.copy()
    bands = np.stack([params[:, list(b)] for b in PEAK_BANDS], axis=1)  # [n, 3, (g, f, q)]
    order = np.argsort(bands[:, :, 1], axis=1, kind="stable")
    bands = np.take_along_axis(bands, order[:, :, None], axis=1)
    for k, cols in enumerate(PEAK_BANDS):
        out[:, list(cols)] = bands[:, k, :]
    return out


def load_raw(path: Path | None = None) -> list[dict[str, str]]:
    with open(path or csv_path(), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def clean(rows: list[dict[str, str]], min_examples: int = MIN_EXAMPLES) -> Dataset:
    """Stem terms, drop junk and exact duplicates, sort peaks, keep terms with enough rows."""
    header = list(rows[0].keys()) if rows else []
    pcols = header[5:18]
    seen: set[tuple] = set()
    terms, users, params = [], [], []
    for r in rows:
        term = stem(r["Descriptors"])
        if not term:
            continue
        p = tuple(float(r[c]) for c in pcols)
        key = (normalise_descriptor(r["Descriptors"]), r["user_pseudonym"], p)
        if key in seen:  # same descriptor, contributor and 13 parameters: a double submit
            continue
        seen.add(key)
        terms.append(term)
        users.append(r["user_pseudonym"])
        params.append(p)
    ds = Dataset(np.array(terms), np.array(users), sort_peaks(np.array(params, dtype=np.float64)))
    names, counts = np.unique(ds.terms, return_counts=True)
    keep = set(names[counts >= min_examples])
    return ds.subset(np.array([t in keep for t in ds.terms]))


def split_by_contributor(
    ds: Dataset, test_share: float = 0.2, seed: int = 0, must_test: tuple[str, ...] = ("warm", "bright")
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean train/test masks with no contributor on both sides.

    Contributors are visited in a seeded random order and moved to test while the test set is
    under `test_share` of the rows, skipping any contributor whose move would leave a term
    with fewer than 3 training rows (every term needs a centroid) or overshoot the share by
    more than half. The result is checked to hold `must_test` terms on the test side.
    """
    rng = np.random.default_rng(seed)
    users = np.unique(ds.contributors)
    rng.shuffle(users)
    target = test_share * len(ds)
    test_users: set[str] = set()
    train_counts = {t: int(np.sum(ds.terms == t)) for t in np.unique(ds.terms)}
    n_test = 0
    for u in users:
        rows = ds.contributors == u
        k = int(rows.sum())
        if n_test >= target:
            break
        if n_test + k > 1.5 * target:
            continue
        t_u, c_u = np.unique(ds.terms[rows], return_counts=True)
        if any(train_counts[t] - c < 3 for t, c in zip(t_u, c_u)):
            continue
        for t, c in zip(t_u, c_u):
            train_counts[t] -= int(c)
        test_users.add(str(u))
        n_test += k
    test = np.array([u in test_users for u in ds.contributors])
    missing = [t for t in must_test if not np.any(ds.terms[test] == t)]
    if missing:
        raise ValueError(f"seed {seed}: no test rows for {missing}; pick another seed")
    return ~test, test


def normalise(params: np.ndarray) -> np.ndarray:
    """Physical units -> [0, 1]: gains linear over +-12 dB, freqs and Q log10 over their range."""
    p = np.asarray(params, dtype=np.float64)
    v = np.where(IS_LOG, np.log10(np.maximum(p, 1e-12)), p)
    return (v - NLO) / (NHI - NLO)


def denormalise(unit: np.ndarray) -> np.ndarray:
    """Exact inverse of `normalise` (float64)."""
    v = NLO + np.asarray(unit, dtype=np.float64) * (NHI - NLO)
    return np.where(IS_LOG, 10.0**v, v)


def load(data_dir: Path = DATA_DIR, min_examples: int = MIN_EXAMPLES) -> Dataset:
    return clean(load_raw(csv_path(data_dir)), min_examples)
