"""Hostile answers from both APIs: the real hooks and loaders against the sandboxes and PostgreSQL.

Two kinds of hostility (issue 7, point 5), each armed as a sandbox fault (``sandbox.core``):

- an *answer* that is not the one asked for: a 200 with a proxy's HTML page, an empty or
  cut-short body, or JSON of an undocumented shape (a list for the envelope object, ``null``
  for the record list, the bare record list where the envelope belongs). It is retried, then
  fails with an ``UnexpectedAnswerError`` naming connection, endpoint, status, content type and
  what was expected; nothing of the day commits (rows, watermarks, ``history_counts``) and
  ``sync_runs`` holds a ``failed`` row. Healed, a re-run loads the day as the sandbox has it.
- *records* with impossible values: those whose key or day-defining stamp is unreadable are in
  ``sync_meta.rejected_records`` with a reason, the others load with the bad field NULL and the
  original kept (``raw`` / ``extra``); ``rows_received = rows_inserted + rows_rejected``.

The load functions are called directly (one transaction each, as the DAG's tasks do); one case
runs all of ``etrac_daily``'s tasks at the seam (``tests/support/seams.py``) to show the
watermark and that the day fails, then heals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest
import requests

from sync_apis.auvo import sync as auvo_sync
from sync_apis.auvo.hook import AuvoHook
from sync_apis.auvo.task_range import TaskRange
from sync_apis.etrac import sync as etrac_sync
from sync_apis.etrac.hook import EtracHook
from sync_apis.http import ApiError, HttpPolicy, UnexpectedAnswerError
from sync_apis.sql_files import sql_files
from sync_apis.warehouse import RunInfo, run_schema_files
from tests.support.etrac_world import SP, assert_matches_ground_truth, warehouse_day
from tests.support.seams import run_etrac_day

pytestmark = pytest.mark.timeout(300)

DAY = date(2025, 3, 10)
ATTEMPTS = 3
POLICY = HttpPolicy(backoff_base=0.01, backoff_max=0.05, max_attempts=ATTEMPTS)


@dataclass(frozen=True)
class Spoil:
    """A body fault and how the failure must describe it."""

    kind: str
    spec: dict[str, Any]  # extra Fault fields
    content_type: str  # a piece of the Content-Type the message names
    problem: str  # what the message says was wrong

    def arm(self, server: Any, path: str, **fields: Any) -> None:
        server.faults.arm(self.kind, times=None, path=path, **self.spec, **fields)


ANSWER_FAULTS = [
    pytest.param(Spoil("html_200", {}, "text/html", "an HTML page, not JSON"), id="html_200"),
    pytest.param(Spoil("empty_200", {}, "application/json", "an empty body"), id="empty_200"),
    pytest.param(Spoil("cut_200", {}, "application/json", "not valid JSON"), id="cut_200"),
    pytest.param(
        Spoil("wrong_shape", {"shape": "list_body"}, "application/json", "a JSON list instead"),
        id="list_body",
    ),
    pytest.param(
        Spoil("wrong_shape", {"shape": "bare_list"}, "application/json", "a JSON list instead"),
        id="bare_list",
    ),
]


def assert_names_everything(err: ApiError, connection: str, endpoint: str, spoil: Spoil) -> None:
    """The failure says which connection, endpoint, status, content type and expectation."""
    content_type, problem = spoil.content_type, spoil.problem
    assert isinstance(err, UnexpectedAnswerError), repr(err)
    text = str(err)
    assert f"connection {connection!r}" in text, text
    assert endpoint in text and "HTTP 200" in text and content_type in text, text
    assert problem in text and "; expected " in text and f"after {ATTEMPTS} attempts" in text, text
    assert (err.status, err.endpoint, err.connection) == (200, endpoint, connection)
    assert content_type in err.content_type and err.expected in text


def q(conn: psycopg.Connection, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return conn.execute(sql, args).fetchall()


def runs(conn: psycopg.Connection, source: str) -> list[tuple[Any, ...]]:
    return q(
        conn,
        "SELECT run_id, stream, status, rows_received, rows_inserted, rows_rejected, error "
        "FROM sync_meta.sync_runs WHERE source = %s ORDER BY finished_at",
        source,
    )


@pytest.fixture
def wh(warehouse_url: Any) -> Iterator[psycopg.Connection]:
    with psycopg.connect(warehouse_url.url, autocommit=True) as conn:
        run_schema_files(conn, sql_files("sync_meta") + sql_files("auvo") + sql_files("e_track"))
        yield conn


# --------------------------------------------------------------------------- Auvo


@pytest.fixture
def auvo_hook(auvo_sandbox: Any, connect_airflow: Any) -> Callable[[], AuvoHook]:
    connect_airflow(auvo=auvo_sandbox)
    return lambda: AuvoHook("auvo_api", policy=POLICY)


# One taskDate window over the sandbox world's whole history (±30 days): the tasks stream's
# queries are then the day's listing and one updated-since listing, both with records, so a
# fault armed after the first answer spoils a page of records, not an empty window's 404.
ONE_WINDOW = TaskRange(days_back=30, days_ahead=30, window_days=61)


def auvo_load(conn: psycopg.Connection, hook: AuvoHook, stream: str, run_id: str) -> auvo_sync.StreamResult:
    run = RunInfo("auvo", stream, DAY, run_id, "auvo_daily", "sync_stream")
    return auvo_sync.sync_stream(conn, hook, stream, auvo_sync.window_for(DAY, 10, ONE_WINDOW), run)


def day_start() -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, tzinfo=SP)


def auvo_tasks_on_day(conn: psycopg.Connection) -> dict[int, Any]:
    start = day_start()
    rows = q(
        conn,
        "SELECT task_id, raw FROM auvo.tasks WHERE deleted_at IS NULL AND task_date >= %s AND task_date < %s",
        start,
        start + timedelta(days=1),
    )
    return dict(rows)


@pytest.mark.parametrize("spoil", ANSWER_FAULTS)
def test_auvo_unreadable_answer_mid_listing_fails_the_day_and_commits_nothing(
    auvo_hook: Any,
    auvo_sandbox: Any,
    wh: psycopg.Connection,
    spoil: Spoil,
) -> None:
    # The day's listing is read (and staged) first; every later answer on /tasks is spoiled.
    spoil.arm(auvo_sandbox, "/v2/tasks", skip=1)
    with pytest.raises(ApiError) as caught:
        auvo_load(wh, auvo_hook(), "tasks", "r1")
    assert_names_everything(caught.value, "auvo_api", "/tasks/", spoil)
    assert (
        len([e for e in auvo_sandbox.requests_to("/v2/tasks") if e.fault == spoil.kind]) == ATTEMPTS
    )  # retried

    assert q(wh, "SELECT count(*) FROM auvo.tasks") == [(0,)]  # the staged first page did not commit
    assert q(wh, "SELECT count(*) FROM sync_meta.watermarks") == [(0,)]
    [(run_id, stream, status, *_counts, error)] = runs(wh, "auvo")
    assert (run_id, stream, status) == ("r1", "tasks", "failed")
    assert error.startswith("UnexpectedAnswerError: connection 'auvo_api': GET /tasks/ answered HTTP 200")

    auvo_sandbox.faults.clear()  # the API is healthy again
    auvo_load(wh, auvo_hook(), "tasks", "r2")
    truth = {t["taskID"]: t for t in auvo_sandbox.world.tasks_for_day(DAY)}
    assert truth and auvo_tasks_on_day(wh) == truth
    assert [r[:3] for r in runs(wh, "auvo")] == [("r1", "tasks", "failed"), ("r2", "tasks", "success")]


def test_auvo_null_record_list_is_not_an_empty_account_and_keeps_the_watermark(
    auvo_hook: Any, auvo_sandbox: Any, wh: psycopg.Connection
) -> None:
    auvo_load(wh, auvo_hook(), "customers", "r1")
    watermark = q(wh, "SELECT value FROM sync_meta.watermarks WHERE source = 'auvo' AND stream = 'customers'")
    before = q(wh, "SELECT customer_id, raw FROM auvo.customers ORDER BY 1")
    changed = auvo_sandbox.world.customers()[0]["id"]
    auvo_sandbox.clock.advance(timedelta(hours=1))
    auvo_sandbox.world.update_customer(changed, description="Renamed while the API misbehaved")

    spoil = Spoil("wrong_shape", {"shape": "null_list"}, "application/json", "'result.entityList' is null")
    spoil.arm(auvo_sandbox, "/v2/customers")
    with pytest.raises(ApiError) as caught:
        auvo_load(wh, auvo_hook(), "customers", "r2")
    assert_names_everything(caught.value, "auvo_api", "/customers/", spoil)
    assert (
        q(wh, "SELECT value FROM sync_meta.watermarks WHERE source = 'auvo' AND stream = 'customers'")
        == watermark
    )
    assert q(wh, "SELECT customer_id, raw FROM auvo.customers ORDER BY 1") == before
    assert [r[2] for r in runs(wh, "auvo")] == ["success", "failed"]

    auvo_sandbox.faults.clear()
    auvo_load(wh, auvo_hook(), "customers", "r3")
    assert dict(q(wh, "SELECT customer_id, raw FROM auvo.customers")) == {
        c["id"]: c for c in auvo_sandbox.world.customers()
    }
    assert q(wh, "SELECT description FROM auvo.customers WHERE customer_id = %s", changed) == [
        ("Renamed while the API misbehaved",)
    ]


def test_auvo_a_login_answer_that_is_a_proxy_page_is_retried_then_named(
    auvo_hook: Any, auvo_sandbox: Any, wh: psycopg.Connection
) -> None:
    spoil = Spoil("html_200", {}, "text/html", "an HTML page")
    spoil.arm(auvo_sandbox, "/v2/login")
    with pytest.raises(ApiError) as caught:
        auvo_load(wh, auvo_hook(), "teams", "r1")
    assert_names_everything(caught.value, "auvo_api", "/login/", spoil)
    assert "sandbox-api-token" not in str(caught.value)


def test_auvo_expenses_with_impossible_dates_are_rejected_and_the_rest_loads(
    auvo_hook: Any, auvo_sandbox: Any, wh: psycopg.Connection
) -> None:
    truth = {x["id"]: x for x in auvo_sandbox.world.expenses_for_day(DAY)}
    assert len(truth) >= 2, "the sandbox world has expenses on the day"
    fault = auvo_sandbox.faults.arm(
        "bad_values", values={"date": "2025-13-45T99:00:00"}, every=2, path="/v2/expenses"
    )
    summary = auvo_load(wh, auvo_hook(), "expenses", "r1").summary
    bad = {r["id"] for r in fault.corrupted}
    assert bad and bad < set(truth)
    assert dict(q(wh, "SELECT expense_id, raw FROM auvo.expenses")) == {
        k: v for k, v in truth.items() if k not in bad
    }
    rejected = q(wh, "SELECT reason, raw FROM sync_meta.rejected_records ORDER BY raw->>'id'")
    assert sorted(r[1]["id"] for r in rejected) == sorted(bad)
    assert all(reason == "unreadable date: '2025-13-45T99:00:00'" for reason, _ in rejected)
    assert [r[1] for r in rejected] == sorted(fault.corrupted, key=lambda r: str(r["id"]))  # kept as sent
    assert (summary.rows_received, summary.rows_rejected) == (len(truth), len(bad))
    assert summary.rows_received == summary.rows_inserted + summary.rows_rejected

    auvo_load(wh, auvo_hook(), "expenses", "r2")  # healthy again (the fault was one-shot)
    assert dict(q(wh, "SELECT expense_id, raw FROM auvo.expenses WHERE deleted_at IS NULL")) == truth


def test_auvo_descriptive_values_of_the_wrong_type_load_null_with_raw_as_sent(
    auvo_hook: Any, auvo_sandbox: Any, wh: psycopg.Connection
) -> None:
    values = {
        "name": {"first": "Ana"},
        "hourValue": "abc",
        "gpsFrequency": "often",
        "registrationDate": "31/02/2025",
    }
    fault = auvo_sandbox.faults.arm("bad_values", values=values, every=3, path="/v2/users")
    summary = auvo_load(wh, auvo_hook(), "users", "r1").summary
    truth = {u["userID"]: u for u in auvo_sandbox.world.snapshot("users")}
    bad = {u["userID"]: u for u in fault.corrupted}
    assert bad and set(bad) < set(truth)
    rows = {
        r[0]: r[1:]
        for r in q(
            wh, "SELECT user_id, name, hour_value, gps_frequency, registration_date, raw FROM auvo.users"
        )
    }
    assert set(rows) == set(truth)  # nobody rejected: the key and no day stamp were touched
    for user_id, (name, hour_value, gps, registered, raw) in rows.items():
        if user_id in bad:
            assert (name, hour_value, gps, registered) == (None, None, None, None)
            assert raw == bad[user_id]  # the originals, unknown fields included
        else:
            assert raw == truth[user_id] and name == (truth[user_id]["name"] or None)
    assert summary.rows_received == summary.rows_inserted == len(truth) and summary.rows_rejected == 0


# --------------------------------------------------------------------------- e-Track


@pytest.fixture
def etrac_hook(etrac_sandbox: Any, connect_airflow: Any) -> Callable[[], EtracHook]:
    connect_airflow(etrac=etrac_sandbox)
    return lambda: EtracHook("etrac_api", policy=POLICY)


def etrac_runs(day: date, run_id: str) -> tuple[RunInfo, RunInfo]:
    return tuple(  # type: ignore[return-value]
        RunInfo("e_track", stream, day, run_id, "etrac_daily", "history") for stream in ("positions", "trips")
    )


def history(conn: psycopg.Connection, hook: EtracHook, plates: list[str], run_id: str) -> str:
    return etrac_sync.load_history(conn, hook, *etrac_runs(DAY, run_id), DAY, plates)


def assert_history_matches_truth(conn: psycopg.Connection, world: Any, plates: list[str]) -> None:
    from sandbox.etrac import checksum_positions

    start = day_start()
    for plate in plates:
        truth = world.day_summary(plate, DAY)
        rows = warehouse_day(conn, plate, DAY)
        assert (plate, len(rows)) == (plate, truth.positions)
        assert checksum_positions(rows) == truth.checksum, plate
        trips = q(
            conn,
            "SELECT data_inicio_conducao, distancia_conducao FROM e_track.trips "
            "WHERE placa = %s AND data_inicio_conducao >= %s AND data_inicio_conducao < %s ORDER BY 1",
            plate,
            start,
            start + timedelta(days=1),
        )
        assert trips == [
            (t["data_inicio_conducao"], t["distancia_conducao"]) for t in world.trips(plate, DAY)
        ]
    counts = q(
        conn, "SELECT placa, positions_distinct FROM e_track.history_counts WHERE dia = %s ORDER BY 1", DAY
    )
    assert counts == sorted((p, world.day_summary(p, DAY).positions) for p in plates)


def assert_nothing_of_the_day(conn: psycopg.Connection) -> None:
    for table in ("terminals", "positions", "trips", "history_counts", "routes"):
        assert q(conn, f"SELECT count(*) FROM e_track.{table}") == [(0,)], table
    assert q(conn, "SELECT count(*) FROM sync_meta.watermarks") == [(0,)]
    assert q(conn, "SELECT count(*) FROM sync_meta.rejected_records") == [(0,)]
    assert q(conn, "SELECT count(*) FROM sync_meta.sync_runs WHERE status = 'success'") == [(0,)]


ETRAC_FAULTS = [
    *ANSWER_FAULTS,
    pytest.param(Spoil("wrong_shape", {"shape": "null_list"}, "application/json", "is null"), id="null_list"),
]


@pytest.mark.parametrize("spoil", ETRAC_FAULTS)
def test_etrac_latest_unreadable_answer_fails_and_commits_nothing(
    etrac_hook: Any,
    etrac_sandbox: Any,
    wh: psycopg.Connection,
    spoil: Spoil,
) -> None:
    spoil.arm(etrac_sandbox, "ultimas-posicoes")
    run = RunInfo("e_track", "latest", DAY, "r1", "etrac_daily", "latest")
    with pytest.raises(ApiError) as caught:
        etrac_sync.load_latest(wh, etrac_hook(), run)
    assert_names_everything(caught.value, "etrac_api", "/ultimas-posicoes", spoil)
    assert_nothing_of_the_day(wh)
    assert [r[1:3] for r in runs(wh, "e_track")] == [("latest", "failed")]

    etrac_sandbox.faults.clear()
    etrac_sync.load_latest(wh, etrac_hook(), RunInfo("e_track", "latest", DAY, "r2", "etrac_daily", "latest"))
    assert sorted(r[0] for r in q(wh, "SELECT placa FROM e_track.terminals")) == sorted(
        etrac_sandbox.world.plates()
    )


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [("ultimasposicoesterminal", "/ultimasposicoesterminal"), ("resumoviagens", "/resumoviagens")],
)
@pytest.mark.parametrize("spoil", ETRAC_FAULTS)
def test_etrac_history_unreadable_answer_for_a_later_plate_rolls_back_the_chunk(
    etrac_hook: Any,
    etrac_sandbox: Any,
    wh: psycopg.Connection,
    path: str,
    endpoint: str,
    spoil: Spoil,
) -> None:
    plates = etrac_sandbox.world.plates()[:3]
    # The first plate's answer is good (and staged); the second plate's is spoiled on every try.
    spoil.arm(etrac_sandbox, path, skip=1)
    with pytest.raises(ApiError) as caught:
        history(wh, etrac_hook(), plates, "r1")
    assert_names_everything(caught.value, "etrac_api", endpoint, spoil)
    assert len([e for e in etrac_sandbox.requests_to(path) if e.fault == spoil.kind]) == ATTEMPTS
    assert_nothing_of_the_day(wh)
    statuses = {(r[1], r[2]) for r in runs(wh, "e_track")}
    assert ("positions", "failed") in statuses and all(status == "failed" for _, status in statuses)

    etrac_sandbox.faults.clear()
    history(wh, etrac_hook(), plates, "r2")
    assert_history_matches_truth(wh, etrac_sandbox.world, plates)


def raw_history(server: Any, plate: str) -> list[dict[str, Any]]:
    """The sandbox's answer for the plate-day, fetched past the client (repeatable: the clock is pinned)."""
    answer = requests.post(
        f"{server.base_url}/monitoramento/ultimasposicoesterminal",
        json={"placa": plate, "data": DAY.strftime("%d/%m/%Y")},
        auth=("sandbox@example.com", "1234567890123"),
        timeout=10,
    )
    return answer.json()["posicoes"]


