"""etrac_daily's task adapters: Airflow context in, library calls with explicit arguments out.

Same shape as ``sync_apis.auvo.dag_tasks`` (``sync_apis.dag_tasks`` says how).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sync_apis import retention
from sync_apis.dag_tasks import apply_schema, http_policy, param
from sync_apis.etrac.chunking import DEFAULT_CHUNK_SIZE, chunked
from sync_apis.etrac.hook import DEFAULT_POLICY, EtracHook
from sync_apis.etrac.pacing import configured_requests_per_minute
from sync_apis.etrac.sync import (
    DEFAULT_RETENTION_DAYS,
    RETENTION_OPTION,
    SOURCE,
    load_history,
    load_latest,
    load_routes,
    normalize_plates,
    plan_plates,
)
from sync_apis.http import TokenBucket
from sync_apis.ratelimit import pacer_for
from sync_apis.run_day import run_day
from sync_apis.warehouse import RunInfo
from sync_apis.warehouse_conn import warehouse_connection

log = logging.getLogger(__name__)


def hook_for_run(context: Any) -> EtracHook:
    """The hook a task of this run uses: its pace and retry Params over e-Track's defaults."""
    from sync_apis.config import conn_id

    requests_per_minute = param(context, "requests_per_minute", configured_requests_per_minute())
    rpm = requests_per_minute if requests_per_minute and requests_per_minute > 0 else None
    etrac_conn = conn_id("etrac_api")
    # One budget for every worker when [sync_apis] rate_limit_redis_url is set; else per task.
    pacer = pacer_for("etrac", conn_id=etrac_conn, fallback=TokenBucket(rpm) if rpm else None)
    return EtracHook(etrac_conn, policy=http_policy(context, DEFAULT_POLICY), pacer=pacer, logger=log)


def etrac_retention() -> retention.Retention:
    """``[sync_apis] etrac_retention_days`` (default 90; 0 or empty = unknown), read at task time."""
    return retention.configured(SOURCE, "e-Track", RETENTION_OPTION, DEFAULT_RETENTION_DAYS)


def schema_task(context: Any) -> str:
    """Apply include/sql/e_track (after sync_meta); a legacy database is adopted in SQL there."""
    return apply_schema(context, "e_track", log)


def latest_task(context: Any) -> str:
    """E1 for the run. E1 answers *today's* last positions whatever the run's day, so a backfill
    of days within the retention still runs it: it is one request, it keeps the vehicle list
    ``plan`` reads current (a fresh warehouse has no other), and it never rewrites history
    (positions merge only new fixes, terminals only newer ones). A day beyond the retention is
    refused here, the run's first API task, before any request: nothing downstream runs."""
    from sync_apis.empty_days import configured_thresholds

    day = run_day(context)
    run = RunInfo.from_context(context, source=SOURCE, stream="latest", day=day)
    with warehouse_connection() as conn:
        retention.refuse_beyond(conn, etrac_retention(), day, datetime.now(UTC), run)
        hook = hook_for_run(context)
        try:
            return load_latest(conn, hook, run, configured_thresholds())
        finally:
            hook.close()


def plan_task(context: Any) -> list[list[str]]:
    """Chunks of plates for the mapped history task (a small list: plates only)."""
    with warehouse_connection() as conn:
        plates = plan_plates(conn, param(context, "plates", []))
    size = int(param(context, "chunk_size", DEFAULT_CHUNK_SIZE))
    chunks = chunked(plates, size)
    log.info(
        "e_track plan %s: %d plates in %d chunks of up to %d",
        run_day(context),
        len(plates),
        len(chunks),
        size,
    )
    return chunks


def history_task(context: Any, plates: list[str]) -> str:
    """One chunk's history. Checks the retention again: this task can be cleared and run alone."""
    from sync_apis.empty_days import configured_thresholds

    day = run_day(context)
    positions_run = RunInfo.from_context(context, source=SOURCE, stream="positions", day=day)
    trips_run = RunInfo.from_context(context, source=SOURCE, stream="trips", day=day)
    kept = etrac_retention()
    now = datetime.now(UTC)
    with warehouse_connection() as conn:
        reach = retention.refuse_beyond(conn, kept, day, now, positions_run, trips_run)
        edge_note = kept.edge_note(day, now) if reach is retention.Reach.EDGE else None
        hook = hook_for_run(context)
        try:
            return load_history(
                conn,
                hook,
                positions_run,
                trips_run,
                day,
                normalize_plates(plates),
                thresholds=configured_thresholds(),
                edge_note=edge_note,
            )
        finally:
            hook.close()


def routes_task(context: Any) -> str:
    day = run_day(context)
    run = RunInfo.from_context(context, source=SOURCE, stream="routes", day=day)
    with warehouse_connection() as conn:
        return load_routes(conn, run, day)


def publish_task(context: Any, assets: list[Any]) -> str:
    """One Asset event per e_track table (the task's outlets), carrying the day loaded."""
    day = run_day(context).isoformat()
    for asset in assets:
        context["outlet_events"][asset].extra = {"day": day, "run_id": context["run_id"]}
    return f"e_track {day}: published {', '.join(a.name for a in assets)}"
