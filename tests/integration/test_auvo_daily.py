"""auvo_daily end to end against the Auvo sandbox and a real PostgreSQL: the DAG's tasks at the
library seam (tests/support/seams.py), and dag.test() where Airflow's verdict is what is tested.

The sandbox clock is pinned at SANDBOX_NOW (2025-03-13 12:00 local), so 2025-03-10..12 are
complete history and the world does not move unless a test mutates it.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from sync_apis.auvo.parse import local_time
from sync_apis.auvo.streams import STREAMS
from tests.support.auvo_world import FAST, assert_snapshots_match
from tests.support.seams import run_auvo_day

DAY = date(2025, 3, 10)


@pytest.fixture
def env(auvo_sandbox, warehouse_url, connect_airflow, run_dag):
    """``run``: the DAG's tasks at the library seam (tests/support/seams.py); ``run_dag``: the
    whole DAG with ``dag.test()``, for what Airflow decides (task states, the checks' verdicts)."""
    connect_airflow(warehouse=warehouse_url, auvo=auvo_sandbox)

    def run(day: date, **conf: Any) -> Any:
        return run_auvo_day(auvo_sandbox.base_url, warehouse_url.url, day, {**FAST, **conf})

    def run_in_airflow(day: date, expect_success: bool = True, **conf: Any) -> dict[str, str]:
        dr = run_dag("auvo_daily", day, {**FAST, **conf})
        states = {ti.task_id: str(ti.state) for ti in dr.get_task_instances() if ti.task_id != "sync_stream"}
        states |= {
            f"sync_stream[{ti.map_index}]": str(ti.state)
            for ti in dr.get_task_instances()
            if ti.task_id == "sync_stream"
        }
        if expect_success:
            assert str(dr.state) in ("success", "DagRunState.SUCCESS"), states
        return states

    class Env:
        sandbox = auvo_sandbox
        world = auvo_sandbox.world
        url = warehouse_url.url

        @staticmethod
        def q(statement: str, *params: Any) -> list[tuple[Any, ...]]:
            with psycopg.connect(warehouse_url.url) as conn:
                return conn.execute(statement, params).fetchall()

    Env.run = staticmethod(run)  # type: ignore[attr-defined]
    Env.run_dag = staticmethod(run_in_airflow)  # type: ignore[attr-defined]
    return Env


def table_hashes(e: Any) -> dict[str, str]:
    """Every auvo table, every column (synced_at and deleted_at included), in key order."""
    out = {}
    for s in STREAMS:
        out[s.name] = e.q(
            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.{s.key.name}), '')) FROM auvo.{s.name} t"
        )[0][0]
    return out


def assert_snapshots_match_truth(e: Any) -> None:
    with psycopg.connect(e.url) as conn:
        assert_snapshots_match(conn, e.world)


def live_tasks_on(e: Any, day: date) -> dict[int, Any]:
    rows = e.q(
        "SELECT task_id, raw FROM auvo.tasks WHERE deleted_at IS NULL AND task_date >= %s AND task_date < %s",
        _start(day),
        _start(day) + timedelta(days=1),
    )
    return dict(rows)


def _start(day: date) -> datetime:
    return local_time(day.isoformat() + "T00:00:00")  # type: ignore[return-value]


def test_a_day_loads_exactly_that_days_tasks(env):
    env.run_dag(DAY)
    truth = {t["taskID"]: t for t in env.world.tasks_for_day(DAY)}
    assert truth, "the sandbox world has tasks on the day"
    assert live_tasks_on(env, DAY) == truth
    # Nothing else, except what the contract adds: tasks updated in the day's window
    # (10 min overlap) and tasks deleted in it.
    start = _start(DAY)
    updated = {
        t["taskID"]
        for t in env.world.tasks_updated_between(start - timedelta(minutes=10), start + timedelta(days=1))
    }
    deleted = {
        t["taskID"] for t in env.world.deleted_tasks(start - timedelta(minutes=10), start + timedelta(days=1))
    }
    loaded = {r[0] for r in env.q("SELECT task_id FROM auvo.tasks")}
    assert loaded == set(truth) | updated | deleted
    other_days = loaded - set(truth)
    assert all(env.world.task(t) is None or t in updated for t in other_days)
    # The run's bookkeeping: one success row per stream, the day's API total recorded.
    runs = dict(
        env.q("SELECT stream, api_total FROM sync_meta.sync_runs WHERE status = 'success' AND day = %s", DAY)
    )
    assert set(runs) == {s.name for s in STREAMS}
    assert runs["tasks"] == len(truth)