def sent_time(record: dict[str, Any]) -> datetime:
    return datetime.strptime(record["data_transmissao"], "%d/%m/%Y %H:%M:%S").replace(tzinfo=SP)


def test_etrac_positions_with_impossible_coordinates_are_rejected_the_rest_load(
    etrac_hook: Any, etrac_sandbox: Any, wh: psycopg.Connection
) -> None:
    world = etrac_sandbox.world
    plate = max(world.plates(), key=lambda p: world.day_summary(p, DAY).positions)
    sent = raw_history(etrac_sandbox, plate)
    fault = etrac_sandbox.faults.arm(
        "bad_values", values={"latitude": "91.5"}, every=4, path="ultimasposicoesterminal"
    )
    history(wh, etrac_hook(), [plate], "r1")

    assert len(fault.corrupted) == len(sent[::4]) > 0
    spoiled = {sent_time(r) for r in sent[::4]}
    kept = {sent_time(r) for i, r in enumerate(sent) if i % 4}  # a twin of a spoiled fix may be intact
    truth = {p["data_transmissao"] for p in world.positions(plate, DAY)}
    loaded = {r["data_transmissao"] for r in warehouse_day(wh, plate, DAY)}
    assert loaded == truth - (spoiled - kept)
    rejected = q(wh, "SELECT reason, raw FROM sync_meta.rejected_records WHERE stream = 'positions'")
    assert {r[0] for r in rejected} == {f"latitude out of range: '91.5' (placa {plate})"}
    assert {sent_time(r[1]) for r in rejected} == spoiled
    received, inserted, rejected_n = q(
        wh,
        "SELECT rows_received, rows_inserted, rows_rejected FROM sync_meta.sync_runs "
        "WHERE stream = 'positions'",
    )[0]
    assert (received, rejected_n) == (len(sent), len(fault.corrupted))
    assert received == inserted + rejected_n + (len(sent) - len(fault.corrupted) - len(loaded))  # + API twins
    assert q(wh, "SELECT positions_received, positions_rejected FROM e_track.history_counts") == [
        (len(sent), len(fault.corrupted))
    ]

    history(wh, etrac_hook(), [plate], "r2")  # the fault was one-shot: the day completes exactly
    assert_history_matches_truth(wh, world, [plate])


