"""Helpers for etrac_daily's data-quality checks (the SQL lives in include/sql/checks/e_track_*.sql).

Kept free of heavy imports: the DAG file imports this at parse time for its template macro.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sync_apis.localday import local_date

CHECK_FILES = (
    "checks/e_track_coordinates.sql",
    "checks/e_track_no_future_fixes.sql",
    "checks/e_track_reconcile_counts.sql",
)


def local_day(moment: datetime | date | None, tz_name: str = "America/Sao_Paulo") -> str:
    """Template macro: the local (America/Sao_Paulo) calendar day of an instant, as YYYY-MM-DD.

    Used as ``{{ local_day(data_interval_start) }}``: the day the run loads, the same value
    ``sync_apis.dag_defaults.run_day`` gives task code.
    """
    if moment is None:
        raise ValueError("this run has no data interval; etrac_daily always loads one local day")
    if isinstance(moment, datetime):
        return local_date(moment, tz_name).isoformat()
    return moment.isoformat()


MACROS: dict[str, Any] = {"local_day": local_day}
