"""Warned and refused days reach a person through the overview and the run tab (issue 9).

The warehouse here is written by the loader's own code, not by hand: ``warehouse.open_loads``
records a run whose empty-day check (``empty_days.judge``) found nothing where comparable days
had many, and ``retention.refuse_beyond`` records an e-Track day beyond its retention as a
failed row. Every value shown is compared with SQL on the same warehouse. A second warehouse
has only the sync_meta files before 003_empty_days.sql (upgraded code, not yet re-run): the
browser reads it without the new columns.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from tests.support.browser_app import browser_app
from tests.support.pg import PgUrl, create_database, drop_database

if TYPE_CHECKING:
    from sync_apis.warehouse import RunInfo

pytestmark = pytest.mark.timeout(300)
SP = ZoneInfo("America/Sao_Paulo")
AS_OF = date(2026, 6, 30)
GOOD_DAY, REFUSED_DAY, WARNED_DAY = (AS_OF - timedelta(days=n) for n in (3, 2, 1))
DAG_ID = "etrac_daily"


def _run_info(stream: str, day: date, map_index: int = -1) -> RunInfo:
    from sync_apis.warehouse import RunInfo

    return RunInfo("e_track", stream, day, f"scheduled__{day.isoformat()}", DAG_ID, "load_chunk", map_index)


def _load(
    conn: psycopg.Connection[Any],
    stream: str,
    day: date,
    rows: int,
    warning: str | None = None,
    map_index: int = -1,
) -> None:
    from sync_apis.warehouse import open_loads

    with open_loads(conn, _run_info(stream, day, map_index)) as (load,):
        load.finish(requests=1, pages=1, retries=0, rows_received=rows, day_rows=rows, warning=warning)


def _sync_meta(url: PgUrl, upto: str | None = None) -> None:
    """Apply include/sql/sync_meta in order, stopping before the file named ``upto``."""
    from sync_apis.sql_files import sql_files
    from sync_apis.warehouse import run_schema_files

    files = sql_files("sync_meta")
    if upto is not None:
        files = files[: [f.rsplit("/", 1)[1] for f in files].index(upto)]
    with psycopg.connect(url.url, autocommit=True) as conn:
        run_schema_files(conn, files)


@pytest.fixture(scope="module")
def warned(pg_server: PgUrl) -> Iterator[PgUrl]:
    """e_track positions/trips: a good day, a refused day (both streams), then a warned day of
    positions in two chunks, one of them warned — written last, so it is positions' last run."""
    from airflow.sdk.exceptions import AirflowFailException

    from sync_apis.empty_days import Thresholds, day_expectation, judge
    from sync_apis.retention import Retention, refuse_beyond

    db = create_database(pg_server, "sync_apis_test_browser_warned")
    try:
        _sync_meta(db)
        with psycopg.connect(db.url) as conn:
            _load(conn, "positions", GOOD_DAY, 900)
            _load(conn, "trips", GOOD_DAY, 40)
            retention = Retention("e_track", "e-Track", "etrac_retention_days", 90)
            now = datetime.combine(REFUSED_DAY + timedelta(days=200), datetime.min.time(), SP)
            refused = (_run_info("positions", REFUSED_DAY), _run_info("trips", REFUSED_DAY))
            with pytest.raises(AirflowFailException):
                refuse_beyond(conn, retention, REFUSED_DAY, now, *refused)
            expected = day_expectation({GOOD_DAY: 900}, WARNED_DAY)
            warning = judge("e_track", "positions", WARNED_DAY, 0, expected, Thresholds())
            assert warning is not None
            _load(conn, "positions", WARNED_DAY, 300, map_index=0)
            _load(conn, "positions", WARNED_DAY, 0, warning=warning.message, map_index=1)
        yield db
    finally:
        drop_database(pg_server, db)