def test_etrac_unreadable_descriptive_values_load_null_with_the_original_in_extra(
    etrac_hook: Any, etrac_sandbox: Any, wh: psycopg.Connection
) -> None:
    world = etrac_sandbox.world
    plate = world.plates()[0]
    values = {"velocidade": "abc", "ignicao": {"on": 1}, "data_gravacao": "31/02/2025 10:00:00"}
    fault = etrac_sandbox.faults.arm("bad_values", values=values, every=3, path="ultimasposicoesterminal")
    history(wh, etrac_hook(), [plate], "r1")
    spoiled = {sent_time(r) for r in fault.corrupted}
    rows = q(
        wh,
        "SELECT data_transmissao, velocidade, ignicao, data_gravacao, extra FROM e_track.positions "
        "WHERE placa = %s",
        plate,
    )
    truth = {p["data_transmissao"]: p for p in world.positions(plate, DAY)}
    assert {r[0] for r in rows} == set(truth)  # nothing rejected
    nulled = [r for r in rows if r[1] is None]
    assert {r[0] for r in nulled} <= spoiled and nulled
    for _when, velocidade, ignicao, gravacao, extra in nulled:
        assert (velocidade, ignicao, gravacao) == (None, None, None)
        assert extra == {"_invalid": values}
    assert q(wh, "SELECT count(*) FROM sync_meta.rejected_records") == [(0,)]


