"""Empty days are loud (issue 9, point 2): the sandboxes, a real PostgreSQL and, where Airflow
itself decides (a refused task fails without retrying), ``dag.test()``.

- e-Track refuses a day beyond its retention before any request: the task fails at once, with
  the reason and the override in the message and in a ``failed`` sync_runs row.
- Days with data, then a day the API answers empty (the sandbox's own retention, or an Auvo day
  before its history began): a WARNING naming source, stream, day and what was expected, and the
  same text in ``sync_runs.warning``, committed with the run's row. Days with data: no warning.
- An empty day with nothing to compare with: no warning (an INFO note only).

The load functions are called directly (one transaction each, as the DAG's tasks do); the
sandbox clocks are pinned at tests.support.sandboxes.SANDBOX_NOW (2025-03-13 12:00 local).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from sync_apis.auvo import sync as auvo_sync
from sync_apis.auvo.hook import AuvoHook
from sync_apis.auvo.task_range import TaskRange
from sync_apis.empty_days import Thresholds
from sync_apis.etrac import sync as etrac_sync
from sync_apis.etrac.hook import EtracHook
from sync_apis.http import HttpPolicy
from sync_apis.sql_files import sql_files
from sync_apis.warehouse import RunInfo, run_schema_files
from tests.support.airflow_env import load_dagbag
from tests.support.http_receiver import HttpReceiver
from tests.support.sandboxes import SANDBOX_NOW

pytestmark = pytest.mark.timeout(300)

POLICY = HttpPolicy(backoff_base=0.01, backoff_max=0.05, max_attempts=3)
SANDBOX_TODAY = SANDBOX_NOW.date()  # 2025-03-13
RETENTION_ENV = "AIRFLOW__SYNC_APIS__ETRAC_RETENTION_DAYS"


def q(conn: psycopg.Connection, statement: str, *args: Any) -> list[tuple[Any, ...]]:
    return conn.execute(statement, args).fetchall()


def run_rows(conn: psycopg.Connection, source: str, stream: str) -> dict[date, tuple[Any, ...]]:
    """day -> (status, rows_received, day_rows, warning, error) of the stream's runs."""
    rows = q(
        conn,
        "SELECT day, status, rows_received, day_rows, warning, error FROM sync_meta.sync_runs "
        "WHERE source = %s AND stream = %s ORDER BY day",
        source,
        stream,
    )
    return {row[0]: row[1:] for row in rows}


def warnings_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.fixture
def wh(warehouse_conn: psycopg.Connection) -> psycopg.Connection:
    """The warehouse with every schema, for the test's own queries (autocommit)."""
    warehouse_conn.autocommit = True
    run_schema_files(
        warehouse_conn, [f for schema in ("sync_meta", "auvo", "e_track") for f in sql_files(schema)]
    )
    return warehouse_conn


@pytest.fixture
def load_conn(warehouse_url: Any) -> Iterator[psycopg.Connection]:
    """The connection the loads use (their own, as in the DAG's tasks)."""
    with psycopg.connect(warehouse_url.url) as conn:
        yield conn


# --------------------------------------------------------------------------- e-Track: retention


