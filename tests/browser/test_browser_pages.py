"""What the pages show equals what SQL on the same warehouse says.

The warehouse was loaded by the real DAGs for one sandbox day (conftest.loaded_warehouse);
every figure below is recomputed here in SQL or Python, not read back from the browser's code.
"""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.browser_routes import PREFIX

pytestmark = pytest.mark.timeout(300)
SP = ZoneInfo("America/Sao_Paulo")
POSITION_KEY = ("placa", "data_transmissao", "latitude", "longitude")


def test_overview_figures_match_sync_runs(get: Any, loaded_warehouse: Any) -> None:
    wh = loaded_warehouse
    yesterday = datetime.now(SP).date() - timedelta(days=1)
    data = get("/api/health").json()
    assert data["yesterday"] == yesterday.isoformat()
    streams = {(s["source"], s["stream"]): s for s in data["streams"]}
    expected = wh.q("SELECT DISTINCT source, stream FROM sync_meta.sync_runs")
    assert set(streams) == set(expected)
    page = get("/").text
    for source, stream in expected:
        s = streams[(source, stream)]
        (last_day,) = wh.q(
            "SELECT max(day) FROM sync_meta.sync_runs "
            "WHERE source = %s AND stream = %s AND status = 'success'",
            source,
            stream,
        )[0]
        assert s["last_success_day"] == last_day.isoformat() == wh.day.isoformat()
        assert s["lag_days"] == (yesterday - last_day).days
        (run_id, dag_id) = wh.q(
            "SELECT run_id, dag_id FROM sync_meta.sync_runs WHERE source = %s AND stream = %s "
            "ORDER BY finished_at DESC LIMIT 1",
            source,
            stream,
        )[0]
        totals = wh.q(
            "SELECT sum(rows_received), sum(rows_inserted), sum(rows_updated), sum(rows_rejected),"
            " sum(api_total) "
            "FROM sync_meta.sync_runs WHERE source = %s AND stream = %s AND run_id = %s",
            source,
            stream,
            run_id,
        )[0]
        last = s["last_run"]
        got = (last["rows_received"], last["rows_inserted"], last["rows_updated"], last["rows_rejected"])
        assert got == tuple(int(v) for v in totals[:4]), (source, stream)
        assert last["api_total"] == (None if totals[4] is None else int(totals[4]))
        # The loaded day is only in the 30-day strip when it is recent; the strip always has 30 days.
        assert len(s["days"]) == 30 and s["days"][-1]["day"] == yesterday.isoformat()
        # The HTML row shows the same numbers.
        row = page.split(f'data-source="{source}" data-stream="{stream}"', 1)[1].split("</tr>", 1)[0]
        assert f'<td class="num received">{got[0]}</td>' in row
        assert f'<td class="last-day">{last_day.isoformat()}</td>' in row
        assert dag_id in wh.runs


def test_overview_strip_colours_and_links_days(get: Any, loaded_warehouse: Any) -> None:
    """The strip ends yesterday, so the sandbox day (2025) is outside it: ask for it via the module."""
    import psycopg

    from sync_apis.browser.health import stream_health

    wh = loaded_warehouse
    with psycopg.connect(wh.url.url) as conn:
        streams = stream_health(conn, today_minus_one=wh.day + timedelta(days=1))
    assert streams
    for s in streams:
        by_day = {c.day: c for c in s.strip}
        loaded = by_day[wh.day]
        (rows, run_id, failed) = wh.q(
            "SELECT sum(rows_received), min(run_id), bool_or(status = 'failed') FROM sync_meta.sync_runs "
            "WHERE source = %s AND stream = %s AND day = %s",
            s.source,
            s.stream,
            wh.day,
        )[0]
        assert (loaded.status, loaded.rows, loaded.run_id) == (
            "failed" if failed else "success",
            rows,
            run_id,
        )
        assert by_day[wh.day + timedelta(days=1)].status == "missing"  # nothing loaded the next day
        assert s.lag_days == 1


