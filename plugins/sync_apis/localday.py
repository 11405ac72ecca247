"""The local calendar day, the unit every run loads.

Everything is derived from the calendar date, never by adding 24 hours to an instant: on the
days Brazil started daylight saving (until 2019) local midnight did not exist and the day was
23 hours long, and "midnight + 1 day" would drift into the next day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import pendulum

from sync_apis import LOCAL_TZ, LOCAL_TZ_NAME

__all__ = [
    "LOCAL_TZ",
    "LOCAL_TZ_NAME",
    "day_bounds",
    "local_date",
    "local_midnight",
    "requested_date",
    "typed_date",
]


def local_date(instant: datetime, tz: str = LOCAL_TZ_NAME) -> date:
    """The local calendar date of an instant (naive instants are taken as UTC)."""
    return pendulum.instance(instant).in_timezone(tz).date()


def local_midnight(day: date, tz: str = LOCAL_TZ_NAME) -> pendulum.DateTime:
    """The first instant of a local day (01:00 on a day whose midnight was skipped by DST)."""
    return pendulum.datetime(day.year, day.month, day.day, tz=tz)


def day_bounds(day: date, tz: str = LOCAL_TZ_NAME) -> tuple[pendulum.DateTime, pendulum.DateTime]:
    """[start, end) of a local day as aware datetimes."""
    return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)


def _is_midnight(moment: datetime) -> bool:
    return (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)


def typed_date(instant: datetime, tz: str = LOCAL_TZ_NAME, *, also: Iterable[str] = ()) -> date | None:
    """The calendar date a person typed, when ``instant`` is the way a typed date reaches Airflow.

    A date carries no zone, so Airflow turns it into the midnight of *some* zone before a
    timetable sees it:

    - the CLI (``airflow dags test X 2025-03-10``, ``backfill create --from-date``) parses it as
      midnight in ``[core] default_timezone`` — UTC, São Paulo, Tokyo, whatever the installation
      says — and keeps that zone on the instant;
    - the REST API keeps the offset it was written with (``2025-03-10T00:00:00Z``, ``…-03:00``);
    - the UI's date picker sends the browser's midnight converted to UTC; for our users' browsers
      that is São Paulo's midnight.

    So an instant that is exactly midnight in its own zone, in the local zone, or in one of the
    ``also`` zones means that date. Anything else (``now``, a scheduled instant, 21:00
    somewhere) is a moment, not a typed date: None. This is what makes a run's day independent
    of ``default_timezone``.
    """
    if instant.tzinfo is not None and _is_midnight(instant):
        return instant.date()
    moment = pendulum.instance(instant)
    for zone in (tz, *also):
        local = moment.in_timezone(zone)
        if _is_midnight(local):
            return local.date()
    return None


def requested_date(instant: datetime, tz: str = LOCAL_TZ_NAME) -> date:
    """The day a request for ``instant`` means: the typed date, else the local day containing it."""
    return typed_date(instant, tz) or local_date(instant, tz)