def test_a_day_beyond_the_etrac_retention_is_refused_before_any_request(
    airflow_db: Any,
    etrac_sandbox: Any,
    warehouse_url: Any,
    connect_airflow: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole DAG, with its real retries: the refusal must fail the task at once."""
    connect_airflow(warehouse=warehouse_url, etrac=etrac_sandbox)
    monkeypatch.setenv(RETENTION_ENV, "90")
    # 2025-03-10 is far more than 90 days before the wall clock (the sandbox's clock is pinned,
    # but the sync judges by the real now, as it must in production).
    day = date(2025, 3, 10)
    from airflow._shared.timezones.timezone import parse

    dag = load_dagbag().get_dag("etrac_daily")
    assert dag.get_task("latest").retries == 3  # not zeroed: AirflowFailException must skip them
    dr = dag.test(logical_date=parse(day.isoformat()))

    states = {ti.task_id: str(ti.state) for ti in dr.get_task_instances()}
    assert states["schema_sync_meta"] == "success" and states["schema_e_track"] == "success"
    assert states["latest"] == "failed", states  # not up_for_retry
    assert {states[t] for t in ("plan", "history", "routes", "publish")} == {"upstream_failed"}
    assert etrac_sandbox.log == [], "no request may reach the API"

    with psycopg.connect(warehouse_url.url) as conn:
        ((status, error, try_number),) = q(
            conn,
            "SELECT status, error, try_number FROM sync_meta.sync_runs "
            "WHERE source = 'e_track' AND stream = 'latest' AND day = %s",
            day,
        )
        assert (status, try_number) == ("failed", 1)
        assert error.startswith(
            "AirflowFailException: e_track 2025-03-10 is older than the e-Track API keeps"
        )
        assert "retention of 90 days ([sync_apis] etrac_retention_days)" in error
        assert f"set {RETENTION_ENV}" in error and "Refused before any request" in error
        assert q(conn, "SELECT count(*) FROM e_track.terminals") == [(0,)]


def test_history_alone_is_refused_too_with_a_failed_row_per_stream(
    etrac_sandbox: Any, wh: psycopg.Connection, load_conn: psycopg.Connection
) -> None:
    """A cleared ``history`` task runs without ``latest``: it checks the retention itself."""
    from airflow.sdk.exceptions import AirflowFailException

    from sync_apis.retention import Reach, Retention, refuse_beyond

    day = date(2025, 3, 10)
    kept = Retention("e_track", "e-Track", "etrac_retention_days", 2)
    runs = [RunInfo("e_track", s, day, "r1", "etrac_daily", "history", 0) for s in ("positions", "trips")]
    with pytest.raises(AirflowFailException, match="e_track 2025-03-10 is older than the e-Track API keeps"):
        refuse_beyond(load_conn, kept, day, SANDBOX_NOW, *runs)
    for stream in ("positions", "trips"):
        ((status, *_, error),) = run_rows(wh, "e_track", stream).values()
        assert status == "failed" and "retention of 2 days" in error
    # The sandbox keeps the same two days: the oldest one it serves is not refused.
    assert refuse_beyond(load_conn, kept, SANDBOX_TODAY - timedelta(days=2), SANDBOX_NOW, *runs) is Reach.EDGE
    assert etrac_sandbox.log == []


# --------------------------------------------------------------------------- e-Track: empty days


@pytest.fixture
def etrac_load(
    etrac_sandbox: Any, connect_airflow: Any, load_conn: psycopg.Connection
) -> Callable[[date, str], str]:
    connect_airflow(etrac=etrac_sandbox)
    plates = etrac_sync.normalize_plates(etrac_sandbox.world.plates())

    def load(day: date, run_id: str) -> str:
        hook = EtracHook("etrac_api", policy=POLICY)
        positions, trips = (
            RunInfo("e_track", s, day, run_id, "etrac_daily", "history", 0) for s in ("positions", "trips")
        )
        try:
            return etrac_sync.load_history(load_conn, hook, positions, trips, day, plates)
        finally:
            hook.close()

    return load


def test_etrac_days_with_data_then_an_empty_day_warn_loudly(
    etrac_sandbox: Any,
    wh: psycopg.Connection,
    etrac_load: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO)
    # Warnings reach a person through the failure alerts' channels (here a webhook).
    webhook = HttpReceiver().start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALERT_WEBHOOK", json.dumps({"conn_type": "http", "host": webhook.base_url})
    )
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__ALERT_WEBHOOK_CONN_ID", "alert_webhook")
    for n, day in enumerate((date(2025, 3, 4), date(2025, 3, 5), date(2025, 3, 6))):
        etrac_load(day, f"full-{n}")
    assert warnings_logged(caplog) == []
    positions = run_rows(wh, "e_track", "positions")
    assert all(row[0] == "success" and row[2] > 100 and row[3] is None for row in positions.values())

    # The sandbox now keeps 3 days (2025-03-10..13): 2025-03-07 answers empty, with a 200.
    etrac_sandbox.config.retention_days = 3
    empty_day = date(2025, 3, 7)
    etrac_load(empty_day, "emptied")
    assert q(wh, "SELECT sum(positions_received) FROM e_track.history_counts WHERE dia = %s", empty_day) == [
        (0,)
    ]

    status, received, day_rows, warning, error = run_rows(wh, "e_track", "positions")[empty_day]
    assert (status, received, day_rows, error) == ("success", 0, 0, None)
    usual = sorted(row[2] for day, row in positions.items())[1]  # the median of the three days
    plates = etrac_sync.normalize_plates(etrac_sandbox.world.plates())
    assert warning.startswith(
        f"e_track.positions 2025-03-07: the API returned no positions for 5 plates "
        f"{plates[0]}..{plates[-1]}, "
        "while the 3 nearest days synced (2025-03-04..2025-03-06) returned a median of "
    )
    # Per plate medians, summed: close to the three days' own median.
    assert abs(float(warning.split("median of ")[1].split(".")[0].replace(",", "")) - usual) < usual * 0.5
    logged = warnings_logged(caplog)
    assert warning in logged  # the same sentence, at WARNING
    trips_warning = run_rows(wh, "e_track", "trips")[empty_day][3]
    assert trips_warning is not None and trips_warning.startswith(
        "e_track.trips 2025-03-07: the API returned no trips"
    )
    assert trips_warning in logged
    # One alert for the chunk, carrying both sentences; the days with data sent none.
    alerts = [r.json()["text"] for r in webhook.requests]
    assert len(alerts) == 1, alerts
    title = alerts[0].splitlines()[0]
    assert title.startswith("[sync-apis] WARNING "), title
    assert title.endswith("e_track.positions, e_track.trips: the day is probably incomplete (empty)"), title
    assert warning in alerts[0] and trips_warning in alerts[0]

    # A later day with data is quiet again, and the empty day does not poison its comparison.
    caplog.clear()
    etrac_load(date(2025, 3, 11), "full-again")
    assert run_rows(wh, "e_track", "positions")[date(2025, 3, 11)][3] is None
    assert warnings_logged(caplog) == []
    assert len(webhook.requests) == 1
    webhook.stop()


def test_etrac_empty_day_without_history_is_no_false_alarm(
    etrac_sandbox: Any, wh: psycopg.Connection, etrac_load: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    etrac_sandbox.config.retention_days = 3
    etrac_load(date(2025, 3, 7), "first-ever")
    assert run_rows(wh, "e_track", "positions")[date(2025, 3, 7)][:4] == ("success", 0, 0, None)
    assert warnings_logged(caplog) == []
    notes = [r.getMessage() for r in caplog.records if "no other successful run" in r.getMessage()]
    assert notes and all("e_track." in n for n in notes)


def test_etrac_day_at_the_edge_of_the_retention_warns_that_it_may_be_incomplete(
    etrac_sandbox: Any, wh: psycopg.Connection, connect_airflow: Any, load_conn: psycopg.Connection
) -> None:
    from sync_apis.retention import Reach, Retention

    connect_airflow(etrac=etrac_sandbox)
    kept = Retention("e_track", "e-Track", "etrac_retention_days", 3)
    day = date(2025, 3, 10)  # the cutoff, 2025-03-10 12:00, falls inside it
    assert kept.reach(day, SANDBOX_NOW) is Reach.EDGE
    hook = EtracHook("etrac_api", policy=POLICY)
    runs = [RunInfo("e_track", s, day, "edge", "etrac_daily", "history", 0) for s in ("positions", "trips")]
    plates = etrac_sync.normalize_plates(etrac_sandbox.world.plates())[:1]
    etrac_sync.load_history(load_conn, hook, *runs, day, plates, edge_note=kept.edge_note(day, SANDBOX_NOW))
    hook.close()
    warning = run_rows(wh, "e_track", "positions")[day][3]
    assert warning == (
        f"e_track.positions {plates[0]}: 2025-03-10 is at the edge of the e-Track API's retention "
        "(3 days, [sync_apis] etrac_retention_days): what happened before 2025-03-10 12:00 that day "
        "may already be gone, so the day may be incomplete"
    )


# --------------------------------------------------------------------------- Auvo


# The sandbox world's whole history lies within this range: fewer requests, same result.
RANGE = TaskRange(days_back=30, days_ahead=30, window_days=61)


@pytest.fixture
def auvo_load(
    auvo_sandbox: Any, connect_airflow: Any, load_conn: psycopg.Connection
) -> Callable[[str, date, str], auvo_sync.StreamResult]:
    connect_airflow(auvo=auvo_sandbox)

    def load(stream: str, day: date, run_id: str) -> auvo_sync.StreamResult:
        hook = AuvoHook("auvo_api", policy=POLICY)
        run = RunInfo("auvo", stream, day, run_id, "auvo_daily", "sync_stream")
        return auvo_sync.sync_stream(load_conn, hook, stream, auvo_sync.window_for(day, 10, RANGE), run)

    return load


def test_auvo_days_with_tasks_then_a_day_before_the_history_warns(
    auvo_sandbox: Any, wh: psycopg.Connection, auvo_load: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    full_days = [date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)]
    for day in full_days:
        for stream in ("tasks", "expenses"):
            result = auvo_load(stream, day, f"run-{day}")
            assert result.warnings == []
    assert warnings_logged(caplog) == []
    tasks = run_rows(wh, "auvo", "tasks")
    truth = {day: len(auvo_sandbox.world.tasks_for_day(day)) for day in full_days}
    assert {day: row[2] for day, row in tasks.items()} == truth  # day_rows = the day's own tasks
    assert min(truth.values()) >= 10

    # The sandbox's history begins 14 days before its clock: 2025-02-20 has no task and no expense.
    old_day = date(2025, 2, 20)
    assert auvo_sandbox.world.tasks_for_day(old_day) == []
    caplog.clear()
    result = auvo_load("tasks", old_day, "old")
    (warning,) = result.warnings
    assert (warning.source, warning.stream, warning.day, warning.kind) == ("auvo", "tasks", old_day, "empty")
    median = sorted(truth.values())[1]
    assert warning.message.startswith(
        "auvo.tasks 2025-02-20: the API returned no tasks, while the 3 nearest days synced "
        f"(2025-03-10..2025-03-12) returned a median of {median}. The data of this day is probably missing"
    )
    status, received, day_rows, recorded, error = run_rows(wh, "auvo", "tasks")[old_day]
    assert (status, day_rows, recorded, error) == ("success", 0, warning.message, None)
    # What the issue saw as "re-fetched everything updated since then and kept none of it": the
    # tasks changed after the old day, fetched by its updated-since query and left to the runs of
    # the days they changed on. They are counted in rows_received, not in day_rows.
    assert received > 0
    assert warning.message in warnings_logged(caplog)
    assert any(
        "changed after the day were fetched and left to the runs" in r.getMessage() for r in caplog.records
    )

    # Expenses (about 4 a day) are not "many" by default ([sync_apis] empty_day_min_rows = 10).
    assert auvo_load("expenses", old_day, "old").warnings == []
    assert run_rows(wh, "auvo", "expenses")[old_day][2:4] == (0, None)


def test_auvo_snapshot_that_comes_back_empty_warns(
    auvo_sandbox: Any, wh: psycopg.Connection, auvo_load: Any
) -> None:
    for n in range(3):
        assert auvo_load("users", date(2025, 3, 12), f"users-{n}").warnings == []
    # The API answers the users listing with its "no results" 404.
    auvo_sandbox.faults.arm("status", status=404, path="/users", times=None)
    result = auvo_load("users", date(2025, 3, 13), "users-empty")
    (warning,) = result.warnings
    users = len(auvo_sandbox.world.snapshot("users"))
    assert warning.message.startswith(
        f"auvo.users 2025-03-13: the API returned no users, while the last 3 successful runs returned "
        f"a median of {users}. The data of this listing is probably missing"
    )
    rows = q(wh, "SELECT day_rows, warning FROM sync_meta.sync_runs WHERE run_id = 'users-empty'")
    assert rows == [(0, warning.message)]


def test_auvo_empty_day_without_history_is_no_false_alarm(
    auvo_sandbox: Any, wh: psycopg.Connection, auvo_load: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert auvo_load("tasks", date(2025, 2, 20), "first-ever").warnings == []
    assert run_rows(wh, "auvo", "tasks")[date(2025, 2, 20)][2:4] == (0, None)
    assert warnings_logged(caplog) == []
    assert any(
        "auvo.tasks 2025-02-20: no tasks, and no other successful run" in r.getMessage()
        for r in caplog.records
    )


def test_the_columns_are_added_to_an_existing_sync_runs_once(wh: psycopg.Connection) -> None:
    # Applying the files again (every run does) changes nothing and does not fail.
    run_schema_files(wh, sql_files("sync_meta"))
    columns = q(
        wh,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'sync_meta' AND table_name = 'sync_runs' "
        "AND column_name IN ('day_rows', 'warning') "
        "ORDER BY column_name",
    )
    assert columns == [("day_rows", "bigint"), ("warning", "text")]


def test_etrac_latest_that_comes_back_without_vehicles_warns(
    etrac_sandbox: Any, wh: psycopg.Connection, connect_airflow: Any, load_conn: psycopg.Connection
) -> None:
    connect_airflow(etrac=etrac_sandbox)

    # Five vehicles are not "many" by default ([sync_apis] empty_day_min_rows = 10); here they are.
    def latest(run_id: str) -> None:
        hook = EtracHook("etrac_api", policy=POLICY)
        try:
            etrac_sync.load_latest(
                load_conn,
                hook,
                RunInfo("e_track", "latest", SANDBOX_TODAY, run_id, "etrac_daily", "latest"),
                Thresholds(min_rows=5),
            )
        finally:
            hook.close()

    for n in range(3):
        latest(f"latest-{n}")
    # Before the world's first fix no vehicle has a last position: E1 answers an empty list.
    first_day = etrac_sandbox.config.data_start
    etrac_sandbox.clock.set(datetime(first_day.year, first_day.month, first_day.day) - timedelta(days=1))
    latest("latest-empty")
    rows = q(
        wh,
        "SELECT run_id, day_rows, warning FROM sync_meta.sync_runs "
        "WHERE stream = 'latest' ORDER BY finished_at",
    )
    assert [r[:2] for r in rows] == [("latest-0", 5), ("latest-1", 5), ("latest-2", 5), ("latest-empty", 0)]
    assert [r[2] for r in rows[:3]] == [None] * 3
    assert rows[3][2].startswith(
        "e_track.latest 2025-03-13: the API returned no vehicles, while the last 3 successful runs returned "
        "a median of 5. The data of this listing is probably missing"
    )
