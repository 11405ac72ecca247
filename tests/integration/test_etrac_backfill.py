"""``airflow backfill create`` against a real scheduler + api-server + dag-processor.

Three days with ``--max-active-runs 3``: each local day is loaded exactly once, runs overlap
without deadlocks (no failed attempt anywhere in sync_runs) or duplicates, and the warehouse
equals the sandbox's ground truth for those days.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from tests.support.airflow_stack import AirflowStack
from tests.support.etrac_world import assert_matches_ground_truth

SP = ZoneInfo("America/Sao_Paulo")
DAYS = [date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_backfill_loads_each_day_once(
    pg_server: Any,
    etrac_env: dict[str, str],
    etrac_sandbox: Any,
    warehouse_url: Any,
) -> None:
    # Only the backfill's runs: the scheduler creates no clock-driven runs of its own here.
    # The API tasks queue in a one-slot pool, as `make run` and docker-compose configure it.
    env = {
        **etrac_env,
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__SYNC_APIS__ETRAC_POOL": "etrac_api",
    }
    with AirflowStack(pg_server, extra_env=env, parallelism=8) as stack:
        # Through the REST API (an `airflow pools set` process costs seconds of CPU; the README's
        # form of it is run by tests/support/readme_commands.py).
        pool = {"name": "etrac_api", "slots": 1, "description": "e-Track API calls"}
        stack.api("POST", "/pools", pool, expect=201)
        stack.unpause("etrac_daily")
        stack.cli(
            "backfill", "create", "--dag-id", "etrac_daily",
            "--from-date", DAYS[0].isoformat(), "--to-date", DAYS[-1].isoformat(), "--max-active-runs", "3",
        )  # fmt: skip
        runs = stack.wait_for_runs("etrac_daily", expected=3, timeout=420)
        overlap = stack.max_concurrent_runs("etrac_daily")
        pools = stack.query(
            "SELECT DISTINCT task_id, pool FROM task_instance "
            "WHERE dag_id = 'etrac_daily' AND task_id IN ('latest', 'history') ORDER BY 1"
        )
        failed_tis = stack.query(
            "SELECT task_id, map_index, try_number, state FROM task_instance "
            "WHERE dag_id = 'etrac_daily' AND (state <> 'success' OR try_number > 1)"
        )

    assert [r.state for r in runs] == ["success"] * 3, runs
    assert [r.run_type for r in runs] == ["backfill"] * 3
    assert [(r.data_interval_start.astimezone(SP).date(), r.data_interval_end - r.data_interval_start)
            for r in runs] == [(d, timedelta(days=1)) for d in DAYS]  # fmt: skip
    assert 1 <= overlap <= 3
    assert failed_tis == []  # no task needed a retry: no deadlock, no serialization failure
    assert pools == [("history", "etrac_api"), ("latest", "etrac_api")]

    world = etrac_sandbox.world
    with psycopg.connect(warehouse_url.url) as conn:
        assert_matches_ground_truth(conn, world, DAYS)
        per_day = conn.execute(
            "SELECT day, stream, count(*), count(DISTINCT run_id), bool_and(status = 'success') "
            "FROM sync_meta.sync_runs WHERE source = 'e_track' GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
        n_chunks = 1  # 5 vehicles, the default chunk_size (25)
        expected = []
        for day in DAYS:
            expected += [(day, "latest", 1, 1, True), (day, "positions", n_chunks, 1, True),
                         (day, "routes", 1, 1, True), (day, "trips", n_chunks, 1, True)]  # fmt: skip
        assert per_day == expected
        # Exactly the fixes of the three days (plus the one latest fix per vehicle), nothing twice.
        start = DAYS[0]
        total_truth = sum(world.day_summary(p, d).positions for p in world.plates() for d in DAYS)
        in_days = conn.execute(
            "SELECT count(*) FROM e_track.positions "
            "WHERE data_transmissao >= %s::date::timestamp AT TIME ZONE 'America/Sao_Paulo' "
            "AND data_transmissao < (%s::date + 3)::timestamp AT TIME ZONE 'America/Sao_Paulo'",
            (start, start),
        ).fetchone()[0]
        assert in_days == total_truth
        routes = conn.execute(
            "SELECT rota_date, count(*) FROM e_track.routes GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert [r[0] for r in routes] == DAYS
    # Each plate-day was asked for once: 5 plates x 3 days history calls, same for trips.
    assert len(etrac_sandbox.requests_to("/ultimasposicoesterminal")) == len(world.plates()) * 3
    assert len(etrac_sandbox.requests_to("/resumoviagens")) == len(world.plates()) * 3
