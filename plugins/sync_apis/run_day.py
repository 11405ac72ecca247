"""The local day a run loads, read from its Airflow context.

Library code (task bodies, alerts) asks this module; the DAG-facing ``dag_defaults`` wraps it
in the template macro, so SQL checks and task code name the very same day.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sync_apis.localday import local_date, typed_date


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
        typed = typed_date(logical, also=airflow_default_zone())
        if typed is not None:
            return typed
    start = context.get("data_interval_start") or logical
    if start is None:
        start = getattr(context.get("dag_run"), "run_after", None)
    if start is None:
        raise ValueError("this run has no logical date, data interval or run_after: no day to load")
    return local_date(start)


def airflow_default_zone() -> tuple[str, ...]:
    """``[core] default_timezone`` as a zone name, when it names one (not "system")."""
    from airflow.sdk import conf

    name = str(conf.get("core", "default_timezone", fallback="utc") or "utc")
    return () if name.lower() == "system" else (name,)