def test_tables_lists_every_table_of_the_three_schemas(get: Any, loaded_warehouse: Any) -> None:
    expected = loaded_warehouse.q(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN ('auvo', 'e_track', 'sync_meta') "
        "ORDER BY 1, 2"
    )
    got = [(t["schema"], t["table"]) for t in get("/api/tables").json()["tables"]]
    assert got == [tuple(r) for r in expected]
    page = get("/tables").text
    for schema, table in expected:
        assert f'href="{PREFIX}/tables/{schema}/{table}?lang=pt"' in page


def _walk(get: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    after = None
    for _ in range(1000):
        page = get(path, **params, **({"after": after} if after else {})).json()
        rows += page["rows"]
        after = page["next"]
        if not after:
            return rows
    raise AssertionError("paging did not end")


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(str(row[c]) for c in POSITION_KEY)


@pytest.mark.parametrize(
    ("sort", "direction", "order_sql"),
    [
        (None, "asc", "placa, data_transmissao, latitude, longitude"),
        (
            "velocidade",
            "desc",
            "velocidade DESC NULLS FIRST, placa DESC, data_transmissao DESC, latitude DESC, longitude DESC",
        ),
        ("logradouro", "asc", "logradouro ASC NULLS LAST, placa, data_transmissao, latitude, longitude"),
        ("placa", "desc", "placa DESC, data_transmissao DESC, latitude DESC, longitude DESC"),
    ],
)
def test_keyset_paging_visits_every_row_once_in_order(
    get: Any, loaded_warehouse: Any, sort: str | None, direction: str, order_sql: str
) -> None:
    params = {"limit": 50, "dir": direction, **({"sort": sort} if sort else {})}
    rows = _walk(get, "/api/tables/e_track/positions", **params)
    expected = loaded_warehouse.q(
        "SELECT placa, data_transmissao, latitude, longitude FROM e_track.positions ORDER BY " + order_sql
    )
    assert len(expected) > 10 * 50  # many pages
    assert [_key(r) for r in rows] == [_sql_key(*r) for r in expected]


def _sql_key(placa: str, t: datetime, lat: float, lon: float) -> tuple[str, ...]:
    # The JSON API sends timestamps in ISO form (jsonable_encoder), São Paulo offset.
    return (placa, t.astimezone(SP).isoformat(), str(lat), str(lon))


def test_filters_and_search_count_what_sql_counts(get: Any, loaded_warehouse: Any) -> None:
    wh = loaded_warehouse
    start = datetime(wh.day.year, wh.day.month, wh.day.day, tzinfo=SP)
    (plate,) = wh.q("SELECT min(placa) FROM e_track.positions")[0]
    cases = [
        (
            {"f.data_transmissao": wh.day.isoformat()},
            "data_transmissao >= %s AND data_transmissao < %s",
            [start, start + timedelta(days=1)],
        ),
        ({"f.velocidade": ">50"}, "velocidade > 50", []),
        ({"f.velocidade": ">50", "f.placa": plate}, "velocidade > 50 AND placa ILIKE %s", [f"%{plate}%"]),
        ({"f.ignicao": "false"}, "ignicao = false", []),
        ({"f.logradouro": "NULL"}, "logradouro IS NULL", []),
    ]
    for params, where, values in cases:
        (expected,) = wh.q(f"SELECT count(*) FROM e_track.positions WHERE {where}", *values)[0]
        got = get("/api/tables/e_track/positions", **params).json()
        assert (got["count"], got["count_is_estimate"]) == (expected, False), params
        assert len(got["rows"]) == min(expected, 50)
    (task_id, customer) = wh.q(
        "SELECT task_id, customer_description FROM auvo.tasks WHERE customer_description IS NOT NULL LIMIT 1"
    )[0]
    found = get("/api/tables/auvo/tasks", q=customer[:6]).json()
    assert task_id in [r["task_id"] for r in found["rows"]] or found["next"]


def test_a_big_table_shows_the_catalog_estimate_marked(
    get: Any, loaded_warehouse: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from sync_apis.browser import query

    wh = loaded_warehouse
    with psycopg.connect(wh.url.url, autocommit=True) as conn:
        conn.execute("ANALYZE e_track.positions")  # the catalog estimate, as autovacuum would leave it
    (reltuples,) = wh.q("SELECT reltuples::bigint FROM pg_class WHERE oid = 'e_track.positions'::regclass")[0]
    monkeypatch.setattr(query, "EXACT_COUNT_LIMIT", 100)
    got = get("/api/tables/e_track/positions").json()
    assert (got["count"], got["count_is_estimate"]) == (reltuples, True)
    assert "estimativa" in get("/tables/e_track/positions").text
    # Filtered, a big table gets the planner's estimate (counting would read the whole table).
    filtered = get("/api/tables/e_track/positions", **{"f.velocidade": ">=30"}).json()
    with psycopg.connect(wh.url.url) as conn:
        plan = conn.execute("EXPLAIN (FORMAT JSON) SELECT 1 FROM e_track.positions WHERE velocidade >= 30")
        planned = plan.fetchone()[0][0]["Plan"]["Plan Rows"]
    assert (filtered["count"], filtered["count_is_estimate"]) == (planned, True)
    (exact,) = wh.q("SELECT count(*) FROM e_track.positions WHERE velocidade >= 30")[0]
    assert 0.5 * exact <= planned <= 2 * exact  # an estimate worth showing


def test_csv_is_the_filtered_view(client: Any, token: str, loaded_warehouse: Any) -> None:
    wh = loaded_warehouse
    resp = client.get(
        f"{PREFIX}/tables/e_track/positions/csv",
        params={"f.velocidade": ">40", "sort": "velocidade", "dir": "desc"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.text)))
    header, body = rows[0], rows[1:]
    columns = [
        c
        for (c,) in wh.q(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'e_track' "
            "AND table_name = 'positions' ORDER BY ordinal_position"
        )
    ]
    assert header == columns
    expected = wh.q(
        "SELECT placa, velocidade FROM e_track.positions WHERE velocidade > 40 "
        "ORDER BY velocidade DESC NULLS FIRST, placa DESC, data_transmissao DESC, latitude DESC,"
        " longitude DESC"
    )
    i_placa, i_vel = header.index("placa"), header.index("velocidade")
    assert [(r[i_placa], int(float(r[i_vel]))) for r in body] == [(p, int(v)) for p, v in expected]


def test_record_view_shows_typed_columns_and_pretty_raw(get: Any, loaded_warehouse: Any) -> None:
    wh = loaded_warehouse
    (task_id, raw, status) = wh.q(
        "SELECT task_id, raw, task_status FROM auvo.tasks ORDER BY task_id LIMIT 1"
    )[0]
    record = get("/api/tables/auvo/tasks/record", **{"k.task_id": task_id}).json()
    assert (record["task_id"], record["raw"], record["task_status"]) == (task_id, raw, status)
    page = get("/tables/auvo/tasks/record", **{"k.task_id": task_id}).text
    shown = page.split('data-col="raw"><pre class="json">', 1)[1].split("</pre>", 1)[0]
    assert json.loads(html.unescape(shown)) == raw
    assert "\n  " in shown  # pretty-printed, one field a line
    # The table page links each row to this record view.
    listing = get("/tables/auvo/tasks", **{"f.task_id": f"={task_id}"}).text
    assert f"record?lang=pt&amp;k.task_id={task_id}" in listing


def test_labels_follow_lang_and_accept_language(client: Any, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    assert "Visão geral" in client.get(f"{PREFIX}/", headers=auth).text
    assert "Overview" in client.get(f"{PREFIX}/?lang=en", headers=auth).text
    assert "Overview" in client.get(f"{PREFIX}/", headers={**auth, "Accept-Language": "en-US,en;q=0.8"}).text
    assert "Visão geral" in client.get(f"{PREFIX}/?lang=pt", headers={**auth, "Accept-Language": "en"}).text


def test_run_tab_shows_the_runs_rows_rejections_and_day_links(get: Any, loaded_warehouse: Any) -> None:
    wh = loaded_warehouse
    for dag_id, run_id in wh.runs.items():
        data = get("/api/run", dag_id=dag_id, run_id=run_id).json()
        expected = wh.q(
            "SELECT source, stream, task_id, rows_received, rows_rejected FROM sync_meta.sync_runs "
            "WHERE dag_id = %s AND run_id = %s ORDER BY source, stream, day, task_id, map_index",
            dag_id,
            run_id,
        )
        got = [
            (r["source"], r["stream"], r["task_id"], r["rows_received"], r["rows_rejected"])
            for r in data["rows"]
        ]
        assert got == [tuple(r) for r in expected] and got
        rejected = wh.q(
            "SELECT id, reason FROM sync_meta.rejected_records WHERE run_id = %s ORDER BY id", run_id
        )
        assert [(r["id"], r["reason"]) for r in data["rejections"]] == [tuple(r) for r in rejected]
        labels = {link["label"] for link in data["links"]}
        for source, stream, *_ in expected:
            if (source, stream) in {("e_track", "positions"), ("auvo", "tasks")}:
                assert f"{source}.{stream} · {wh.day.isoformat()}" in labels
    # A day link opens the table filtered to that day, with the count SQL gives.
    data = get("/api/run", dag_id="etrac_daily", run_id=wh.runs["etrac_daily"]).json()
    (link,) = [x for x in data["links"] if x["label"].startswith("e_track.positions ·")]
    start = datetime(wh.day.year, wh.day.month, wh.day.day, tzinfo=SP)
    (expected,) = wh.q(
        "SELECT count(*) FROM e_track.positions WHERE data_transmissao >= %s AND data_transmissao < %s",
        start,
        start + timedelta(days=1),
    )[0]
    path, query_string = link["url"].removeprefix(PREFIX).split("?", 1)
    from urllib.parse import parse_qsl

    assert get("/api" + path, **dict(parse_qsl(query_string))).json()["count"] == expected


def test_overview_as_of_a_day_links_runs_and_reds_a_failed_run(
    client: Any, get: Any, loaded_warehouse: Any
) -> None:
    """As of the day after the sandbox day: that day green with its rows and run link, the next
    one missing; after the etrac run is marked failed in Airflow (as from its UI), its days red."""
    from urllib.parse import quote

    from tests.support.browser_app import USERS

    wh = loaded_warehouse
    as_of = (wh.day + timedelta(days=1)).isoformat()

    def strip() -> dict[tuple[str, str], dict[str, Any]]:
        data = get("/api/health", as_of=as_of).json()
        assert data["yesterday"] == as_of
        return {(s["source"], s["stream"]): {d["day"]: d for d in s["days"]} for s in data["streams"]}

    days = strip()
    for (source, stream), by_day in days.items():
        (rows, dag_id, run_id) = wh.q(
            "SELECT sum(rows_received), min(dag_id), min(run_id) FROM sync_meta.sync_runs "
            "WHERE source = %s AND stream = %s AND day = %s",
            source,
            stream,
            wh.day,
        )[0]
        cell = by_day[wh.day.isoformat()]
        assert (cell["status"], cell["rows"]) == ("success", rows), (source, stream)
        assert cell["run_url"] == f"/dags/{dag_id}/runs/{quote(run_id, safe='')}"
        assert by_day[as_of]["status"] == "missing"

    admin = client.post("/auth/token", json={"username": "admin", "password": USERS["admin"]}).json()
    auth = {"Authorization": f"Bearer {admin['access_token']}"}
    run = f"/api/v2/dags/etrac_daily/dagRuns/{quote(wh.runs['etrac_daily'], safe='')}"
    assert client.patch(run, json={"state": "failed"}, headers=auth).status_code == 200
    try:
        for (source, _), by_day in strip().items():
            expected = "failed" if source == "e_track" else "success"
            assert by_day[wh.day.isoformat()]["status"] == expected, source
        assert 'class="day failed airflow-link"' in get("/", as_of=as_of).text
    finally:
        assert client.patch(run, json={"state": "success"}, headers=auth).status_code == 200
