"""auvo_daily's task adapters: Airflow context in, library calls with explicit arguments out.

Same shape as ``sync_apis.etrac.dag_tasks`` (``sync_apis.dag_tasks`` says how).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from sync_apis.auvo.task_range import TaskRange

if TYPE_CHECKING:
    from sync_apis.auvo.sync import Window

log = logging.getLogger(__name__)


def task_range_of(params: Any) -> TaskRange:
    """The run's taskDate range from its Params (the defaults when a Param is absent)."""
    default = TaskRange()
    return TaskRange(
        days_back=int(params.get("task_days_back", default.days_back)),
        days_ahead=int(params.get("task_days_ahead", default.days_ahead)),
        window_days=int(params.get("task_window_days", default.window_days)),
    )


def run_window(day: date, params: Any, run_type: Any) -> Window:
    """The run's Window: its day, its Params' overlap and taskDate range, and the ``[sync_apis]``
    fetch options of its run type (``DagRun.run_type``: a backfill reuses fresh snapshots)."""
    from sync_apis.auvo.fetch_options import configured
    from sync_apis.auvo.sync import window_for

    overlap = params.get("overlap_minutes")
    return window_for(day, 10 if overlap is None else overlap, task_range_of(params), configured(run_type))


def schema_task(context: Any, logger: Any = log) -> str:
    """Apply include/sql/auvo (after sync_meta), then adopt any tables left by the old script."""
    from sync_apis.auvo.legacy import adopt_legacy
    from sync_apis.dag_tasks import apply_schema
    from sync_apis.warehouse_conn import warehouse_connection

    applied = apply_schema(context, "auvo", logger)
    conn = warehouse_connection()
    try:
        ti = context["ti"]
        adopted = adopt_legacy(conn, str(context["run_id"]), str(ti.dag_id), str(ti.task_id), logger)
    finally:
        conn.close()
    line = f"{applied}; " + ("; ".join(adopted) if adopted else "no legacy tables to adopt")
    logger.info("%s", line)
    return line


def sync_stream_task(context: Any, stream_name: str, logger: Any = log) -> str:
    """One mapped stream task: the run's day, its Params, one transaction."""
    from sync_apis.auvo.hook import DEFAULT_POLICY
    from sync_apis.auvo.sync import API_BUDGET_PER_MINUTE, SOURCE, make_hook, sync_stream
    from sync_apis.config import conn_id
    from sync_apis.dag_tasks import http_policy, param
    from sync_apis.empty_days import configured_thresholds
    from sync_apis.run_day import run_day
    from sync_apis.warehouse import RunInfo
    from sync_apis.warehouse_conn import warehouse_connection

    day = run_day(context)
    window = run_window(day, context["params"], getattr(context.get("dag_run"), "run_type", None))
    hook = make_hook(
        conn_id("auvo_api"),
        budget_per_minute=float(param(context, "api_budget_per_minute", API_BUDGET_PER_MINUTE)),
        policy=http_policy(context, DEFAULT_POLICY),
        logger=logger,
    )
    run = RunInfo.from_context(context, source=SOURCE, stream=stream_name, day=day)
    conn = warehouse_connection()
    try:
        result = sync_stream(conn, hook, stream_name, window, run, logger, configured_thresholds())
    finally:
        conn.close()
        hook.close()
    return result.line()
