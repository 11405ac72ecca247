"""Fleet now and Auvo day against SQL on the loaded warehouse."""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from tests.support.browser_routes import PREFIX

pytestmark = pytest.mark.timeout(300)
SP = ZoneInfo("America/Sao_Paulo")


@pytest.fixture(scope="module")
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_fleet_lists_every_terminal_and_marks_stale_ones(
    client: Any, auth: dict[str, str], loaded_warehouse: Any
) -> None:
    from sync_apis.browser.fleet import fleet

    wh = loaded_warehouse
    terminals = wh.q(
        "SELECT placa, data_transmissao, latitude, longitude FROM e_track.terminals ORDER BY placa"
    )
    got = client.get(f"{PREFIX}/api/fleet", headers=auth).json()["vehicles"]
    assert [(v["placa"], v["latitude"], v["longitude"]) for v in got] == [
        (p, la, lo) for p, _, la, lo in terminals
    ]
    # Stale = no fix in the 24 h before "now": pick a now that splits the fleet.
    fixes = sorted(t for _, t, _, _ in terminals if t is not None)
    now = fixes[len(fixes) // 2] + timedelta(days=1, seconds=1)
    with psycopg.connect(wh.url.url) as conn:
        stale = {v["placa"]: v["stale"] for v in fleet(conn, now=now)}
    assert stale == {p: t is None or now - t > timedelta(days=1) for p, t, _, _ in terminals}
    page = client.get(f"{PREFIX}/fleet", headers=auth).text
    for plate, *_ in terminals:
        assert f'data-plate="{plate}" class="stale"' in page  # the sandbox's fixes are from 2025


def test_auvo_day_lists_the_days_tasks(client: Any, auth: dict[str, str], loaded_warehouse: Any) -> None:
    wh = loaded_warehouse
    start = datetime(wh.day.year, wh.day.month, wh.day.day, tzinfo=SP)
    expected = wh.q(
        "SELECT task_id, task_status, user_to_name FROM auvo.tasks WHERE task_date >= %s AND task_date < %s "
        "ORDER BY task_date, task_id",
        start,
        start + timedelta(days=1),
    )
    assert expected
    got = client.get(
        f"{PREFIX}/api/auvo", params={"day": wh.day.isoformat(), "lang": "en"}, headers=auth
    ).json()
    assert [(t["task_id"], t["task_status"], t["user_to_name"]) for t in got["tasks"]] == [
        tuple(r) for r in expected
    ]
    names = {1: "Opened", 2: "In displacement", 3: "Checked in", 4: "Checked out", 5: "Finished", 6: "Paused"}
    assert all(t["status_name"] == names[t["task_status"]] for t in got["tasks"])
    page = client.get(f"{PREFIX}/auvo", params={"day": wh.day.isoformat()}, headers=auth).text
    assert f'<p id="task-count">{len(expected)} tarefas</p>' in page
    # Every heading in the reader's language, none a column name.
    headings = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert headings == (
        "<tr><th>Tarefa</th><th>Situação</th><th>Responsável</th><th>Cliente</th><th>Tipo</th>"
        "<th>Agendada</th><th>Check-in</th><th>Check-out</th></tr>"
    )


def test_a_task_page_shows_its_answers_raw_and_customer(
    client: Any, auth: dict[str, str], loaded_warehouse: Any
) -> None:
    wh = loaded_warehouse
    rows = wh.q(
        "SELECT t.task_id, t.raw, c.description, c.latitude, c.longitude FROM auvo.tasks t "
        "JOIN auvo.customers c USING (customer_id) WHERE jsonb_array_length(t.raw->'questionnaires') > 0 "
        "ORDER BY t.task_id LIMIT 1"
    )
    assert rows, "the sandbox day has no task with questionnaire answers"
    task_id, raw, customer, lat, lon = rows[0]
    page = client.get(f"{PREFIX}/auvo/task/{task_id}", headers=auth).text
    for questionnaire in raw["questionnaires"]:
        for answer in questionnaire["answers"]:
            question, reply = html.escape(answer["questionDescription"]), html.escape(answer["reply"])
            assert f'<th>{question}</th><td class="reply">{reply}</td>' in page
    shown = page.split('<pre class="json" id="raw">', 1)[1].split("</pre>", 1)[0]
    assert json.loads(html.unescape(shown)) == raw
    points = json.loads(html.unescape(page.split('id="points-data">', 1)[1].split("</script>", 1)[0]))
    assert points == [{"lat": lat, "lon": lon, "label": customer}]
    assert client.get(f"{PREFIX}/api/auvo/task/999999999", headers=auth).status_code == 404
