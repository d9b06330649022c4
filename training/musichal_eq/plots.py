"""PNG figures for docs/EQ_MODEL.md (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import eq  # noqa: E402
from .evaluate import resp  # noqa: E402

F = eq.log_grid(200)


def _axis(ax, title: str) -> None:
    ax.set_xscale("log")
    ax.set_xlim(20, 20000)
    ax.axhline(0, color="0.7", lw=0.6)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3, which="both", lw=0.3)


def term_curves(path: Path, terms: list[str], all_params: dict[str, np.ndarray],
                decoded: np.ndarray, baseline: np.ndarray) -> None:
    """Per term: SAFE-DB examples' mean response +- 1 std, decoded centroid, baseline (a)."""
    n = len(terms)
    cols = 4
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), sharey=True)
    for k, (t, ax) in enumerate(zip(terms, axes.flat)):
        r = resp(all_params[t])
        m, s = r.mean(0), r.std(0)
        ax.fill_between(F, m - s, m + s, color="C0", alpha=0.2, lw=0)
        ax.plot(F, m, "C0", lw=1.2, label="examples mean ±1 sd")
        ax.plot(F, resp(decoded[k:k + 1])[0], "C3", lw=1.4, label="decoded centroid")
        ax.plot(F, resp(baseline[k:k + 1])[0], "k--", lw=0.8, label="(a) mean params")
        _axis(ax, f"{t} (n={len(r)})")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6, loc="lower left")
    fig.supxlabel("Hz", fontsize=8)
    fig.supylabel("dB", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def morph(path: Path, params5: np.ndarray, tilts: list[float], label: str) -> None:
    """warm->bright in 5 steps, and the tilt along 11 steps."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [2, 1]})
    cmap = plt.get_cmap("coolwarm_r")
    for k, p in enumerate(params5):
        m = k / (len(params5) - 1)
        a1.plot(F, resp(p[None])[0], color=cmap(m), lw=1.5, label=f"morph {m:.2f}")
    _axis(a1, f"{label}: decoded response, 5 morph steps")
    a1.legend(fontsize=7)
    a1.set_ylabel("dB")
    a2.plot(np.linspace(0, 1, len(tilts)), tilts, "o-", ms=3)
    a2.set_title("tilt = L(200-400 Hz) - L(4-8 kHz)", fontsize=9)
    a2.set_xlabel("morph")
    a2.set_ylabel("dB")
    a2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def latent(path: Path, terms: list[str], mu_tr: np.ndarray, y_tr: np.ndarray, mu_te: np.ndarray,
           y_te: np.ndarray, centroids: np.ndarray) -> None:
    """Latent means coloured by term (first two dims): dots train, crosses held-out."""
    fig, ax = plt.subplots(figsize=(7, 6))
    cmap = plt.get_cmap("tab20")
    for k, t in enumerate(terms):
        c = cmap(k % 20)
        ax.scatter(*mu_tr[y_tr == k, :2].T, s=6, color=c, alpha=0.5, label=t)
        ax.scatter(*mu_te[y_te == k, :2].T, s=14, color=c, marker="x", alpha=0.8)
        ax.annotate(t, centroids[k, :2], fontsize=8, weight="bold")
        ax.plot(*centroids[k, :2], "k*", ms=6)
    ax.set_title("latent means by term (dots: train, x: held-out contributors, *: centroid)", fontsize=9)
    ax.legend(fontsize=6, ncol=2, markerscale=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
