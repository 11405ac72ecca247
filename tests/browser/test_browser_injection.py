"""Injection attempts through every parameter of every route fail harmlessly.

Harmless means: a clear 4xx or an ordinary answer (never a 500 or a database error page), no
statement runs longer than the payload asked (``pg_sleep`` stays a string), the warehouse is
unchanged, and where the payload lands in a filter it is matched as data: the count the browser
reports equals the count of SQL that binds the same text as a value.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest

from tests.support.browser_routes import PREFIX
from tests.support.sandboxes import BROWSER_DAY

pytestmark = pytest.mark.timeout(600)

PAYLOADS = [
    "'; DROP TABLE auvo.users; --",
    "' OR '1'='1",
    '" OR 1=1 --',
    "1); SELECT pg_sleep(3); --",
    "x') UNION SELECT current_user, null --",
    'placa" DESC; DELETE FROM e_track.positions; --',
    "%' AND pg_sleep(3) IS NULL AND '%'='",
    "\\'; COMMIT; SET ROLE postgres; --",
    "../../etc/passwd",
]


def attacks(run_id: str, user_id: int, plate: str) -> list[tuple[str, dict[str, str], str]]:
    """(path template, base parameters, parameter to attack); ``{schema}``/``{table}`` are attacked too."""
    table = "/tables/{schema}/{table}"
    listing = {"sort": "placa", "dir": "asc", "f.velocidade": ">=0", "q": "a", "limit": "20", "lang": "pt"}
    listing_params = [*listing, "f.KEY", "after", "{schema}", "{table}"]
    record = {"k.user_id": str(user_id), "lang": "en"}
    run = {"dag_id": "etrac_daily", "run_id": run_id, "lang": "pt"}
    as_of = {"lang": "pt", "as_of": (BROWSER_DAY + timedelta(days=1)).isoformat()}
    out: list[tuple[str, dict[str, str], str]] = []
    for path in ("/", "/api/health"):
        out += [(path, as_of, p) for p in as_of]
    out.append(("/tables", {"lang": "pt"}, "lang"))
    for path in (table, f"/api{table}", f"{table}/csv"):
        out += [(path, listing, p) for p in listing_params]
    for path in (f"{table}/record", f"/api{table}/record"):
        out += [(path, record, p) for p in ("k.user_id", "k.KEY", "lang", "{schema}", "{table}")]
    vehicle = {"placa": plate, "day": BROWSER_DAY.isoformat(), "lang": "pt"}
    for path in ("/vehicle", "/api/vehicle"):
        out += [(path, vehicle, p) for p in vehicle]
    for path in ("/auvo", "/api/auvo"):
        out += [(path, {"day": BROWSER_DAY.isoformat(), "lang": "en"}, p) for p in ("day", "lang")]
    for path in ("/auvo/task/{task_id}", "/api/auvo/task/{task_id}"):
        out += [(path, {"lang": "pt"}, p) for p in ("{task_id}", "lang")]
    out += [("/fleet", {"lang": "pt"}, "lang")]
    for path in ("/run", "/api/run"):
        out += [(path, run, p) for p in run]
    return out


def _request(client: Any, token: str, template: str, base: dict[str, str], target: str, payload: str) -> Any:
    schema, table = "e_track", "positions"
    if "record" in template:
        schema, table = "auvo", "users"
    params = dict(base)
    if target == "{schema}":
        schema = payload
    elif target == "{table}":
        table = payload
    elif target.endswith(".KEY"):
        params[target.replace("KEY", payload)] = "x"
    else:
        params[target] = payload
    task_id = payload if target == "{task_id}" else "1"
    path = template.replace("{schema}", quote(schema, safe="")).replace("{table}", quote(table, safe=""))
    path = path.replace("{task_id}", quote(task_id, safe=""))
    return client.get(f"{PREFIX}{path}", params=params, headers={"Authorization": f"Bearer {token}"})


def test_every_parameter_of_every_route_resists_injection(
    client: Any, token: str, loaded_warehouse: Any
) -> None:
    before = loaded_warehouse.fingerprint()
    (user_id,) = loaded_warehouse.q("SELECT min(user_id) FROM auvo.users")[0]
    covered: set[str] = set()
    (plate,) = loaded_warehouse.q("SELECT min(placa) FROM e_track.routes")[0]
    for template, base, target in attacks(loaded_warehouse.runs["etrac_daily"], user_id, plate):
        covered.add(template)
        for payload in PAYLOADS:
            started = time.monotonic()
            resp = _request(client, token, template, base, target, payload)
            elapsed = time.monotonic() - started
            where = f"{template} {target}={payload!r}"
            # 422: FastAPI's own refusal of a non-integer task id, before any of our code runs.
            assert resp.status_code in (200, 400, 404, 422), (where, resp.status_code, resp.text[:300])
            assert elapsed < 2.5, f"{where} took {elapsed:.1f}s: did pg_sleep run?"
            assert "Traceback" not in resp.text and "syntax error" not in resp.text.lower(), where
    # Every route of browser_routes.py except the ones without parameters was attacked.
    from tests.support.browser_routes import routes

    assert {r.path for r in routes("d", "r")} - covered == {"/api/tables", "/api/fleet"}
    assert loaded_warehouse.fingerprint() == before


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_in_a_filter_is_matched_as_text(
    client: Any, token: str, loaded_warehouse: Any, payload: str
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    # Free-text search over auvo.users' text columns, and one column filter.
    text_columns = [
        c
        for (c,) in loaded_warehouse.q(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'auvo' "
            "AND table_name = 'users' AND data_type IN ('text', 'character varying', 'character')"
        )
    ]
    like = "%" + payload.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    ors = " OR ".join(f'"{c}" ILIKE %s' for c in text_columns)
    (expected,) = loaded_warehouse.q(
        f"SELECT count(*) FROM auvo.users WHERE {ors}", *[like] * len(text_columns)
    )[0]
    got = client.get(f"{PREFIX}/api/tables/auvo/users", params={"q": payload}, headers=auth).json()
    assert (got["count"], len(got["rows"])) == (expected, min(expected, 50))

    (expected_name,) = loaded_warehouse.q("SELECT count(*) FROM auvo.users WHERE name ILIKE %s", like)[0]
    got = client.get(f"{PREFIX}/api/tables/auvo/users", params={"f.name": payload}, headers=auth).json()
    assert got["count"] == expected_name
    # A payload aimed at a run finds no run, rather than every run.
    got = client.get(f"{PREFIX}/api/run", params={"dag_id": "etrac_daily", "run_id": payload}, headers=auth)
    assert got.status_code == 200 and got.json()["rows"] == []


def test_a_bad_value_gets_a_clear_message(client: Any, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    cases = {
        ("e_track", "positions", "f.velocidade", "fast"): (400, "invalid input syntax"),
        ("e_track", "positions", "sort", "nope"): (404, "e_track.positions has no column 'nope'"),
        ("e_track", "positions", "f.nope", "1"): (404, "e_track.positions has no column 'nope'"),
        ("e_track", "positions", "limit", "100000"): (400, "limit must be between 1 and 500"),
        ("e_track", "positions", "after", "garbage!"): (400, "after: not a cursor this browser made"),
        ("public", "pg_user", "q", "x"): (404, "schema 'public' is not browsable"),
        ("auvo", "nope", "q", "x"): (404, "no table auvo.nope"),
    }
    for (schema, table, key, value), (status, message) in cases.items():
        resp = client.get(f"{PREFIX}/api/tables/{schema}/{table}", params={key: value}, headers=auth)
        assert resp.status_code == status, (key, value, resp.text)
        assert message in resp.json()["detail"], (key, value, resp.json())
