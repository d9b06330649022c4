"""Evaluation figures (held-out contributors), plots and the docs/EQ_MODEL.md report."""

from __future__ import annotations

import numpy as np

from . import data as D
from . import eq

PROTOTYPE = {"silhouette": 0.07, "davies_bouldin": 4.69}  # earlier prototype, as measured then


def silhouette(z: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette (Euclidean); singleton clusters score 0, as in scikit-learn."""
    d = np.sqrt(np.maximum(((z[:, None, :] - z[None, :, :]) ** 2).sum(-1), 0.0))
    labs = np.unique(labels)
    if len(labs) < 2:
        return float("nan")
    s = np.zeros(len(z))
    for i in range(len(z)):
        same = labels == labels[i]
        if same.sum() <= 1:
            continue
        a = d[i, same].sum() / (same.sum() - 1)
        b = min(d[i, labels == l].mean() for l in labs if l != labels[i])
        s[i] = (b - a) / max(a, b) if max(a, b) > 0 else 0.0
    return float(s.mean())


def davies_bouldin(z: np.ndarray, labels: np.ndarray) -> float:
    labs = np.unique(labels)
    cen = np.stack([z[labels == l].mean(0) for l in labs])
    sig = np.array([np.linalg.norm(z[labels == l] - c, axis=1).mean() for l, c in zip(labs, cen)])
    dist = np.linalg.norm(cen[:, None] - cen[None], axis=-1)
    r = (sig[:, None] + sig[None]) / np.where(dist > 0, dist, np.inf)
    np.fill_diagonal(r, -np.inf)
    return float(r.max(1).mean())


def mae_db(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(a) - np.asarray(b))))


def resp(params: np.ndarray, fs: float = eq.FS) -> np.ndarray:
    return np.asarray(eq.response_db(np.asarray(params, dtype=np.float64), eq.log_grid(200), fs))


def term_mean_params(x_unit: np.ndarray, y: np.ndarray, n_terms: int) -> np.ndarray:
    """Baseline (a): per-term mean of the normalised parameters (geometric for Hz and Q)."""
    return D.denormalise(np.stack([x_unit[y == k].mean(0) for k in range(n_terms)]))


def valid(params: np.ndarray) -> np.ndarray:
    p = np.asarray(params, dtype=np.float64)
    ok = np.all(np.isfinite(p), axis=1) & np.all((p >= D.LO) & (p <= D.HI), axis=1)
    ok &= np.all((p[:, list(D.FREQ_IDX)] >= 20.0) & (p[:, list(D.FREQ_IDX)] <= 20000.0), axis=1)
    return ok


def probe_latents(d: int, seed: int = 7, scale: float = 1.0) -> dict[str, np.ndarray]:
    """Dense grid over [-10, 10]^d (or a random dense cloud for d > 3) and 100,000 random
    latents: wide normals, uniform up to +-1e3, and extremes (+-1e6, +-1e30, inf, NaN)."""
    rng = np.random.default_rng(seed)
    if d <= 3:
        n = max(3, int({1: 10001, 2: 301, 3: 61}[d] * scale ** (1.0 / d)))
        axes = [np.linspace(-10.0, 10.0, n)] * d
        grid = np.stack(np.meshgrid(*axes), -1).reshape(-1, d)
    else:
        grid = rng.uniform(-10.0, 10.0, (int(100_000 * scale), d))
    k = int(10_000 * scale)
    rnd = np.concatenate([
        rng.normal(0.0, 3.0, (5 * k, d)),
        rng.uniform(-1e3, 1e3, (4 * k, d)),
        rng.choice(np.array([1e6, -1e6, 1e30, -1e30, np.inf, -np.inf, np.nan, 0.0]), (k, d)),
    ])
    return {"grid": grid.astype(np.float32), "random": rnd.astype(np.float32)}


def tilt_along(decode_latent, cen_a: np.ndarray, cen_b: np.ndarray, steps: int, fs: float) -> list[float]:
    ts = np.linspace(0.0, 1.0, steps)[:, None]
    p = decode_latent((1.0 - ts) * cen_a + ts * cen_b)
    return [float(v) for v in eq.tilt_db(np.asarray(p, dtype=np.float64), fs)]


def monotonic_decreasing(v: list[float]) -> bool:
    return bool(np.all(np.diff(v) < 0))


def term_only_err(target: np.ndarray, r: np.ndarray, y: np.ndarray) -> float:
    """Mean |dB| between each row's response and its term's predicted response."""
    return mae_db(target[y], r)


def centroid_err(target: np.ndarray, r: np.ndarray, y: np.ndarray) -> float:
    """Mean over present terms of |dB| between the predicted and the rows' mean response."""
    return float(np.mean([mae_db(target[k], r[y == k].mean(0)) for k in np.unique(y)]))


def choose_shrinkage(r: np.ndarray, y: np.ndarray, contributors: np.ndarray, n_terms: int,
                     folds: int = 5, seed: int = 0, grid=np.round(np.arange(0.5, 1.001, 0.05), 2)) -> tuple[float, dict]:
    """Pick s in `grid` so that s * (term's mean training response) best predicts *unseen
    contributors*, by grouped K-fold CV over the training contributors only.

    Why: SAFE-DB is dominated by a few prolific contributors (one gave 200 warm and 200
    bright rows); new contributors' settings are milder on average, so the raw mean over-
    states each term. Shrinking toward flat (s < 1) is the classic empirical-Bayes remedy;
    choosing s on training contributors keeps the held-out figures untouched.
    """
    rng = np.random.default_rng(seed)
    users = np.unique(contributors)
    rng.shuffle(users)
    fold_of = {u: k % folds for k, u in enumerate(users)}
    f = np.array([fold_of[u] for u in contributors])
    scores = {float(s): 0.0 for s in grid}
    for k in range(folds):
        fit, hold = f != k, f == k
        terms_ok = [t for t in range(n_terms) if np.any(fit & (y == t)) and np.any(hold & (y == t))]
        mean_r = np.zeros((n_terms, r.shape[1]))
        for t in terms_ok:
            mean_r[t] = r[fit & (y == t)].mean(0)
        h = hold & np.isin(y, terms_ok)
        for s in grid:
            scores[float(s)] += term_only_err(s * mean_r, r[h], y[h]) + centroid_err(s * mean_r, r[h], y[h])
    best = min(scores, key=scores.get)
    return best, {str(s): v / folds for s, v in scores.items()}
