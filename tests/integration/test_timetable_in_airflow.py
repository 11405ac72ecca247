"""The day semantics with the real CLI, scheduler and backfill (Airflow 3.3).

``airflow dags test X 2025-03-10`` and ``airflow backfill create --from-date 2025-03-10
--to-date 2025-03-12`` must load exactly the local days asked for; with a cron timetable they
do not (two days off, and the last day missing). A probe DAG on LocalDayTimetable shows it
independently of the sync DAGs.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pendulum
import pytest

from tests.support.airflow_stack import AirflowStack

PROBE = textwrap.dedent(
    '''
    """Probe DAG for the timetable tests."""
    import pendulum
    from airflow.sdk import dag, task

    from sync_apis.dag_defaults import DEFAULT_ARGS, daily_timetable


    @dag(
        dag_id="timetable_probe",
        schedule=daily_timetable("timetable_probe"),
        start_date=pendulum.datetime(2025, 1, 1, tz="America/Sao_Paulo"),
        catchup=False,
        default_args={**DEFAULT_ARGS, "retries": 0},
        tags=["test"],
    )
    def timetable_probe():
        @task
        def noop() -> None:
            return None

        noop()


    timetable_probe()
    '''
)


def local_day(value) -> str:
    return pendulum.instance(value).in_timezone("America/Sao_Paulo").to_date_string()


@pytest.mark.slow
def test_dags_test_and_backfill_load_exactly_the_requested_days(pg_server, tmp_path: Path) -> None:
    (tmp_path / "timetable_probe.py").write_text(PROBE)
    with AirflowStack(pg_server, dags_folder=tmp_path) as stack:
        stack.wait_for_dag("timetable_probe")

        stack.cli("dags", "test", "timetable_probe", "2025-03-10")
        (manual,) = stack.query("SELECT data_interval_start, data_interval_end FROM dag_run")
        assert (local_day(manual[0]), local_day(manual[1])) == ("2025-03-10", "2025-03-11")

        stack.cli("dags", "unpause", "timetable_probe")
        stack.cli(
            "backfill",
            "create",
            "--dag-id",
            "timetable_probe",
            "--from-date",
            "2025-03-12",
            "--to-date",
            "2025-03-14",
            "--max-active-runs",
            "3",
        )
        runs = [r for r in stack.wait_for_runs("timetable_probe", expected=4) if r.run_type == "backfill"]
        assert [local_day(r.data_interval_start) for r in runs] == ["2025-03-12", "2025-03-13", "2025-03-14"]
        assert all(r.state == "success" for r in runs), runs