@pytest.fixture(scope="module")
def airflow_app(warned: PgUrl, airflow_db: PgUrl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """This module's app reads ``warned`` (conftest's ``client`` and ``token`` follow it)."""
    with browser_app(warned, tmp_path_factory) as app:
        yield app


def q(url: PgUrl, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url.url) as conn:
        return conn.execute(statement, params).fetchall()


def _cell(page: str, stream: str, day: date) -> str:
    """The strip cell (its ``<a ...>`` tag, unescaped) of a stream's day."""
    row = page.split(f'data-source="e_track" data-stream="{stream}"', 1)[1].split("</tr>", 1)[0]
    (tag,) = re.findall(rf'<a [^>]*data-day="{day.isoformat()}"[^>]*>', row)
    return html.unescape(tag)


def test_a_warned_day_is_its_own_state_with_its_text(get: Any, warned: PgUrl) -> None:
    (warning,) = q(
        warned,
        "SELECT warning FROM sync_meta.sync_runs"
        " WHERE stream = 'positions' AND day = %s AND warning IS NOT NULL",
        WARNED_DAY,
    )[0]
    assert warning.startswith(f"e_track.positions {WARNED_DAY.isoformat()}: the API returned no rows")
    (rows,) = q(
        warned, "SELECT sum(rows_received) FROM sync_meta.sync_runs WHERE stream = 'positions' AND day = %s",
        WARNED_DAY,
    )[0]  # fmt: skip
    data = get("/api/health", as_of=AS_OF.isoformat()).json()
    streams = {s["stream"]: s for s in data["streams"]}
    days = {d["day"]: d for d in streams["positions"]["days"]}
    warned_cell = days[WARNED_DAY.isoformat()]
    assert (warned_cell["status"], warned_cell["rows"], warned_cell["warning"]) == ("warning", rows, warning)
    assert days[GOOD_DAY.isoformat()]["status"] == "success" and days[GOOD_DAY.isoformat()]["warning"] is None
    assert days[(GOOD_DAY - timedelta(days=1)).isoformat()]["status"] == "missing"
    # The last run of positions is the warned one; the last-run columns carry its warning.
    assert streams["positions"]["last_run"]["warning"] == warning
    assert streams["positions"]["last_run"]["ok"] is True
    # A warned day still counts as loaded (the run succeeded): the lag does not grow.
    assert streams["positions"]["last_success_day"] == WARNED_DAY.isoformat()

    first_sentence = warning.split(". ", 1)[0] + "."
    for lang, label in (("pt", "aviso: provavelmente incompleto"), ("en", "warning: probably incomplete")):
        page = get("/", as_of=AS_OF.isoformat(), lang=lang).text
        cell = _cell(page, "positions", WARNED_DAY)
        assert 'class="day warning airflow-link"' in cell
        assert f'title="{WARNED_DAY.isoformat()}: {rows} · {label} — {first_sentence}"' in cell
        assert "Check the source" not in cell  # shortened: the advice stays in the log and the run tab
        row = page.split('data-source="e_track" data-stream="positions"', 1)[1].split("</tr>", 1)[0]
        last = html.unescape(row.split('<td class="last-warning">', 1)[1].split("</td>", 1)[0])
        assert f'<span class="note warning" title="{warning}">⚠' in last
        assert f'<span class="line">{first_sentence}</span>' in last
        assert f"> {label}" in page  # the legend names the amber state


def test_a_refused_day_shows_its_reason(get: Any, warned: PgUrl) -> None:
    errors = q(
        warned,
        "SELECT stream, error FROM sync_meta.sync_runs WHERE day = %s AND status = 'failed' ORDER BY stream",
        REFUSED_DAY,
    )
    assert [s for s, _ in errors] == ["positions", "trips"]
    data = get("/api/health", as_of=AS_OF.isoformat()).json()
    page = get("/", as_of=AS_OF.isoformat(), lang="en").text
    for stream, error in errors:
        assert "is older than the e-Track API keeps" in error
        s = next(s for s in data["streams"] if s["stream"] == stream)
        cell = next(d for d in s["days"] if d["day"] == REFUSED_DAY.isoformat())
        assert (cell["status"], cell["error"], cell["warning"]) == ("failed", error, None)
        title = _cell(page, stream, REFUSED_DAY)
        assert f"{REFUSED_DAY.isoformat()}: 0 · failed — {error.split('. ', 1)[0]}." in title
    # trips' last run is the refusal: its column shows the error, not a warning.
    trips = page.split('data-source="e_track" data-stream="trips"', 1)[1].split("</tr>", 1)[0]
    assert '<span class="note failed"' in trips and "note warning" not in trips


def test_run_tab_lists_day_rows_and_the_warning(get: Any, warned: PgUrl) -> None:
    run_id = f"scheduled__{WARNED_DAY.isoformat()}"
    expected = q(
        warned,
        "SELECT map_index, status, day_rows, warning FROM sync_meta.sync_runs WHERE run_id = %s "
        "ORDER BY source, stream, day, task_id, map_index",
        run_id,
    )
    rows = get("/api/run", dag_id=DAG_ID, run_id=run_id).json()["rows"]
    assert [(r["map_index"], r["status"], r["day_rows"], r["warning"]) for r in rows] == [
        tuple(e) for e in expected
    ]
    page = get("/run", dag_id=DAG_ID, run_id=run_id).text
    assert page.count('<tr class="success warned">') == 1 and page.count('<tr class="success">') == 1
    assert html.unescape(page.split('data-col="warning">', 2)[2]).startswith(expected[1][3] + "</td>")


@pytest.fixture
def before_003(pg_server: PgUrl, monkeypatch: pytest.MonkeyPatch) -> Iterator[PgUrl]:
    """A warehouse whose sync_meta stops before 003_empty_days.sql, with one good day, read by
    the app in its place."""
    db = create_database(pg_server, "sync_apis_test_browser_pre003")
    try:
        _sync_meta(db, upto="003_empty_days.sql")
        with psycopg.connect(db.url) as conn:
            conn.execute(
                "INSERT INTO sync_meta.sync_runs (run_id, dag_id, task_id, source, stream, day, status,"
                " started_at, finished_at, rows_received)"
                " VALUES (%s, %s, 'load_chunk', 'e_track', 'positions', %s, 'success', now(), now(), 77)",
                (f"scheduled__{GOOD_DAY.isoformat()}", DAG_ID, GOOD_DAY),
            )
        monkeypatch.setenv("AIRFLOW_CONN_SYNC_APIS_DB", db.airflow_conn_json())
        yield db
    finally:
        drop_database(pg_server, db)


def test_a_warehouse_without_the_new_columns_still_renders(get: Any, before_003: PgUrl) -> None:
    assert (
        q(
            before_003,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'sync_meta'"
            " AND table_name = 'sync_runs' AND column_name IN ('warning', 'day_rows')",
        )
        == []
    )
    data = get("/api/health", as_of=AS_OF.isoformat()).json()
    (s,) = data["streams"]
    cell = next(d for d in s["days"] if d["day"] == GOOD_DAY.isoformat())
    assert (cell["status"], cell["rows"], cell["warning"]) == ("success", 77, None)
    assert s["last_run"]["warning"] is None
    page = get("/", as_of=AS_OF.isoformat()).text
    assert 'class="day success airflow-link"' in page and "day warning airflow" not in page
    rows = get("/api/run", dag_id=DAG_ID, run_id=f"scheduled__{GOOD_DAY.isoformat()}").json()["rows"]
    assert [r["rows_received"] for r in rows] == [77] and "warning" not in rows[0]
    get("/run", dag_id=DAG_ID, run_id=f"scheduled__{GOOD_DAY.isoformat()}")
