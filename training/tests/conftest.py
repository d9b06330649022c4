"""Shared fixtures: the repo root on sys.path, and one quick training run per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """`python -m training.train --quick` on a 300-row slice, 150 steps, written to a temp dir."""
    from training import train

    out = tmp_path_factory.mktemp("eq_quick")
    meta, model = train.main(["--quick", "--slice", "300", "--steps", "150", "--out", str(out)])
    return {"out": out, "meta": meta, "model": model, "paths": train.paths(out)}
