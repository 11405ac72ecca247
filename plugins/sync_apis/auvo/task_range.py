"""The bounded taskDate range of the tasks stream's updated-since and deletion queries.

Auvo's task list and ``GetDeletedTasks`` require ``startDate``/``endDate`` (a window on
``taskDate``) even when the filter that matters is ``dateLastUpdate`` (auvo-api.md §7). One
2000..2099 window is not an option: an API enforcing a maximum date range answers it with 400,
and the listing is slow in proportion to the window (§6.3 item 2: month-wide windows ran into a
150 s timeout). So a run asks about the taskDate range ``[day - days_back, day + days_ahead]``,
cut into consecutive windows of at most ``window_days`` days, each listed (and checked
complete) on its own.

Why 14 days by default: if a window's cost grows with its width as §6.3 reports (150 s for a
month, about 5 s per day of window), 14 days is ~70 s, comfortably inside the 120 s read
timeout, while 30 days would not be. Wider windows would mean fewer requests, narrower ones
more: the default range (801 days) takes ceil(801 / 14) = 58 windows, each costing at least one
request per query (an empty window is one 404 on page 1), so 2 x 58 = 116 requests per run
besides the day's own listing.

A task updated on the run's day whose taskDate lies outside the range is not seen by that
run; it is loaded by the run of its own taskDate day (and the next run whose range covers it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sync_apis.auvo.parse import api_time
from sync_apis.localday import day_bounds

DEFAULT_DAYS_BACK = 400
DEFAULT_DAYS_AHEAD = 400
DEFAULT_WINDOW_DAYS = 14
# [sync_apis] options that change the Params' defaults, so scheduled runs can be widened too.
CONFIG_OPTIONS = {
    "task_days_back": ("auvo_task_days_back", DEFAULT_DAYS_BACK),
    "task_days_ahead": ("auvo_task_days_ahead", DEFAULT_DAYS_AHEAD),
    "task_window_days": ("auvo_task_window_days", DEFAULT_WINDOW_DAYS),
}


@dataclass(frozen=True)
class TaskRange:
    days_back: int = DEFAULT_DAYS_BACK
    days_ahead: int = DEFAULT_DAYS_AHEAD
    window_days: int = DEFAULT_WINDOW_DAYS

    def __post_init__(self) -> None:
        if self.days_back < 0 or self.days_ahead < 0:
            raise ValueError(f"task_days_back/ahead must be >= 0, got {self.days_back}/{self.days_ahead}")
        if self.window_days < 1:
            raise ValueError(f"task_window_days must be >= 1, got {self.window_days}")

    def windows(self, day: date) -> list[tuple[date, date]]:
        """Consecutive (first, last) local days, inclusive, covering the range around ``day``."""
        last_day = day + timedelta(days=self.days_ahead)
        out = []
        first = day - timedelta(days=self.days_back)
        while first <= last_day:
            last = min(last_day, first + timedelta(days=self.window_days - 1))
            out.append((first, last))
            first = last + timedelta(days=1)
        return out


def taskdate_filter(first: date, last: date) -> dict[str, str]:
    """``startDate``/``endDate`` for the local days ``first``..``last`` (§2: full timestamps).

    The end is the last second of ``last``: the window is never wider than its days.
    """
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    return {"startDate": api_time(start), "endDate": api_time(end - timedelta(seconds=1))}


def configured_default(param: str) -> int:
    """A Param's default: ``[sync_apis] <option>`` when set, else the built-in one (parse-time safe)."""
    from airflow.sdk import conf

    option, fallback = CONFIG_OPTIONS[param]
    return int(conf.getint("sync_apis", option, fallback=fallback))
