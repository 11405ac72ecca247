"""A timetable whose data interval is exactly one local calendar day.

Why not a cron timetable: with ``CronDataIntervalTimetable("5 1 * * *")`` Airflow 3 gives
``airflow dags test X 2025-03-10`` the interval starting 2025-03-08 01:05 and a backfill
``--from-date 2025-03-10 --to-date 2025-03-12`` only the 10th and 11th. Here the interval is
``[D 00:00, D+1 00:00)`` in the local zone, a run for D becomes due at D+1 ``run_at`` (01:05 by
default), a manual run for a typed date D loads D, a manual run for any other instant loads the
local day containing it, and a backfill from D1 to D2 creates exactly one run per day D1..D2
inclusive.

None of this depends on Airflow's ``[core] default_timezone``: the CLI hands the timetable a
typed date as midnight in that zone, and ``localday.typed_date`` reads the date back from the
instant itself, whichever zone it is (UTC, São Paulo, Tokyo).
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import pendulum
from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction, Timetable
from pendulum import DateTime

from sync_apis import LOCAL_TZ_NAME
from sync_apis.localday import local_date, local_midnight, requested_date, typed_date


def _parse_hhmm(value: str) -> time:
    try:
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise ValueError(f"run_at must look like HH:MM (e.g. 01:05), got {value!r}") from exc


class LocalDayTimetable(Timetable):
    """Daily runs, each loading the previous local calendar day, due at ``run_at`` local time."""

    periodic = True
    can_be_scheduled = True
    run_ordering = ("data_interval_end", "logical_date")

    def __init__(self, run_at: str = "01:05", timezone: str = LOCAL_TZ_NAME) -> None:
        self.run_at = run_at
        self.timezone = timezone
        self._run_at = _parse_hhmm(run_at)
        self._tz = pendulum.timezone(timezone)
        self.description = f"Every day at {run_at} ({timezone}), loading the previous local day"

    # -- (de)serialisation: the scheduler rebuilds the timetable from these -----------------

    def serialize(self) -> dict[str, Any]:
        return {"run_at": self.run_at, "timezone": self.timezone}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> LocalDayTimetable:
        return cls(run_at=data.get("run_at", "01:05"), timezone=data.get("timezone", LOCAL_TZ_NAME))

    def validate(self) -> None:
        _parse_hhmm(self.run_at)

    @property
    def summary(self) -> str:
        return f"daily {self.run_at} {self.timezone} (previous day)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LocalDayTimetable) and self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash((self.run_at, self.timezone))

    # -- helpers -------------------------------------------------------------------------------

    def day_start(self, instant: DateTime) -> DateTime:
        """Start of the local day containing ``instant``."""
        return local_midnight(local_date(instant, self.timezone), self.timezone)

    def _first_day(self, earliest: DateTime) -> date:
        """The first whole day at or after ``earliest`` (a typed date is that very day)."""
        typed = typed_date(earliest, self.timezone)
        if typed is not None:
            return typed
        day = local_date(earliest, self.timezone)
        if local_midnight(day, self.timezone) < pendulum.instance(earliest):
            day += timedelta(days=1)  # a day that began before `earliest` is not ours
        return day

    def _latest_due_day(self) -> date:
        now = pendulum.now(self._tz)
        yesterday = local_date(now, self.timezone) - timedelta(days=1)
        return yesterday if self._info_for(yesterday).run_after <= now else yesterday - timedelta(days=1)

    def _info_for(self, day: date) -> DagRunInfo:
        start = local_midnight(day, self.timezone)
        end = local_midnight(day + timedelta(days=1), self.timezone)
        due = pendulum.datetime(
            end.year, end.month, end.day, self._run_at.hour, self._run_at.minute, tz=self.timezone
        )
        return DagRunInfo(run_after=due, data_interval=DataInterval(start=start, end=end))

    # -- the Timetable protocol --------------------------------------------------------------

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        info = self._info_for(requested_date(run_after, self.timezone))
        assert info.data_interval is not None
        return info.data_interval

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        if last_automated_data_interval is not None:
            day = local_date(last_automated_data_interval.start, self.timezone) + timedelta(days=1)
        else:
            if restriction.earliest is None:
                return None
            day = self._first_day(restriction.earliest)
        if not restriction.catchup:
            # Without catch-up, never go back further than the most recent day whose run is due:
            # after a backfill of March 2025 the next scheduled run is yesterday's, not 14 March.
            day = max(day, self._latest_due_day())
        if restriction.latest is not None and day > requested_date(restriction.latest, self.timezone):
            return None
        return self._info_for(day)
