"""Stopping the process groups a test or benchmark started (each service in a session of its own)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterable


def stop_process_groups(procs: Iterable[subprocess.Popen[bytes]], grace_s: float) -> None:
    """SIGTERM every group still running, then SIGKILL whichever is not gone after ``grace_s``
    (one deadline for all of them: a stack of five services stops in ``grace_s``, not five times)."""
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
