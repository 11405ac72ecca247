"""Empty days are loud: a run that got nothing (or far less) where comparable runs got many.

An API that no longer keeps a day, a wrong account, a filter the API stopped honouring: all of
them answer "200, no records", and the run goes green with 0 rows. Nothing fails, so the only
way to notice is to compare with what the same stream usually returns:

- a **day-scoped** stream (Auvo tasks by taskDate and expenses by date; e-Track positions and
  trips, per plate) is compared with *comparable days*: the nearest days (before or after) that
  were synced successfully, of the same weekday when any is known (a business closed on
  Sundays must not be warned every Sunday), else of any weekday; at most ``BASELINE_DAYS`` of
  them, their median is the expectation;
- a **snapshot** stream (Auvo users, teams, …; e-Track's latest positions) is compared with
  its last ``BASELINE_DAYS`` successful runs: an empty user list for an account that had 50 is
  just as suspicious.

A run warns when it got 0, or less than ``ratio`` times the expectation, *and* the expectation
is at least ``min_rows`` ("had many"). Days the check knows nothing about are ignored; with
nothing to compare with there is no warning (a fresh warehouse's first days), only an INFO line.

The warning is a ``DayWarning``: logged at WARNING, written to ``sync_meta.sync_runs.warning``
in the same transaction as the run's row, and handed to ``announce`` — the one place a notifier
(e-mail, webhook) is called.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync_apis.warehouse import Load

CONFIG_SECTION = "sync_apis"
BASELINE_DAYS = 7
# How far the readers look for comparable days/runs (rows fetched, not days of the calendar).
NEAREST_LIMIT = 60

DEFAULT_MIN_ROWS = 10
DEFAULT_RATIO = 0.1

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayWarning:
    """A run that completed but whose day is probably incomplete. What a notifier sends.

    ``kind``: 'empty' (no rows where comparable runs had many), 'far_below' (some, far fewer),
    'retention_edge' (the day starts before what the API keeps).
    """

    source: str
    stream: str
    day: date | None
    kind: str
    message: str  # one or two sentences a person understands, naming source, stream and day

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Thresholds:
    """When "comparable runs had many, this one had (almost) none" is a warning."""

    min_rows: int = DEFAULT_MIN_ROWS  # the expectation must reach this ("many"); 0 = check off
    ratio: float = DEFAULT_RATIO  # warn below ratio x expectation (0 = only on empty)

    @property
    def enabled(self) -> bool:
        return self.min_rows > 0

    def is_low(self, received: int, expected: float) -> bool:
        if not self.enabled or expected < self.min_rows:
            return False
        return received == 0 or received < self.ratio * expected


def configured_thresholds() -> Thresholds:
    """``[sync_apis] empty_day_min_rows`` / ``empty_day_ratio``, read at task time."""
    from airflow.sdk import conf

    min_rows = conf.getint(CONFIG_SECTION, "empty_day_min_rows", fallback=DEFAULT_MIN_ROWS)
    ratio = conf.getfloat(CONFIG_SECTION, "empty_day_ratio", fallback=DEFAULT_RATIO)
    if min_rows < 0 or not 0 <= ratio <= 1:
        raise ValueError(
            f"[{CONFIG_SECTION}] empty_day_min_rows must be >= 0 (got {min_rows}) and empty_day_ratio "
            f"between 0 and 1 (got {ratio})"
        )
    return Thresholds(min_rows, ratio)


# --------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Expectation:
    """What comparable runs returned: their median and which days they were."""

    rows: float
    days: tuple[date, ...] = ()  # the comparable days (day-scoped streams), oldest first
    runs: int = 0  # how many runs/days the median is over
    same_weekday: bool = False

    def describe(self) -> str:
        about = f"{self.rows:,.0f}" if self.rows == int(self.rows) else f"{self.rows:,.1f}"
        if not self.days:
            return f"the last {self.runs} successful runs returned a median of {about}"
        kind = f"{self.days[0]:%A}s" if self.same_weekday else "days"
        span = self.days[0].isoformat() if len(self.days) == 1 else f"{self.days[0]}..{self.days[-1]}"
        return f"the {self.runs} nearest {kind} synced ({span}) returned a median of {about}"


def comparable_days(history: Iterable[date], day: date, limit: int = BASELINE_DAYS) -> list[date]:
    """The days a day is compared with: the nearest of the same weekday, else the nearest of any.

    Nearest first; a tie (as far before as after) goes to the earlier day, the one a daily
    schedule has certainly loaded.
    """
    others = sorted((d for d in set(history) if d != day), key=lambda d: (abs((d - day).days), d))
    same = [d for d in others if d.weekday() == day.weekday()]
    return sorted((same or others)[:limit])


def day_expectation(history: Mapping[date, int], day: date) -> Expectation | None:
    """The median of the comparable days' rows; None when no other day is known."""
    days = comparable_days(history, day)
    if not days:
        return None
    return Expectation(
        rows=float(statistics.median(history[d] for d in days)),
        days=tuple(days),
        runs=len(days),
        same_weekday=days[0].weekday() == day.weekday(),
    )


