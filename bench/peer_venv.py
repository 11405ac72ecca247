"""The benchmark-only venv (``.local/bench-venv``) that holds dlt and py-spy.

Not the project's venv: dlt would upgrade its setuptools and add orjson/simplejson, which other
libraries pick up when present, and our own figures would no longer be of our own code alone.
Created on first use from requirements-bench.txt (pinned; a few seconds from a local index, a
minute or two from PyPI). ``BENCH_NO_INSTALL=1`` forbids creating it (then dlt is skipped).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".local" / "bench-venv"
REQUIREMENTS = REPO / "requirements-bench.txt"
STAMP = VENV / ".installed-requirements-bench"


def absent_reason() -> str:
    return f"no bench venv at {VENV} and BENCH_NO_INSTALL=1 (create it: python -m bench --setup)"


def ensure() -> Path:
    """The bench venv's directory, created and installed when missing or outdated."""
    fresh = STAMP.exists() and STAMP.read_text() == REQUIREMENTS.read_text()
    if not fresh:
        if not (VENV / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        print(f"installing requirements-bench.txt into {VENV} ...", flush=True)
        subprocess.run(
            [
                str(VENV / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--progress-bar",
                "off",
                "-r",
                str(REQUIREMENTS),
            ],
            check=True,
        )
        STAMP.write_text(REQUIREMENTS.read_text())
    return VENV


def python() -> Path | None:
    """The bench venv's interpreter; None when it is absent and may not be created."""
    if os.environ.get("BENCH_NO_INSTALL") == "1" and not STAMP.exists():
        return None
    return ensure() / "bin" / "python"


def tool(name: str) -> Path:
    """A console script of the bench venv (py-spy)."""
    return ensure() / "bin" / name
