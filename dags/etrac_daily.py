"""
### etrac_daily — e-Track vehicle tracking → PostgreSQL (`e_track` schema)

Loads **one local calendar day** (America/Sao_Paulo) per run: the 01:05 run loads yesterday;
`airflow dags test etrac_daily 2025-03-10`, a manual trigger or a backfill load exactly the days named.

1. `schema_sync_meta`, `schema_e_track` — the idempotent files in `include/sql/`; tables left by
   the old collector are adopted (moved to `e_track_legacy`, rows copied).
2. `latest` — `/ultimas-posicoes` → `e_track.terminals` and `e_track.positions`.
3. `plan` → `history` (mapped, one per chunk of plates) — the day's GPS history → `positions`,
   `/resumoviagens` → `trips`; one transaction per chunk. 4. `routes` — computed in SQL.
5. `check_*` — data quality. 6. `publish` — an Asset event per table (`e_track.<table>`).

**Params**: `plates` (empty = all vehicles), `chunk_size`, `requests_per_minute` (0 = unpaced);
retries as in auvo_daily: `backoff_base_s`, `max_attempts`, `read_timeout_s`.
Schedule: `[sync_apis] etrac_daily_run_at`; `etrac_daily_enabled = False` or pausing switches it off;
`etrac_pool`, `etrac_api_parallelism`. Connections: `etrac_api`, `sync_apis_db`.
Full description: `docs/dags/etrac_daily.md`.
"""

from __future__ import annotations

from airflow.sdk import chain, conf, get_current_context, task

from sync_apis.dag_defaults import ParamCheck, daily_dag, schema_sync_meta, table_asset
from sync_apis.etrac.checks import CHECK_FILES
from sync_apis.etrac.dag_params import dag_params

DAG_ID = "etrac_daily"
TABLE_ASSETS = [table_asset("e_track", table) for table in ("terminals", "positions", "trips", "routes")]
API_POOL = conf.get("sync_apis", "etrac_pool", fallback="default_pool")
API_PARALLELISM = conf.getint("sync_apis", "etrac_api_parallelism", fallback=4)

with daily_dag(
    DAG_ID,
    description="e-Track positions, GPS history, trips and routes for one local day",
    tag="e-track",
    doc_md=__doc__,
    params=dag_params(),
    max_active_runs=3,
) as dag:

    @task
    def schema_e_track() -> str:
        from sync_apis.etrac.dag_tasks import schema_task

        return schema_task(get_current_context())

    @task(pool=API_POOL)
    def latest() -> str:
        from sync_apis.etrac.dag_tasks import latest_task

        return latest_task(get_current_context())

    @task
    def plan() -> list[list[str]]:
        from sync_apis.etrac.dag_tasks import plan_task

        return plan_task(get_current_context())

    @task(pool=API_POOL, max_active_tis_per_dag=API_PARALLELISM, map_index_template="{{ chunk_label }}")
    def history(plates: list[str]) -> str:
        from sync_apis.etrac.dag_tasks import history_task

        context = get_current_context()  # chunk_label names the mapped instance in the UI, not "3"
        context["chunk_label"] = f"{plates[0]}..{plates[-1]} ({len(plates)} plates)"  # type: ignore[typeddict-unknown-key]
        return history_task(context, plates)

    @task(trigger_rule="none_failed")
    def routes() -> str:
        from sync_apis.etrac.dag_tasks import routes_task

        return routes_task(get_current_context())

    checks = [ParamCheck(task_id=f"check_{name}", sql=path) for name, path in CHECK_FILES.items()]

    @task(outlets=TABLE_ASSETS)
    def publish() -> str:
        from sync_apis.etrac.dag_tasks import publish_task

        return publish_task(get_current_context(), TABLE_ASSETS)

    chunks = plan()
    chain(schema_sync_meta(), schema_e_track(), latest(), chunks)
    chain(history.expand(plates=chunks), routes(), checks, publish())
