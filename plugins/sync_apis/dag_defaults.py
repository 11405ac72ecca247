"""What every sync-apis DAG shares: default_args, the daily timetable and the run's day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pendulum
from jinja2 import pass_context

from sync_apis import LOCAL_TZ_NAME
from sync_apis.alerts import on_task_failure
from sync_apis.localday import day_bounds, local_date, typed_date
from sync_apis.timetable import LocalDayTimetable

OWNER = "sync-apis"

DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    # API outages are usually short: 3 retries at 1, 2, 4 min (capped at 30) ride them out
    # without hammering the API, and a real failure still shows red within ~10 minutes.
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=2),
    # After the last try only; e-mail/webhook as configured in [sync_apis] (off by default).
    "on_failure_callback": on_task_failure,
}

DEFAULT_RUN_AT = "01:05"
# Without a start_date the timetable never proposes a run, so the daily sync would silently never
# happen. It is set far back on purpose: Airflow runs no task of a manual run (`dags test`, a UI
# trigger) whose logical date precedes the start date, and reports the empty run as a success.
# catchup=False keeps the scheduler from walking through the years in between.
START_DATE = pendulum.datetime(2000, 1, 1, tz=LOCAL_TZ_NAME)
CONFIG_SECTION = "sync_apis"


def run_at_for(dag_id: str) -> str:
    """The local time a DAG's daily run becomes due.

    Read from Airflow's own configuration, so operators change it without touching code:
    ``[sync_apis] etrac_daily_run_at = 02:30`` in airflow.cfg, or the environment variable
    ``AIRFLOW__SYNC_APIS__ETRAC_DAILY_RUN_AT=02:30``. Parse-time safe: no database access.
    """
    from airflow.sdk import conf

    return str(conf.get(CONFIG_SECTION, f"{dag_id}_run_at", fallback=DEFAULT_RUN_AT))


def daily_timetable(dag_id: str) -> LocalDayTimetable:
    return LocalDayTimetable(run_at=run_at_for(dag_id), timezone=LOCAL_TZ_NAME)


def run_day(context: Any) -> date:
    """The local calendar day a run loads.

    - A run whose logical date is a typed date (``localday.typed_date``) loads that date. Task
      code only sees the logical date back from the database, in UTC, so the zone the CLI
      parsed it in (``[core] default_timezone``) is one of the midnights tried. This covers
      Airflow 3.3's ``airflow dags trigger -l 2025-03-10``, which keeps the typed date as the
      logical date but infers the data interval from the moment of the trigger (today).
    - Otherwise the data interval's start: the timetable made it one local day, from the
      instant with its own zone (a scheduled or backfill run, ``dags test``, a REST/UI trigger).
    - A run triggered with no logical date at all (the UI's or the REST API's
      ``"logical_date": null``) has neither, and loads the local day it was triggered on —
      "today so far". ``run_after`` is fixed when the run is created, so a retry the next
      morning still loads the same day.

    ``context`` is a task context or a Jinja template context (both answer ``.get``).
    """
    logical = context.get("logical_date")
    if logical is not None:
        typed = typed_date(logical, also=_airflow_default_zone())
        if typed is not None:
            return typed
    start = context.get("data_interval_start") or logical
    if start is None:
        start = getattr(context.get("dag_run"), "run_after", None)
    if start is None:
        raise ValueError("this run has no logical date, data interval or run_after: no day to load")
    return local_date(start)


def _airflow_default_zone() -> tuple[str, ...]:
    """``[core] default_timezone`` as a zone name, when it names one (not "system")."""
    from airflow.sdk import conf

    name = str(conf.get("core", "default_timezone", fallback="utc") or "utc")
    return () if name.lower() == "system" else (name,)


# Template macros, so SQL checks and operator fields name the run's day exactly as task code
# does (``run_day(context)``) — including runs triggered without a logical date, where
# ``data_interval_start`` does not exist. ``pass_context`` hands them the template's context.
@pass_context
def _run_day_macro(context: Any) -> str:
    return run_day(context).isoformat()


@pass_context
def _run_day_start_macro(context: Any) -> str:
    return day_bounds(run_day(context))[0].isoformat()


@pass_context
def _run_day_end_macro(context: Any) -> str:
    return day_bounds(run_day(context))[1].isoformat()


MACROS: dict[str, Any] = {
    "run_day": _run_day_macro,  # {{ run_day() }} -> '2025-03-10'
    "run_day_start": _run_day_start_macro,  # {{ run_day_start() }} -> '2025-03-10T00:00:00-03:00'
    "run_day_end": _run_day_end_macro,  # {{ run_day_end() }} -> '2025-03-11T00:00:00-03:00'
}


__all__ = ["DEFAULT_ARGS", "MACROS", "START_DATE", "daily_timetable", "day_bounds", "run_at_for", "run_day"]
