"""Regenerate docs/EQ_MODEL.md's figures and compare them with the committed ones.

    .venv/bin/python -m training.check_eq_report        # from the repository root; ~2-5 min

Runs the full training (`training.train`, model and ablations) into a temporary directory,
never over the committed files, and compares every figure of the fresh
`assets/eq_morph.json` evaluation block with the committed one. This is what backs the
figures that need the encoder, which never ships: the reconstruction error, the latent
silhouette and Davies-Bouldin scores, and the ablation table. (The figures that the committed
data and decoder determine are recomputed by `training/tests/test_eq_model_figures.py`.)

Retraining is not bit-exact across machines and library builds (JAX on CPU: the order of
floating-point reductions differs), so figures are compared with tolerances: 0.05 dB for
response errors and tilts, 0.01 for silhouettes, 0.02 for Davies-Bouldin scores. Retraining on
the project's 2-core machine (two runs, equal to each other) moved the committed figures by at
most 0.022 dB (a mid-morph tilt), 0.004 dB (an error), 0.001 (a silhouette) and 0.003 (a
Davies-Bouldin score). Counts, the chosen shrinkage, flags
and configuration must be equal; the data-only figures (CV scores, baseline (a)) agree to
1e-9. Exits 1 and lists the figures that moved more.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from . import train
from .musichal_eq import data as D

TOL_DB = 0.05
TOL_SILHOUETTE = 0.01
TOL_DAVIES_BOULDIN = 0.02
TOL_DATA_ONLY = 1e-9


def tolerance(path: str) -> float:
    if "baseline_term_mean_params" in path or "cv_score_by_shrink" in path:
        return TOL_DATA_ONLY
    if "silhouette" in path:
        return TOL_SILHOUETTE
    if "davies_bouldin" in path:
        return TOL_DAVIES_BOULDIN
    return TOL_DB


def compare(committed, fresh, path: str = "evaluation") -> tuple[list[str], dict[str, float]]:
    """Figures that differ beyond their tolerance, and the largest deviation per kind."""
    bad: list[str] = []
    worst: dict[str, float] = {}
    if isinstance(committed, dict):
        if set(committed) != set(fresh):
            return [f"{path}: keys {sorted(committed)} != {sorted(fresh)}"], worst
        for k in committed:
            b, w = compare(committed[k], fresh[k], f"{path}/{k}")
            bad += b
            for kind, v in w.items():
                worst[kind] = max(worst.get(kind, 0.0), v)
    elif isinstance(committed, list):
        if len(committed) != len(fresh):
            return [f"{path}: {len(committed)} values, fresh {len(fresh)}"], worst
        for i, (c, f) in enumerate(zip(committed, fresh)):
            b, w = compare(c, f, f"{path}[{i}]")
            bad += b
            for kind, v in w.items():
                worst[kind] = max(worst.get(kind, 0.0), v)
    elif isinstance(committed, float) and not isinstance(committed, bool) and "config" not in path:
        tol = tolerance(path)
        d = abs(committed - fresh)
        worst[str(tol)] = max(worst.get(str(tol), 0.0), d)
        if not d <= tol:
            bad.append(f"{path}: committed {committed:.6g}, regenerated {fresh:.6g} (tolerance {tol:g})")
    elif committed != fresh:
        bad.append(f"{path}: committed {committed!r}, regenerated {fresh!r}")
    return bad, worst


def main() -> int:
    committed = json.loads((D.REPO_ROOT / "assets" / "eq_morph.json").read_text())
    with tempfile.TemporaryDirectory(prefix="eq_check_") as out:
        train.main(["--out", out])
        fresh = json.loads(train.paths(Path(out))["meta"].read_text())
    bad, worst = compare(committed["evaluation"], fresh["evaluation"])
    for tol, d in sorted(worst.items()):
        print(f"figures with tolerance {float(tol):g}: largest deviation {d:.3g}")
    if bad:
        print(f"{len(bad)} figure(s) of docs/EQ_MODEL.md did not regenerate:")
        for line in bad:
            print("  " + line)
        return 1
    print("every figure of docs/EQ_MODEL.md regenerated within its tolerance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
