"""The local calendar day, the unit every run loads.

Everything is derived from the calendar date, never by adding 24 hours to an instant: on the
days Brazil started daylight saving (until 2019) local midnight did not exist and the day was
23 hours long, and "midnight + 1 day" would drift into the next day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pendulum

from sync_apis import LOCAL_TZ_NAME

LOCAL_TZ = pendulum.timezone(LOCAL_TZ_NAME)


def local_date(instant: datetime, tz: str = LOCAL_TZ_NAME) -> date:
    """The local calendar date of an instant (naive instants are taken as UTC)."""
    return pendulum.instance(instant).in_timezone(tz).date()


def local_midnight(day: date, tz: str = LOCAL_TZ_NAME) -> pendulum.DateTime:
    """The first instant of a local day (01:00 on a day whose midnight was skipped by DST)."""
    return pendulum.datetime(day.year, day.month, day.day, tz=tz)


def day_bounds(day: date, tz: str = LOCAL_TZ_NAME) -> tuple[pendulum.DateTime, pendulum.DateTime]:
    """[start, end) of a local day as aware datetimes."""
    return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
