"""A trigger with no logical date loads today so far, for both DAGs, through a real api-server.

``POST /api/v2/dags/<dag>/dagRuns`` with ``"logical_date": null`` — also what the UI's trigger
without a date sends — creates a run with no data interval. Such a run used to crash in every
task (``KeyError: 'data_interval_start'``) and retry for ten minutes. Here both real DAGs run
that way against sandboxes whose clock stands at the real now, under Airflow's default time
zone (UTC), and the warehouse must hold today's data in São Paulo as the sandboxes have it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from sync_apis.localday import day_bounds, local_date
from tests.support.airflow_stack import AirflowStack
from tests.support.auvo_world import FAST
from tests.support.connections import connection_env
from tests.support.etrac_world import assert_matches_ground_truth
from tests.support.sandboxes import small_auvo_config, small_etrac_config

SP = ZoneInfo("America/Sao_Paulo")


@pytest.fixture
def sandboxes_at_now() -> Any:
    from sandbox.auvo import AuvoConfig
    from sandbox.auvo import make_server as make_auvo
    from sandbox.core import Clock
    from sandbox.etrac import EtracConfig
    from sandbox.etrac import make_server as make_etrac

    # Pinned, so "today so far" is the same for the run and for the ground truth.
    now = datetime.now(SP).replace(microsecond=0)
    auvo = make_auvo(small_auvo_config(AuvoConfig), clock=Clock(now))
    etrac = make_etrac(small_etrac_config(EtracConfig), clock=Clock(now))
    auvo.start()
    etrac.start()
    try:
        yield auvo, etrac, now
    finally:
        auvo.stop()
        etrac.stop()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_both_dags_triggered_without_a_logical_date_load_today_so_far(
    pg_server: Any, warehouse_url: Any, sandboxes_at_now: Any
) -> None:
    auvo, etrac, now = sandboxes_at_now
    run_day: dict[str, date] = {}
    env = {
        **connection_env(warehouse=warehouse_url, auvo=auvo, etrac=etrac),
        # Only the triggered runs: no clock-driven run of yesterday on unpause.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    }
    dag_ids = ("auvo_daily", "etrac_daily")
    with AirflowStack(pg_server, extra_env=env, parallelism=8) as stack:
        stack.unpause(*dag_ids)
        for dag_id in dag_ids:
            # Auvo with FAST's budget and task range: the default pacing adds ~80 s of waiting and
            # nothing this test looks at (the conf leaves the date unset).
            conf = FAST if dag_id == "auvo_daily" else {}
            reply = stack.api("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})
            assert reply["logical_date"] is None and reply["data_interval_start"] is None
            # "Today" is the São Paulo day of the trigger: just before midnight it may be the
            # day after the sandbox's pinned clock, and that day must then be loaded (empty).
            run_day[dag_id] = local_date(datetime.fromisoformat(reply["run_after"]))
        for dag_id in dag_ids:
            (run,) = stack.wait_for_runs(dag_id, expected=1, timeout=420)
            assert run.state == "success", stack.logs()
        retried = stack.query(
            "SELECT dag_id, task_id, map_index, try_number, state FROM task_instance "
            "WHERE state <> 'success' OR try_number > 1"
        )
    assert retried == []  # nothing crashed and was retried into success

    with psycopg.connect(warehouse_url.url) as conn:
        # Every stream of both sources recorded today, and only today.
        days = conn.execute(
            "SELECT source, array_agg(DISTINCT day), bool_and(status = 'success') FROM sync_meta.sync_runs "
            "GROUP BY source ORDER BY source"
        ).fetchall()
        assert days == [("auvo", [run_day["auvo_daily"]], True), ("e_track", [run_day["etrac_daily"]], True)]

        # e-Track: today's fixes, trips and routes up to now, equal to the sandbox's own.
        today = run_day["etrac_daily"]
        assert_matches_ground_truth(conn, etrac.world, [today])
        loaded_today = conn.execute(
            "SELECT count(*) FROM e_track.positions WHERE data_transmissao >= %s AND data_transmissao < %s",
            day_bounds(today),
        ).fetchone()[0]
        truth_today = sum(etrac.world.day_summary(p, today).positions for p in etrac.world.plates())
        assert loaded_today == truth_today
        if now - datetime.combine(today, datetime.min.time(), SP) > timedelta(hours=2):
            assert truth_today > 0  # a day under way has fixes: the comparison is not vacuous

        # Auvo: the tasks scheduled for today, as the sandbox has them now.
        today = run_day["auvo_daily"]
        start, end = day_bounds(today)
        live = {
            r[0]
            for r in conn.execute(
                "SELECT task_id FROM auvo.tasks "
                "WHERE deleted_at IS NULL AND task_date >= %s AND task_date < %s",
                (start, end),
            ).fetchall()
        }
        assert live == {t["taskID"] for t in auvo.world.tasks_for_day(today)}
        if today == now.date():
            assert live, "the sandbox schedules tasks every day: an empty set would prove nothing"