def test_etrac_daily_with_a_bare_list_history_fails_and_claims_nothing_then_heals(
    etrac_sandbox: Any, warehouse_url: Any
) -> None:
    """etrac_daily's tasks (at the seam): no success for the day's positions, no history_counts,
    no watermark; the history task fails and routes, downstream of it, does not run."""
    etrac_sandbox.faults.arm("wrong_shape", shape="bare_list", times=None, path="ultimasposicoesterminal")
    conf = {"requests_per_minute": 0, "chunk_size": 10, "backoff_base_s": 0.01, "max_attempts": ATTEMPTS}
    with pytest.raises(UnexpectedAnswerError, match=f"after {ATTEMPTS} attempts"):  # the run's Params
        run_etrac_day(etrac_sandbox.base_url, warehouse_url.url, DAY, conf)
    with psycopg.connect(warehouse_url.url) as conn:
        assert q(conn, "SELECT count(*) FROM e_track.history_counts") == [(0,)]
        assert q(conn, "SELECT count(*) FROM e_track.routes") == [(0,)]
        assert q(conn, "SELECT count(*) FROM sync_meta.watermarks WHERE stream = 'history'") == [(0,)]
        start = day_start()
        assert q(
            conn,
            "SELECT count(*) FROM e_track.positions WHERE data_transmissao >= %s AND data_transmissao < %s",
            start,
            start + timedelta(days=1),  # the latest fixes (/ultimas-posicoes) are of the 13th
        ) == [(0,)]
        statuses = dict(
            q(conn, "SELECT stream, string_agg(DISTINCT status, ',') FROM sync_meta.sync_runs GROUP BY 1")
        )
        assert statuses["positions"] == "failed" and statuses["latest"] == "success"
        error = q(conn, "SELECT error FROM sync_meta.sync_runs WHERE stream = 'positions'")[0][0]
        assert "connection 'etrac_api'" in error and "HTTP 200" in error and "a JSON list instead" in error

    etrac_sandbox.faults.clear()
    run_etrac_day(etrac_sandbox.base_url, warehouse_url.url, DAY, conf)  # the checks included
    with psycopg.connect(warehouse_url.url) as conn:
        assert_matches_ground_truth(conn, etrac_sandbox.world, [DAY])
        watermark = q(
            conn, "SELECT value FROM sync_meta.watermarks WHERE source = 'e_track' AND stream = 'history'"
        )
        assert watermark == [(start + timedelta(days=1),)]
