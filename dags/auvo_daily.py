"""
### auvo_daily — Auvo API v2 → PostgreSQL (`auvo` schema)

Each run loads **one local calendar day** (America/Sao_Paulo): the scheduled run at 01:05 loads
yesterday; `airflow dags test auvo_daily 2025-03-10`, a manual trigger for that date and
`airflow backfill create --dag-id auvo_daily --from-date … --to-date …` load exactly those days.

**Tasks**
1. `apply_sync_meta_schema`, `apply_auvo_schema` — the idempotent files in `include/sql/`; the
   second also adopts tables left by the old `auvo_sync.py` (moved to `auvo_legacy`, rows copied).
2. `sync_stream` — one mapped task per stream (see `plugins/sync_apis/auvo/streams.py`), each in
   its own transaction: a failing stream is red and retried alone while the others finish.
   - `tasks`: the day by `taskDate`, plus everything with `dateLastUpdate` in the day (minus the
     overlap) and a `taskDate` within `task_days_back`/`task_days_ahead` of it (asked in windows
     of `task_window_days`), plus `GetDeletedTasks` (same range) → `deleted_at`;
   - `customers`: `dateLastUpdate` watermark minus the overlap;
   - `expenses`: the day by expense date;
   - users, teams, task types, segments, keywords, questionnaires, customer groups, equipments
     (+ categories), products (+ categories), services, expense types: full snapshot; ids missing
     from a *complete* listing get `deleted_at`.
3. `check_keys`, `check_orphans`, `check_day_totals` — data quality on what the run loaded.

Every stream emits an Asset event for its table (`auvo.<table>`), through the alias `auvo_tables`.

**Params**: `streams` (empty = all), `overlap_minutes`, `api_budget_per_minute` (Auvo allows 400 per
IP; the run paces itself under it: at most 4 stream tasks run at once across all runs of this DAG,
each at budget × 0.9 / 4), `backoff_base_s`, `max_attempts`, `read_timeout_s`, `max_orphan_ratio`,
`task_days_back` / `task_days_ahead` / `task_window_days` (defaults 400 / 400 / 14, or
`[sync_apis] auvo_task_days_back` / `auvo_task_days_ahead` / `auvo_task_window_days`).

Older never overwrites newer: tasks and customers merge by `dateLastUpdate`; a snapshot fetched
before another run wrote that stream is not merged (its `sync_runs` row says `skipped`).

**Schedule / on-off**: 01:05 local, changed with `[sync_apis] auvo_daily_run_at` (or
`AIRFLOW__SYNC_APIS__AUVO_DAILY_RUN_AT`); switch the sync off by pausing the DAG.
Connections: `auvo_api` (host `https://api.auvo.com.br/v2`, login = apiKey, password = apiToken),
`sync_apis_db`.

Progress lines show page k of n (from `totalItems`), rows, rows/s, retries and the time spent
waiting for the rate budget; each stream task ends with a one-line summary, also in
`sync_meta.sync_runs`.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.sql.operators.sql import SQLCheckOperator
from airflow.sdk import DAG, Asset, AssetAlias, Param, get_current_context, task

from sync_apis.auvo.streams import STREAM_PARALLELISM, STREAMS
from sync_apis.auvo.task_range import configured_default
from sync_apis.config import WAREHOUSE_CONN_TEMPLATE
from sync_apis.dag_defaults import DEFAULT_ARGS, MACROS, START_DATE, daily_timetable
from sync_apis.sql_files import SQL_DIR

DAG_ID = "auvo_daily"
TABLES_ALIAS = AssetAlias("auvo_tables")
DAY_BOUNDS = {
    "run_id": "{{ run_id }}",
    "day_start": "{{ run_day_start() }}",
    "day_end": "{{ run_day_end() }}",
}


def table_asset(table: str) -> Asset:
    return Asset(name=f"auvo.{table}", uri=f"postgres://warehouse:5432/sync_apis/auvo/{table}", group="auvo")


class ParamCheck(SQLCheckOperator):
    """SQLCheckOperator whose bound parameters are rendered (run id, the run's day)."""

    template_fields = (*SQLCheckOperator.template_fields, "parameters")


with DAG(
    dag_id=DAG_ID,
    schedule=daily_timetable(DAG_ID),
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["sync-apis", "auvo"],
    doc_md=__doc__,
    template_searchpath=[str(SQL_DIR)],
    user_defined_macros=MACROS,
    params={
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
        "backoff_base_s": Param(
            5.0, type="number", minimum=0, description="First retry wait (jittered, doubling)."
        ),
        "max_attempts": Param(6, type="integer", minimum=1, description="HTTP attempts per request."),
        "read_timeout_s": Param(
            120, type="number", minimum=1, description="Seconds to wait for one Auvo answer."
        ),
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
    },
) as dag:

    @task
    def apply_sync_meta_schema() -> str:
        from sync_apis.auvo.sync import _db_conn
        from sync_apis.sql_files import sql_files
        from sync_apis.warehouse import run_schema_files

        conn = _db_conn()
        try:
            conn.autocommit = True
            return f"applied {run_schema_files(conn, sql_files('sync_meta'))}"
        finally:
            conn.close()

    @task
    def apply_auvo_schema() -> str:
        from sync_apis.auvo.sync import apply_schema_task

        return apply_schema_task(get_current_context())

    @task
    def select_streams(params: dict[str, Any] | None = None) -> list[str]:
        from sync_apis.auvo.streams import select

        return select((params or {}).get("streams"))

    @task(
        max_active_tis_per_dag=STREAM_PARALLELISM,
        map_index_template="{{ auvo_stream }}",
        outlets=[TABLES_ALIAS],
    )
    def sync_stream(stream: str) -> str:
        from sync_apis.auvo.sync import sync_stream_task

        context = get_current_context()
        context["auvo_stream"] = stream  # type: ignore[typeddict-unknown-key]
        line = sync_stream_task(stream, context)
        context["outlet_events"][TABLES_ALIAS].add(table_asset(stream))
        return line

    checks = [
        ParamCheck(task_id="check_keys", conn_id=WAREHOUSE_CONN_TEMPLATE, sql="checks/auvo_keys.sql"),
        ParamCheck(
            task_id="check_orphans",
            conn_id=WAREHOUSE_CONN_TEMPLATE,
            sql="checks/auvo_orphans.sql",
            parameters={**DAY_BOUNDS, "max_orphan_ratio": "{{ params.max_orphan_ratio }}"},
        ),
        ParamCheck(
            task_id="check_day_totals",
            conn_id=WAREHOUSE_CONN_TEMPLATE,
            sql="checks/auvo_day_totals.sql",
            parameters=DAY_BOUNDS,
        ),
    ]

    synced = sync_stream.expand(stream=select_streams())
    apply_sync_meta_schema() >> apply_auvo_schema() >> synced
    synced >> checks
