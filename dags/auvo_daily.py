"""
### auvo_daily — Auvo API v2 → PostgreSQL (`auvo` schema)

Loads **one local calendar day** (America/Sao_Paulo) per run: the 01:05 run loads yesterday;
`airflow dags test auvo_daily 2025-03-10`, a manual trigger or a backfill load exactly the days named.

1. `schema_sync_meta`, `schema_auvo` — the idempotent files in `include/sql/`; tables left by the
   old `auvo_sync.py` are adopted (moved to `auvo_legacy`, rows copied).
2. `sync_stream` — one mapped task per stream (`plugins/sync_apis/auvo/streams.py`), each in its own
   transaction: a failing stream is red and retried alone. Asset event per table (`auvo.<table>`).
3. `check_keys`, `check_orphans`, `check_day_totals` — data quality on what the run loaded.

**Params**: `streams` (empty = all), `overlap_minutes`, `api_budget_per_minute`, `backoff_base_s`,
`max_attempts`, `read_timeout_s`, `task_days_back` / `task_days_ahead` / `task_window_days`,
`max_orphan_ratio`. Schedule: `[sync_apis] auvo_daily_run_at`; `auvo_daily_enabled = False` or
pausing switches it off.
Connections: `auvo_api`, `sync_apis_db`. Full description: `docs/dags/auvo_daily.md`.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import AssetAlias, get_current_context, task

from sync_apis.auvo.checks import ORPHANS_FILE, day_totals_sql, keys_sql
from sync_apis.auvo.dag_params import dag_params
from sync_apis.auvo.streams import STREAM_PARALLELISM
from sync_apis.dag_defaults import ParamCheck, daily_dag, schema_sync_meta, table_asset

DAG_ID = "auvo_daily"
ALIAS = AssetAlias("auvo_tables")

with daily_dag(
    DAG_ID,
    description="Auvo entities, tasks and expenses for one local day",
    tag="auvo",
    doc_md=__doc__,
    params=dag_params(),
) as dag:

    @task
    def schema_auvo() -> str:
        from sync_apis.auvo.dag_tasks import schema_task

        return schema_task(get_current_context())

    @task
    def select_streams(params: dict[str, Any] | None = None) -> list[str]:
        from sync_apis.auvo.streams import select

        return select((params or {}).get("streams"))

    @task(max_active_tis_per_dag=STREAM_PARALLELISM, map_index_template="{{ auvo_stream }}", outlets=[ALIAS])
    def sync_stream(stream: str) -> str:
        from sync_apis.auvo.dag_tasks import sync_stream_task

        context = get_current_context()
        context["auvo_stream"] = stream  # type: ignore[typeddict-unknown-key]
        line = sync_stream_task(context, stream)
        context["outlet_events"][ALIAS].add(table_asset("auvo", stream))
        return line

    checks = [
        ParamCheck(task_id="check_keys", build=keys_sql),
        ParamCheck(
            task_id="check_orphans",
            sql=ORPHANS_FILE,
            parameters={"max_orphan_ratio": "{{ params.max_orphan_ratio }}"},
        ),
        ParamCheck(task_id="check_day_totals", build=day_totals_sql),
    ]

    synced = sync_stream.expand(stream=select_streams())
    schema_sync_meta() >> schema_auvo() >> synced
    synced >> checks
