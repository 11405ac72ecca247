"""Progress lines a person can follow in the task log, and the one-line summary at the end."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any


def _fmt_int(n: int) -> str:
    return f"{n:,}"


class Progress:
    """Throttled progress reporting for long loops.

    ``step()`` is cheap to call per page or per plate; a line is logged at most every
    ``every_s`` seconds (and always for the last unit when ``total`` is known), e.g.::

        etrac history 2025-03-10: 12/40 plates, 35,120 rows, 1,250 rows/s, retries 2, waited 3.1 s
    """

    def __init__(
        self,
        log: logging.Logger | Any,
        what: str,
        total: int | None = None,
        unit: str = "pages",
        every_s: float = 15.0,
        stats: Callable[[], tuple[int, float]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = log
        self.what = what
        self.total = total
        self.unit = unit
        self.every_s = every_s
        self._stats = stats  # () -> (retries so far, seconds spent waiting)
        self._clock = clock
        self.started = clock()
        self._last_logged = self.started
        self.done = 0
        self.rows = 0

    def step(self, n_units: int = 1, rows: int = 0) -> None:
        self.done += n_units
        self.rows += rows
        now = self._clock()
        finished = self.total is not None and self.done >= self.total
        if finished or now - self._last_logged >= self.every_s:
            self._last_logged = now
            self.log.info("%s", self.line())

    def elapsed(self) -> float:
        return self._clock() - self.started

    def line(self) -> str:
        elapsed = max(self.elapsed(), 1e-6)
        done = f"{self.done}/{self.total}" if self.total is not None else str(self.done)
        parts = [f"{done} {self.unit}", f"{_fmt_int(self.rows)} rows", f"{self.rows / elapsed:,.0f} rows/s"]
        if self._stats is not None:
            retries, waited = self._stats()
            parts.append(f"retries {retries}")
            parts.append(f"waited {waited:.1f} s")
        return f"{self.what}: " + ", ".join(parts)

    def summary(self, **extra: Any) -> str:
        """One line saying what the task did; logged and returned (e.g. for the task's return value)."""
        fields = [f"{self.done} {self.unit}", f"{_fmt_int(self.rows)} rows in {self.elapsed():.1f} s"]
        fields += [
            f"{k.replace('_', ' ')} {_fmt_int(v) if isinstance(v, int) else v}" for k, v in extra.items()
        ]
        text = f"{self.what} done: " + ", ".join(fields)
        self.log.info("%s", text)
        return text
