"""Both DAG files are built the same way (issue 10, point 5), checked on the real DagBag.

Same schema tasks (Python tasks ``schema_sync_meta`` then ``schema_<schema>``), the same Asset
URI scheme, the same one macro for the run's day, checks on the same bound day parameters, and
files short enough to read at a glance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = {"auvo_daily": "auvo", "etrac_daily": "e_track"}
MAX_LINES = 99


@pytest.mark.parametrize("dag_id", sorted(SCHEMAS))
def test_the_dag_file_stays_short(dag_id: str) -> None:
    lines = len((REPO / "dags" / f"{dag_id}.py").read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"dags/{dag_id}.py has {lines} lines: move helpers to plugins/sync_apis"


@pytest.mark.parametrize("dag_id", sorted(SCHEMAS))
def test_schema_tasks_come_first_and_are_python_tasks(dagbag: Any, dag_id: str) -> None:
    dag = dagbag.get_dag(dag_id)
    first, second = dag.get_task("schema_sync_meta"), dag.get_task(f"schema_{SCHEMAS[dag_id]}")
    assert {type(first).__name__, type(second).__name__} == {"_PythonDecoratedOperator"}
    assert first.upstream_task_ids == set() and second.upstream_task_ids == {"schema_sync_meta"}
    schema_tasks = {t.task_id for t in dag.tasks if t.task_id.startswith("schema_")}
    assert schema_tasks == {first.task_id, second.task_id}


@pytest.mark.parametrize("dag_id", sorted(SCHEMAS))
def test_the_enabled_switch_takes_away_the_schedule_only(
    dagbag: Any, dag_id: str, airflow_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[sync_apis] <dag_id>_enabled = False``: no scheduled runs, the DAG otherwise unchanged."""
    from tests.support.airflow_env import load_dagbag

    assert type(dagbag.get_dag(dag_id).timetable).__name__ == "LocalDayTimetable"
    monkeypatch.setenv(f"AIRFLOW__SYNC_APIS__{dag_id.upper()}_ENABLED", "False")
    off, on = load_dagbag().get_dag(dag_id), dagbag.get_dag(dag_id)
    assert type(off.timetable).__name__ == "NullTimetable"
    assert (off.task_ids, off.params.dump(), off.max_active_runs) == (
        on.task_ids,
        on.params.dump(),
        on.max_active_runs,
    )


def test_both_dags_take_the_same_retry_params_with_their_hooks_defaults(dagbag: Any) -> None:
    """The retry Params are the same three in both DAGs; each default is its hook's own policy,
    and the seams (tests/support/seams.py) run with the DAG's Param defaults."""
    from sync_apis.auvo.hook import DEFAULT_POLICY as AUVO_POLICY
    from sync_apis.etrac.hook import DEFAULT_POLICY as ETRAC_POLICY
    from tests.support.seams import AUVO_DEFAULTS, ETRAC_DEFAULTS

    for dag_id, policy, seam_defaults in (
        ("auvo_daily", AUVO_POLICY, AUVO_DEFAULTS),
        ("etrac_daily", ETRAC_POLICY, ETRAC_DEFAULTS),
    ):
        params = dagbag.get_dag(dag_id).params
        retry = {name: params[name] for name in ("backoff_base_s", "max_attempts", "read_timeout_s")}
        assert retry == {
            "backoff_base_s": policy.backoff_base,
            "max_attempts": policy.max_attempts,
            "read_timeout_s": policy.read_timeout,
        }, dag_id
        assert {name: params[name] for name in seam_defaults} == seam_defaults, dag_id


def test_both_dags_share_one_day_macro_and_one_asset_scheme(dagbag: Any) -> None:
    from sync_apis.dag_defaults import MACROS, RUN_DAY_PARAMETERS, ParamCheck

    for dag_id, schema in SCHEMAS.items():
        dag = dagbag.get_dag(dag_id)
        assert dag.user_defined_macros == MACROS, dag_id
        checks = [t for t in dag.tasks if t.task_id.startswith("check_")]
        assert checks and all(isinstance(t, ParamCheck) for t in checks), dag_id
        assert all(RUN_DAY_PARAMETERS.items() <= t.parameters.items() for t in checks), dag_id
        outlets = [o for t in dag.tasks for o in t.outlets]
        assert outlets, dag_id
        for outlet in outlets:
            if type(outlet).__name__ == "Asset":
                assert outlet.uri == f"postgres://warehouse:5432/sync_apis/{outlet.name.replace('.', '/')}"
                assert outlet.name.startswith(f"{schema}.")
