"""Start ``python -m sandbox`` as a child process and learn its address from its first line.

The benchmarks run the fake APIs in their own process, never as a thread of the measuring one:
the sandbox generates and encodes every answer, and that CPU must not share an interpreter lock
with the code being measured.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def sandbox_process(args: list[str], address: str, name: str) -> Iterator[str]:
    """Run ``python -m sandbox ARGS``; yield the first group of ``address`` found in the line it
    prints when it is serving; terminate it on exit. ``name`` is for the error when it fails."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", *args], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(address, line)
        if not found:
            raise RuntimeError(f"the {name} sandbox did not start: {line!r}")
        yield found.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
