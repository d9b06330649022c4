"""Helpers of the notes parity tests: paths, building and running examples/notes_tool.rs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests/fixtures/notes"


def build_tool() -> Path:
    out = subprocess.run(
        ["cargo", "build", "--example", "notes_tool", "--message-format=json"],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"cargo build --example notes_tool failed:\n{out.stderr[-4000:]}")
    for line in out.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "notes_tool":
            return Path(msg["executable"])
    raise RuntimeError("cargo built no notes_tool executable")


def run_tool(tool: Path, *args: str):
    """Runs notes_tool and parses its JSON; a failure shows the tool's own error."""
    out = subprocess.run([str(tool), *map(str, args)], capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError(f"notes_tool {' '.join(map(str, args))} failed:\n{out.stderr}")
    return json.loads(out.stdout)