def test_running_a_day_twice_changes_nothing(env):
    env.run(DAY)
    first = table_hashes(env)
    watermarks = env.q("SELECT source, stream, value FROM sync_meta.watermarks ORDER BY 1, 2")
    env.run(DAY)
    assert table_hashes(env) == first
    assert env.q("SELECT source, stream, value FROM sync_meta.watermarks ORDER BY 1, 2") == watermarks
    assert (
        env.q("SELECT count(*) FROM sync_meta.sync_runs WHERE stream = 'tasks' AND status = 'success'")[0][0]
        == 2
    )


def test_updates_and_deletions_between_runs_show_up_after_the_next_run(env):
    env.run(DAY)
    ids = sorted(live_tasks_on(env, DAY))
    changed, removed = ids[0], ids[1]
    env.world.update_task(changed, orientation="Trocar o compressor")
    env.world.delete_task(removed)
    user = env.world.snapshot("users")[-1]["userID"]
    env.world.remove_entity("users", user)
    customer = env.world.customers()[0]["id"]
    env.world.update_customer(customer, description="Cliente Renomeado")

    today = date(2025, 3, 13)  # the clock's day: the changes happened in its window
    env.run(today)
    raw, deleted_at = env.q("SELECT raw, deleted_at FROM auvo.tasks WHERE task_id = %s", changed)[0]
    assert raw["orientation"] == "Trocar o compressor" and deleted_at is None
    assert (
        env.q("SELECT orientation FROM auvo.tasks WHERE task_id = %s", changed)[0][0] == "Trocar o compressor"
    )
    assert env.q("SELECT deleted_at IS NOT NULL FROM auvo.tasks WHERE task_id = %s", removed)[0][0]
    assert env.q("SELECT deleted_at IS NOT NULL FROM auvo.users WHERE user_id = %s", user)[0][0]
    assert (
        env.q("SELECT description FROM auvo.customers WHERE customer_id = %s", customer)[0][0]
        == "Cliente Renomeado"
    )
    assert live_tasks_on(env, DAY) == {t["taskID"]: t for t in env.world.tasks_for_day(DAY)}


def test_the_warehouse_equals_the_sandbox_ground_truth(env):
    days = [date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)]
    for day in days:
        env.run(day)
    for day in days:
        assert live_tasks_on(env, day) == {t["taskID"]: t for t in env.world.tasks_for_day(day)}, day
        expenses = dict(
            env.q(
                "SELECT expense_id, raw FROM auvo.expenses WHERE deleted_at IS NULL"
                " AND date >= %s AND date < %s",
                _start(day),
                _start(day) + timedelta(days=1),
            )
        )
        assert expenses == {x["id"]: x for x in env.world.expenses_for_day(day)}, day
    customers = dict(env.q("SELECT customer_id, raw FROM auvo.customers WHERE deleted_at IS NULL"))
    assert customers == {c["id"]: c for c in env.world.customers()}
    assert_snapshots_match_truth(env)


LEGACY_DDL = """
CREATE SCHEMA auvo;
CREATE TABLE auvo.users (id bigserial PRIMARY KEY, external_id text, name text, login text, email text,
    user_id bigint, base_lat double precision, base_lon double precision, data jsonb, fetched_at timestamp);
CREATE TABLE auvo.customers (id bigserial PRIMARY KEY, customer_id bigint, external_id text,
    customer_name text,
    address text, latitude double precision, longitude double precision, data jsonb, fetched_at timestamp);
CREATE TABLE auvo.tasks (id bigserial PRIMARY KEY, task_id bigint, task_date timestamptz, customer_id bigint,
    user_from bigint, user_to bigint, latitude double precision, longitude double precision, task_status int,
    external_id text, data jsonb, fetched_at timestamp);
CREATE UNIQUE INDEX users_pkey_extra ON auvo.users (id);
"""


