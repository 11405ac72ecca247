"""auvo_daily's Params (DAG-facing; docs/dags/auvo_daily.md explains each)."""

from __future__ import annotations

from airflow.sdk import Param

from sync_apis.auvo.streams import STREAMS
from sync_apis.auvo.task_range import configured_default
from sync_apis.dag_defaults import retry_params


def dag_params() -> dict[str, Param]:
    """Built each time the DAG file is parsed: defaults read from [sync_apis] follow the setting."""
    return {
        "streams": Param(
            [],
            type="array",
            items={"type": "string", "enum": [s.name for s in STREAMS]},
            description="Streams to sync in this run; empty = all.",
        ),
        "overlap_minutes": Param(
            10, type="integer", minimum=0, description="Look-back for updated-since queries."
        ),
        "api_budget_per_minute": Param(
            400, type="integer", minimum=1, description="Auvo requests/minute per IP."
        ),
        # auvo.hook.DEFAULT_POLICY's values (see etrac/dag_params.py for why they are spelled out).
        **retry_params("Auvo", backoff_base_s=5.0, read_timeout_s=120),
        "task_days_back": Param(
            configured_default("task_days_back"),
            type="integer",
            minimum=0,
            description="Updated/deleted tasks are looked for with a taskDate up to this many days "
            "before the run's day ([sync_apis] auvo_task_days_back).",
        ),
        "task_days_ahead": Param(
            configured_default("task_days_ahead"),
            type="integer",
            minimum=0,
            description="... and up to this many days after it ([sync_apis] auvo_task_days_ahead).",
        ),
        "task_window_days": Param(
            configured_default("task_window_days"),
            type="integer",
            minimum=1,
            description="That range is asked in taskDate windows of at most this many days "
            "([sync_apis] auvo_task_window_days).",
        ),
        "max_orphan_ratio": Param(
            1.0,
            type="number",
            minimum=0,
            maximum=1,
            description="Share of the day's tasks allowed to point at unknown customers/users (1 = report).",
        ),
    }
