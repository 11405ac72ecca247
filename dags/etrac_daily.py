"""
### etrac_daily — e-Track vehicle tracking → PostgreSQL (`e_track` schema)

Each run loads **one local calendar day** (America/Sao_Paulo) — by default the previous day,
scheduled at **01:05** local time.

1. `schema_sync_meta`, `schema_e_track` — apply `include/sql/sync_meta` and `include/sql/e_track`
   (idempotent; a database left by the old collector is adopted: its tables are moved to
   `e_track_legacy`, kept, and their rows copied into the new tables).
2. `latest` — `/ultimas-posicoes` → `e_track.terminals` (vehicles + last fix) and `e_track.positions`.
3. `plan` — the plates: the `plates` Param, or every vehicle in `e_track.terminals`; in chunks.
4. `history` (mapped, one per chunk) — per plate, `/ultimasposicoesterminal` for the day →
   `positions` and `/resumoviagens` → `trips`; one transaction per chunk.
5. `routes` — `e_track.routes` for the day, computed in SQL from `positions`.
6. `checks.*` — coordinates in range, no future fixes, per-plate counts equal what the API returned.
7. `publish` — an Asset event per table (`e_track.terminals/positions/trips/routes`).

**Params**: `plates` (list; empty = all vehicles), `chunk_size` (plates per mapped task),
`requests_per_minute` (pace per task; default 0 = unpaced, or
`[sync_apis] etrac_requests_per_minute`).

**Operations** (Airflow config, no code change; env form `AIRFLOW__SYNC_APIS__<KEY>`):
`[sync_apis] etrac_daily_run_at = 01:05` (the schedule), `etrac_daily_enabled = False`
(no scheduled runs — like the old `RUN_ETRAC=0`; pausing the DAG does the same),
`etrac_pool` (pool of the API tasks, default `default_pool`; create a pool `etrac_api` and
set it to cap API calls across all runs), `etrac_api_parallelism` (history tasks running at
once across all runs, default 2).

Backfill: `airflow backfill create --dag-id etrac_daily --from-date 2025-03-10 --to-date 2025-03-12`
loads exactly those days. Every run is idempotent: re-running a day changes nothing.
Bookkeeping per task is in `sync_meta.sync_runs`; unusable records in `sync_meta.rejected_records`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.providers.common.sql.operators.sql import SQLCheckOperator, SQLExecuteQueryOperator
from airflow.sdk import DAG, Asset, Param, TaskGroup, chain, conf, task

from sync_apis.config import WAREHOUSE_CONN_TEMPLATE
from sync_apis.dag_defaults import DEFAULT_ARGS, MACROS, START_DATE, daily_timetable
from sync_apis.etrac.checks import CHECK_FILES
from sync_apis.etrac.pacing import configured_requests_per_minute
from sync_apis.sql_files import SQL_DIR, sql_files

DAG_ID = "etrac_daily"

TABLE_ASSETS = [
    Asset(name=f"e_track.{table}", uri=f"sync-apis://warehouse/e_track/{table}")
    for table in ("terminals", "positions", "trips", "routes")
]

ENABLED = conf.getboolean("sync_apis", f"{DAG_ID}_enabled", fallback=True)
API_POOL = conf.get("sync_apis", "etrac_pool", fallback="default_pool")
API_PARALLELISM = conf.getint("sync_apis", "etrac_api_parallelism", fallback=2)


with DAG(
    dag_id=DAG_ID,
    description="e-Track positions, GPS history, trips and routes for one local day",
    schedule=daily_timetable(DAG_ID) if ENABLED else None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=3,
    default_args=DEFAULT_ARGS,
    tags=["sync-apis", "e-track"],
    doc_md=__doc__,
    template_searchpath=[str(SQL_DIR)],
    user_defined_macros=MACROS,
    params={
        "plates": Param(
            [],
            type="array",
            items={"type": "string"},
            description="Plates to load (with or without hyphen); empty = every vehicle",
        ),
        "chunk_size": Param(10, type="integer", minimum=1, description="Plates per mapped history task"),
        "requests_per_minute": Param(
            configured_requests_per_minute(),
            type="integer",
            minimum=0,
            description="API requests per minute per task (0 = no pacing; a 429 is waited out for its "
            "Retry-After either way)",
        ),
    },
) as dag:
    schema_sync_meta = SQLExecuteQueryOperator(
        task_id="schema_sync_meta", conn_id=WAREHOUSE_CONN_TEMPLATE, sql=sql_files("sync_meta")
    )
    schema_e_track = SQLExecuteQueryOperator(
        task_id="schema_e_track", conn_id=WAREHOUSE_CONN_TEMPLATE, sql=sql_files("e_track")
    )

    @task(pool=API_POOL)
    def latest(**context: Any) -> str:
        """Latest position of every vehicle → terminals + positions."""
        from sync_apis.etrac.sync import latest_task

        return latest_task(**context)

    @task
    def plan(**context: Any) -> list[list[str]]:
        """Chunks of plates for the history tasks."""
        from sync_apis.etrac.sync import plan_task

        return plan_task(**context)

    @task(pool=API_POOL, max_active_tis_per_dag=API_PARALLELISM, map_index_template="{{ chunk_label }}")
    def history(plates: list[str], **context: Any) -> str:
        """GPS history and trips of one chunk of plates for the run's day."""
        from airflow.sdk import get_current_context

        from sync_apis.etrac.sync import history_task

        # Names the mapped instance in the UI ("ABC1D23..XYZ9876 (10 plates)") instead of "3".
        get_current_context()["chunk_label"] = f"{plates[0]}..{plates[-1]} ({len(plates)} plates)"

        return history_task(plates, **context)

    @task(trigger_rule="none_failed")
    def routes(**context: Any) -> str:
        """Routes of the day, computed in SQL from positions."""
        from sync_apis.etrac.sync import routes_task

        return routes_task(**context)

    with TaskGroup("checks") as checks:
        for path in CHECK_FILES:
            SQLCheckOperator(
                task_id=Path(path).stem.removeprefix("e_track_"), conn_id=WAREHOUSE_CONN_TEMPLATE, sql=path
            )

    @task(outlets=TABLE_ASSETS)
    def publish(*, outlet_events: Any = None, **context: Any) -> str:
        """One Asset event per e_track table, carrying the day loaded."""
        from sync_apis.dag_defaults import run_day

        day = run_day(context).isoformat()
        for asset in TABLE_ASSETS:
            outlet_events[asset].extra = {"day": day, "run_id": context["run_id"]}
        return f"e_track {day}: published {', '.join(a.name for a in TABLE_ASSETS)}"

    chunks = plan()
    chain(schema_sync_meta, schema_e_track, latest(), chunks)
    chain(history.expand(plates=chunks), routes(), checks, publish())