def test_a_database_left_by_the_old_scripts_is_adopted(env):
    with psycopg.connect(env.url, autocommit=True) as conn:
        conn.execute(LEGACY_DDL)

        def task(tid: int, status: int, when: int) -> str:
            return json.dumps(
                {
                    "taskID": tid,
                    "taskDate": "2024-06-01T09:00:00",
                    "taskStatus": status,
                    "expense": "1.234,50",
                    "customerId": 1,
                    "idUserTo": 2,
                }
            )

        rows = [  # task 11 twice: the later fetch must win; task 12 once; one row without any id
            (11, task(11, 1, 0), "2024-06-01 10:00:00"),
            (11, task(11, 5, 0), "2024-06-02 10:00:00"),
            (12, task(12, 3, 0), "2024-06-01 11:00:00"),
            (None, json.dumps({"note": "no id"}), "2024-06-01 12:00:00"),
        ]
        for tid, data, fetched in rows:
            conn.execute(
                "INSERT INTO auvo.tasks (task_id, data, fetched_at) VALUES (%s, %s, %s)", (tid, data, fetched)
            )
        conn.execute(
            "INSERT INTO auvo.users (user_id, name, data, fetched_at) VALUES (77, 'Old', NULL, now())"
        )
        conn.execute(
            "INSERT INTO auvo.customers (customer_id, customer_name, data) VALUES (88, 'Velho', %s)",
            (json.dumps({"id": 88, "description": "Velho", "dateLastUpdate": "2024-01-01T00:00:00"}),),
        )

    env.run(DAY)
    env.run(DAY)  # adoption happens once; a second run neither copies again nor fails
    assert env.q("SELECT count(*) FROM auvo_legacy.tasks")[0][0] == 4  # originals kept, untouched
    got = dict(env.q("SELECT task_id, task_status FROM auvo.tasks WHERE task_id IN (11, 12)"))
    assert got == {11: 5, 12: 3}
    assert env.q("SELECT expense, task_date FROM auvo.tasks WHERE task_id = 11")[0] == (
        Decimal("1234.50"),
        local_time("2024-06-01T09:00:00"),
    )
    assert env.q("SELECT name, raw FROM auvo.users WHERE user_id = 77")[0] == (
        "Old",
        {"userID": 77, "name": "Old"},
    )
    assert env.q("SELECT description FROM auvo.customers WHERE customer_id = 88")[0][0] == "Velho"
    adoptions = dict(env.q("SELECT legacy_table, keys_copied FROM auvo_legacy.adoptions"))
    assert adoptions == {"tasks": 2, "users": 1, "customers": 1}
    assert (
        env.q("SELECT count(*) FROM sync_meta.rejected_records WHERE reason LIKE 'legacy tasks:%%'")[0][0]
        == 1
    )
    # The new tables have the new shape, and the sync filled them next to the adopted rows.
    assert (
        env.q(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'auvo' "
            "AND table_name = 'tasks' AND column_name = 'id'"
        )[0][0]
        == 0
    )
    assert live_tasks_on(env, DAY) == {t["taskID"]: t for t in env.world.tasks_for_day(DAY)}


def test_the_orphan_check_can_fail(env):
    env.world.add_entity(
        "tasks",
        {
            "taskDate": "2025-03-10T10:00:00",
            "customerId": 4242424,
            "idUserTo": 0,
            "idUserFrom": 0,
            "description": "órfã",
        },
    )
    states = env.run_dag(DAY, expect_success=False, max_orphan_ratio=0)
    assert states["check_orphans"].endswith("failed")
    assert states["check_keys"].endswith("success") and states["check_day_totals"].endswith("success")
    second = env.run_dag(DAY, expect_success=False, max_orphan_ratio=1.0)
    assert second["check_orphans"].endswith("success"), second  # the default only reports


def test_a_deep_backfill_after_a_newer_day_leaves_the_newest_observation(env):
    """Day 12 is loaded, the world changes, then day 10 is backfilled.

    The backfill fetches *after* the change: its snapshot of users & co. is the newest
    observation there is and must be written (a rule "skip days older than the newest loaded"
    would keep day 12's stale snapshot); its tasks and customers are newer too. Every row the
    two runs observed equals the sandbox's ground truth now.
    """
    day10, day12 = date(2025, 3, 10), date(2025, 3, 12)
    env.run(day12)
    # A deletion made now is seen by the run whose window holds "now" (today's), not by day 10's:
    # the concurrent case of test_auvo_newer_wins covers deletions.
    edited = env.world.tasks_for_day(day10)[0]["taskID"]
    env.world.update_task(edited, orientation="Trocar o compressor")
    customer = env.world.customers()[3]["id"]
    env.world.update_customer(customer, description="Cliente Renomeado")
    user = env.world.snapshot("users")[-1]["userID"]
    env.world.remove_entity("users", user)
    env.world.update_entity("teams", env.world.snapshot("teams")[0]["id"], description="Equipe Nova")
    env.world.add_entity("keywords", {"description": "palavra nova"})

    env.run(day10)
    for day in (day10, day12):
        assert live_tasks_on(env, day) == {t["taskID"]: t for t in env.world.tasks_for_day(day)}, day
    assert (
        env.q("SELECT orientation FROM auvo.tasks WHERE task_id = %s", edited)[0][0] == "Trocar o compressor"
    )
    customers = dict(env.q("SELECT customer_id, raw FROM auvo.customers WHERE deleted_at IS NULL"))
    assert customers == {c["id"]: c for c in env.world.customers()}
    assert_snapshots_match_truth(env)
    assert env.q("SELECT deleted_at IS NOT NULL FROM auvo.users WHERE user_id = %s", user)[0][0]
    statuses = env.q("SELECT DISTINCT status FROM sync_meta.sync_runs WHERE day = %s", day10)
    assert statuses == [("success",)], "a sequential backfill skips nothing"
