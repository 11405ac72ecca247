"""The day semantics with the real CLI, api-server and scheduler, under any ``default_timezone``.

A date a person types means that calendar date, whatever Airflow's ``[core] default_timezone``
is (most deployments leave it at UTC, and the bundle does not own that setting):
``airflow dags test X 2025-03-10``, a REST/UI trigger for 2025-03-10 and ``airflow backfill create
--from-date 2025-03-10 --to-date 2025-03-12`` load exactly the local days asked for; a trigger
with no logical date loads today so far (in São Paulo); the scheduler's own runs load yesterday.

Each case starts a whole stack under one setting. Probe DAGs on the sync DAGs' timetable report
the day *task code* sees (``run_day``) and the day the SQL checks' macros render, so the test
checks what a run loads, not only how Airflow labels it.
"""

from __future__ import annotations

import json
import textwrap
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pendulum
import pytest

from tests.support.airflow_stack import AirflowStack

SP = "America/Sao_Paulo"

PROBES = textwrap.dedent(
    '''
    """Probe DAGs for the day-semantics tests: each run returns the day its tasks load."""
    from airflow.sdk import DAG, task

    from sync_apis.dag_defaults import DEFAULT_ARGS, MACROS, START_DATE, daily_timetable

    for dag_id in ("probe_manual", "probe_backfill"):
        with DAG(
            dag_id=dag_id,
            schedule=daily_timetable(dag_id),
            start_date=START_DATE,
            catchup=False,
            default_args={**DEFAULT_ARGS, "retries": 0},
            user_defined_macros=MACROS,
            tags=["test"],
        ):

            @task(templates_dict={"sql_day": "{{ run_day() }}", "sql_start": "{{ run_day().start }}"})
            def day_loaded(templates_dict=None, **context):
                from sync_apis.run_day import run_day

                return {"task": run_day(context).isoformat(), **templates_dict}

            day_loaded()
    '''
)


def local_day(value: Any) -> str:
    return pendulum.instance(value).in_timezone(SP).to_date_string()


def expected_scheduled_day() -> str:
    """The day the scheduler's own run loads when the DAG is unpaused now: yesterday, once 01:05
    local has passed (computed here from the clock, not by the timetable under test)."""
    now = pendulum.now(SP)
    back = 1 if now.time() >= time(1, 5) else 2
    return (now.date() - timedelta(days=back)).isoformat()


def trigger(stack: AirflowStack, dag_id: str, logical_date: str | None) -> str:
    return str(stack.api("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": logical_date})["dag_run_id"])


def days_loaded(stack: AirflowStack, dag_id: str) -> dict[str, dict[str, Any]]:
    """run_id -> what the run's task returned (its day as task code and as SQL macros see it)."""
    rows = stack.query(
        "SELECT run_id, value FROM xcom "
        "WHERE dag_id = %s AND task_id = 'day_loaded' AND key = 'return_value'",
        (dag_id,),
    )
    return {run_id: value if isinstance(value, dict) else json.loads(value) for run_id, value in rows}


def runs(stack: AirflowStack, dag_id: str) -> dict[str, tuple[str, str | None, str]]:
    """run_id -> (run_type, local day of the data interval or None, state)."""
    rows = stack.query(
        "SELECT run_id, run_type, data_interval_start, state FROM dag_run WHERE dag_id = %s", (dag_id,)
    )
    return {r[0]: (r[1], local_day(r[2]) if r[2] is not None else None, r[3]) for r in rows}


@pytest.mark.slow
@pytest.mark.parametrize("default_timezone", [None, "UTC", SP, "Asia/Tokyo"])
def test_typed_dates_mean_those_days_under_any_default_timezone(
    pg_server: Any, tmp_path: Path, default_timezone: str | None
) -> None:
    (tmp_path / "probes.py").write_text(PROBES)
    with AirflowStack(pg_server, dags_folder=tmp_path, default_timezone=default_timezone) as stack:
        stack.wait_for_dag("probe_manual")
        stack.wait_for_dag("probe_backfill")

        # The CLI: `airflow dags test` parses the date in default_timezone.
        stack.cli("dags", "test", "probe_manual", "2025-03-10")
        # `airflow dags trigger -l`: Airflow infers this run's interval from the moment of the
        # trigger (today), but keeps the date typed as its logical date — which is what loads.
        stack.cli("dags", "trigger", "probe_manual", "-l", "2025-03-25", "--run-id", "cli_trigger")
        # The REST API, with the date written in UTC and as a São Paulo browser's UI sends it;
        # and with no logical date at all (the UI's trigger without a date).
        stack.unpause("probe_manual")
        rest_utc = trigger(stack, "probe_manual", "2025-03-20T00:00:00Z")
        rest_ui = trigger(stack, "probe_manual", "2025-03-21T03:00:00.000Z")
        before = pendulum.now(SP).date()
        no_date = trigger(stack, "probe_manual", None)
        today = {before.isoformat(), pendulum.now(SP).date().isoformat()}  # two, across midnight
        # The CLI's backfill parses --from-date/--to-date in default_timezone too.
        stack.unpause("probe_backfill")
        stack.cli(
            "backfill", "create", "--dag-id", "probe_backfill",
            "--from-date", "2025-03-10", "--to-date", "2025-03-12", "--max-active-runs", "3",
        )  # fmt: skip

        # probe_manual: dags test, CLI trigger, 3 REST, the scheduler's own; probe_backfill: 3 + 1.
        stack.wait_for_runs("probe_manual", expected=6)
        stack.wait_for_runs("probe_backfill", expected=4)

        manual, manual_days = runs(stack, "probe_manual"), days_loaded(stack, "probe_manual")
        backfill, backfill_days = runs(stack, "probe_backfill"), days_loaded(stack, "probe_backfill")

    assert all(state == "success" for *_, state in [*manual.values(), *backfill.values()]), (manual, backfill)

    def loaded(run_id: str, days: dict[str, dict[str, Any]]) -> str:
        seen = days[run_id]
        # Task code and the SQL checks' macros agree on the day, and on its first instant.
        assert seen["sql_day"] == seen["task"], seen
        assert seen["sql_start"] == pendulum.datetime(*map(int, seen["task"].split("-")), tz=SP).isoformat()
        return str(seen["task"])

    triggered = (rest_utc, rest_ui, no_date, "cli_trigger")
    (cli_run,) = [r for r in manual if r not in triggered and manual[r][0] == "manual"]
    assert manual[cli_run][1] == loaded(cli_run, manual_days) == "2025-03-10"
    assert loaded("cli_trigger", manual_days) == "2025-03-25"
    assert manual[rest_utc][1] == loaded(rest_utc, manual_days) == "2025-03-20"
    assert manual[rest_ui][1] == loaded(rest_ui, manual_days) == "2025-03-21"
    # No logical date: no data interval, and the task loads today (São Paulo) so far.
    assert manual[no_date][1] is None
    assert loaded(no_date, manual_days) in today

    backfilled = sorted(loaded(r, backfill_days) for r, v in backfill.items() if v[0] == "backfill")
    assert backfilled == ["2025-03-10", "2025-03-11", "2025-03-12"]
    assert sorted(v[1] for v in backfill.values() if v[0] == "backfill") == backfilled

    # Scheduled runs are as they always were: on unpause, the latest due day (yesterday).
    for got, days in ((manual, manual_days), (backfill, backfill_days)):
        (scheduled,) = [r for r, v in got.items() if v[0] == "scheduled"]
        assert got[scheduled][1] == loaded(scheduled, days) == expected_scheduled_day()
    assert date.fromisoformat(expected_scheduled_day()) < before
