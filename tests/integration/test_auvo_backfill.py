"""`airflow backfill create … --max-active-runs 3` through a real scheduler, api-server and
dag-processor: three local days, loaded concurrently, no duplicates, equal to the sandbox."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest

from sync_apis.auvo.parse import local_time
from tests.conftest import sandbox_conn_json
from tests.support.airflow_stack import AirflowStack

DAYS = [date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)]


@pytest.mark.slow
def test_backfill_three_days_with_three_active_runs(pg_server, auvo_sandbox, warehouse_url):
    env = {
        "AIRFLOW_CONN_SYNC_APIS_DB": warehouse_url.airflow_conn_json(),
        "AIRFLOW_CONN_AUVO_API": sandbox_conn_json(
            auvo_sandbox.base_url, "/v2", "sandbox-api-key", "sandbox-api-token"
        ),
    }
    with AirflowStack(pg_server, extra_env=env, parallelism=8) as stack:
        stack.wait_for_dag("auvo_daily")
        stack.cli("dags", "unpause", "auvo_daily")
        stack.cli(
            "backfill",
            "create",
            "--dag-id",
            "auvo_daily",
            "--from-date",
            "2025-03-10",
            "--to-date",
            "2025-03-12",
            "--max-active-runs",
            "3",
        )
        # Unpausing also lets the scheduler create the latest scheduled run (catchup=False); it
        # is not part of the backfill and is left out.
        runs = [
            r for r in stack.wait_for_runs("auvo_daily", expected=3, timeout=420) if r.run_type == "backfill"
        ]
        assert [r.state for r in runs] == ["success"] * 3, stack.logs()
        starts = [local_time(r.data_interval_start.isoformat()).date() for r in runs]  # type: ignore[union-attr]
        assert starts == DAYS
        concurrent = stack.max_concurrent_runs("auvo_daily")

    with psycopg.connect(warehouse_url.url) as conn:
        for day in DAYS:
            start = local_time(day.isoformat() + "T00:00:00")
            live = {
                r[0]
                for r in conn.execute(
                    "SELECT task_id FROM auvo.tasks WHERE deleted_at IS NULL"
                    " AND task_date >= %s AND task_date < %s",
                    (start, start + timedelta(days=1)),
                ).fetchall()
            }
            assert live == {t["taskID"] for t in auvo_sandbox.world.tasks_for_day(day)}, day
        runs_per_day = conn.execute(
            "SELECT day, count(*) FROM sync_meta.sync_runs WHERE stream = 'tasks' AND status = 'success' "
            "AND day = ANY(%s) GROUP BY day ORDER BY day",
            (DAYS,),
        ).fetchall()
        assert runs_per_day == [(d, 1) for d in DAYS]
        customers = conn.execute(
            "SELECT count(*), count(DISTINCT customer_id) FROM auvo.customers"
        ).fetchone()
        assert customers[0] == customers[1] == len(auvo_sandbox.world.customers())
    assert concurrent >= 2  # the runs really overlapped
