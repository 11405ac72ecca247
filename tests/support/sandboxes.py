"""The sandbox worlds and pinned clock the suite tests against."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

SANDBOX_NOW = datetime.fromisoformat("2025-03-13T12:00:00-03:00")
"""Tests pin the sandbox clock here, so days 2025-03-10..12 are complete history."""

BROWSER_DAY = date(2025, 3, 3)
"""The day the browser tests load with ``dag.test()`` and then read for the whole session.

Reserved for them: ``dag.test()`` deletes any run of the same DAG with the same logical date, and
the in-process Airflow database is shared by every test of an xdist worker, so another module's
``dag.test()`` of this day would delete the runs the browser links to (and marks failed)."""


def small_etrac_config(config_cls: Any) -> Any:
    """Five vehicles with a coarser fix cadence: a few thousand positions per day, seconds to load."""
    return config_cls(seed=7, vehicles=5, drive_fix_interval_s=(90, 240))


def small_auvo_config(config_cls: Any) -> Any:
    """Two weeks of history with ~20 tasks a day and the default reference data."""
    return config_cls(seed=7, history_days=14)