def plates_expectation(histories: Mapping[str, Mapping[date, int]], day: date) -> Expectation | None:
    """For a set of plates: the sum of each plate's own expectation (plates never synced add
    nothing); the days named are all the comparable days of any plate."""
    per_plate = [e for e in (day_expectation(h, day) for h in histories.values()) if e is not None]
    if not per_plate:
        return None
    days = sorted({d for e in per_plate for d in e.days})
    return Expectation(
        rows=sum(e.rows for e in per_plate),
        days=tuple(days),
        runs=len(days),
        same_weekday=all(e.same_weekday for e in per_plate),
    )


def runs_expectation(recent: Sequence[int]) -> Expectation | None:
    """A snapshot's expectation: the median of its last runs (newest first)."""
    recent = list(recent)[:BASELINE_DAYS]
    if not recent:
        return None
    return Expectation(rows=float(statistics.median(recent)), runs=len(recent))


def judge(
    source: str,
    stream: str,
    day: date | None,
    received: int,
    expected: Expectation | None,
    thresholds: Thresholds,
    *,
    what: str = "rows",
    logger: Any = _log,
) -> DayWarning | None:
    """A ``DayWarning`` when ``received`` is empty or far below ``expected``; else None."""
    name = f"{source}.{stream}" + (f" {day.isoformat()}" if day else "")
    if expected is None:
        if received == 0 and thresholds.enabled:
            logger.info(
                "%s: no %s, and no other successful run of this stream to compare with; "
                "nothing to warn about yet",
                name,
                what,
            )
        return None
    if not thresholds.is_low(received, expected.rows):
        return None
    kind = "empty" if received == 0 else "far_below"
    got = f"returned no {what}" if received == 0 else f"returned only {received:,} {what}"
    if expected.days:
        causes = "an API that no longer keeps the day, a wrong account or filter, an outage answered as empty"
        scope, then = "this day", "re-run the day once the cause is found"
    else:
        causes = "a wrong account, an API key that lost a permission, an outage answered as empty"
        scope, then = "this listing", "the next run reads the listing again"
    message = (
        f"{name}: the API {got}, while {expected.describe()}. The data of {scope} is probably "
        f"missing ({causes}); the run is green because nothing failed. Check the source; {then}."
    )
    return DayWarning(source, stream, day, kind, message)


# --------------------------------------------------------------------------- history readers


def synced_days(load: Load, source: str, stream: str, day: date) -> dict[date, int]:
    """``day_rows`` of the stream's latest successful run of each day near ``day`` (``day`` itself
    excluded), read in the load's transaction. Runs recorded before ``day_rows`` existed are ignored."""
    params = {"source": source, "stream": stream, "day": day, "limit": NEAREST_LIMIT}
    return {synced: int(n) for synced, n in load.query("sync_meta/synced_days_near", params)}


def recent_runs(load: Load, source: str, stream: str, run_id: str) -> list[int]:
    """``day_rows`` of the stream's last successful runs (newest first), this run excluded."""
    params = {"source": source, "stream": stream, "run_id": run_id, "limit": BASELINE_DAYS}
    return [int(n) for (n,) in load.query("sync_meta/recent_run_rows", params)]


# --------------------------------------------------------------------------- announcing


def combined(warnings: Iterable[DayWarning | None]) -> str | None:
    """The text for ``sync_runs.warning``: every warning of one row, in order."""
    texts = [w.message for w in warnings if w is not None]
    return " | ".join(texts) if texts else None


def announce(warnings: Iterable[DayWarning | None], logger: Any = _log) -> list[DayWarning]:
    """Log each warning at WARNING and send them, as one alert, through the channels of the
    failure alerts (``sync_apis.alerts``: e-mail and/or webhook, off unless configured). Call
    after the run's row committed: the alert then describes what the warehouse holds.

    Returns the warnings announced (the task can return or push them).
    """
    announced = [w for w in warnings if w is not None]
    for warning in announced:
        logger.warning("%s", warning.message)
    if announced:
        _alert(announced)
    return announced


def _alert(warnings: Sequence[DayWarning]) -> None:
    """One alert per call: a history chunk's positions and trips warnings travel together."""
    from sync_apis.alerts import alert_warning

    streams = ", ".join(dict.fromkeys(f"{w.source}.{w.stream}" for w in warnings))
    kinds = ", ".join(dict.fromkeys(w.kind for w in warnings))
    alert_warning(_task_context(), f"{streams}: the day is probably incomplete ({kinds})",
                  [w.message for w in warnings])  # fmt: skip


def _task_context() -> Any:
    """The running task's context (DAG, day, task, log link for the alert); None outside a task."""
    try:
        from airflow.sdk import get_current_context

        return get_current_context()
    except Exception:  # a script or a test calling the load directly: the alert names no run
        return None
