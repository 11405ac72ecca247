"""etrac_daily's data-quality checks (the SQL lives in include/sql/checks/e_track_*.sql).

The files name the run's day with the ``run_day()`` macro (``sync_apis.dag_defaults.MACROS``).
"""

from __future__ import annotations

CHECK_FILES = (
    "checks/e_track_coordinates.sql",
    "checks/e_track_no_future_fixes.sql",
    "checks/e_track_reconcile_counts.sql",
)
