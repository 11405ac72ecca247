"""etrac_daily's data-quality checks (the SQL lives in include/sql/checks/e_track_*.sql).

Each file reads the run's day from bound parameters (``day``, ``day_start``, ``day_end``), as the
Auvo checks do (``sync_apis.auvo.checks``); none lists tables, so none is generated.
"""

from __future__ import annotations

# Task name (``check_<name>``) -> file under include/sql.
CHECK_FILES: dict[str, str] = {
    "coordinates": "checks/e_track_coordinates.sql",
    "no_future_fixes": "checks/e_track_no_future_fixes.sql",
    "reconcile_counts": "checks/e_track_reconcile_counts.sql",
}
