"""How far back an API still answers, and what that means for a run's local day.

An API that keeps N days of history (e-Track: 90, an ASSUMED figure, etrac-api.md "Data
retention") answers a request for an older day with an empty list and a 200: the run would go
green with no rows. So the day is judged against the retention *before* any request:

- the retention reaches back to the instant ``now - N days`` (the cutoff);
- a local day that ended at or before the cutoff is **beyond** it: nothing of it is kept, the
  run is refused;
- a local day the cutoff falls inside is at the **edge**: its first hours may be gone, the run
  goes ahead with a warning;
- anything later is **within** it.

Days are São Paulo calendar days (``localday``), so "older than 90 days" does not depend on the
UTC date at the moment of the check: at 22:30 local on the 10th it is already the 11th in UTC,
and the answer must be the same as at 08:00 local on the 10th.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sync_apis.localday import day_bounds, local_date
from sync_apis.warehouse import RunInfo, open_loads

CONFIG_SECTION = "sync_apis"


class Reach(StrEnum):
    WITHIN = "within"
    EDGE = "edge"  # the cutoff falls inside the day: its first hours may be gone
    BEYOND = "beyond"  # the day ended before the cutoff: the API keeps nothing of it


@dataclass(frozen=True)
class Retention:
    """An API's history retention, in days; ``days=None`` when unknown (nothing is refused)."""

    source: str  # 'e_track'
    label: str  # what a person calls the API: 'e-Track'
    option: str  # the [sync_apis] option that sets it: 'etrac_retention_days'
    days: int | None

    @property
    def env_var(self) -> str:
        return f"AIRFLOW__{CONFIG_SECTION.upper()}__{self.option.upper()}"

    def cutoff(self, now: datetime) -> datetime | None:
        """The oldest instant the API still keeps, as of ``now`` (aware)."""
        return None if self.days is None else now - timedelta(days=self.days)

    def reach(self, day: date, now: datetime) -> Reach:
        cutoff = self.cutoff(now)
        if cutoff is None:
            return Reach.WITHIN
        start, end = day_bounds(day)
        if end <= cutoff:
            return Reach.BEYOND
        if start < cutoff:
            return Reach.EDGE
        return Reach.WITHIN

    def oldest_complete_day(self, now: datetime) -> date | None:
        """The oldest local day the API still keeps whole."""
        cutoff = self.cutoff(now)
        if cutoff is None:
            return None
        day = local_date(cutoff)
        return day if day_bounds(day)[0] >= cutoff else day + timedelta(days=1)

    def refusal(self, day: date, now: datetime) -> str:
        """Why a run for ``day`` (beyond the retention) is refused, and how to override it."""
        cutoff = self.cutoff(now)
        assert cutoff is not None
        oldest = self.oldest_complete_day(now)
        return (
            f"{self.source} {day.isoformat()} is older than the {self.label} API keeps: with a retention of "
            f"{self.days} days ([{CONFIG_SECTION}] {self.option}) it holds nothing before "
            f"{_local(cutoff)} (São Paulo), so this day would load no rows and still look green. "
            f"Refused before any request to the API; the oldest complete day it serves now is "
            f"{oldest}. If the API keeps more history than that, set {self.env_var} (or "
            f"[{CONFIG_SECTION}] {self.option} in airflow.cfg) to its retention in days, or 0 if unknown."
        )

    def edge_note(self, day: date, now: datetime) -> str:
        cutoff = self.cutoff(now)
        assert cutoff is not None
        return (
            f"{day.isoformat()} is at the edge of the {self.label} API's retention ({self.days} days, "
            f"[{CONFIG_SECTION}] {self.option}): what happened before {_local(cutoff)} that day may "
            f"already be gone, so the day may be incomplete"
        )


def _local(moment: datetime) -> str:
    from sync_apis.localday import LOCAL_TZ

    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def parse_days(value: object, option: str) -> int | None:
    """A retention option's value: a whole number of days; 0, empty or 'none' = unknown."""
    text = str(value if value is not None else "").strip().lower()
    if text in ("", "0", "none"):
        return None
    try:
        days = int(text)
    except ValueError:
        days = -1
    if days < 0:
        raise ValueError(
            f"[{CONFIG_SECTION}] {option} = {value!r}: expected a whole number of days (0 or empty = unknown)"
        )
    return days


def configured(source: str, label: str, option: str, default: int | None) -> Retention:
    """The retention as Airflow's configuration says now (read at task time, not parse time)."""
    from airflow.sdk import conf

    fallback = "" if default is None else str(default)
    raw = conf.get(CONFIG_SECTION, option, fallback=fallback)
    return Retention(source, label, option, parse_days(raw, option))


def refuse_beyond(conn: Any, retention: Retention, day: date, now: datetime, *runs: RunInfo) -> Reach:
    """Refuse a day beyond ``retention`` before any request: a ``failed`` sync_runs row per run,
    with the reason, and ``AirflowFailException`` (the task fails at once: retrying cannot bring
    an old day back). Returns the day's ``Reach`` otherwise (``EDGE``: warn, ``WITHIN``: fine)."""
    reach = retention.reach(day, now)
    if reach is Reach.BEYOND:
        from airflow.sdk.exceptions import AirflowFailException

        with open_loads(conn, *runs):
            raise AirflowFailException(retention.refusal(day, now))
    return reach
