"""Every EtracConfig switch really changes what the fake answers (etrac-api.md §6 settings table)."""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import requests

from sandbox.core import SAO_PAULO, Clock
from sandbox.etrac import DEFAULT_EMAIL, DEFAULT_KEY, EtracConfig, make_server
from sandbox.etrac.config import SWITCH_FIELDS, WORLD_FIELDS, as_json
from sandbox.etrac.server import EtracServer

NOW = datetime(2025, 3, 13, 12, 0, tzinfo=SAO_PAULO)
DAY = date(2025, 3, 12)
AUTH = (DEFAULT_EMAIL, DEFAULT_KEY)


@pytest.fixture(scope="module")
def server() -> Iterator[EtracServer]:
    with make_server(EtracConfig(vehicles=6, data_start=date(2024, 1, 1)), clock=Clock(NOW)) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fresh(server: EtracServer) -> Iterator[None]:
    yield
    server.reset_switches()
    server.faults.clear()


def post(server: EtracServer, path: str, body: Any = None, *, auth: Any = AUTH) -> requests.Response:
    return requests.post(f"{server.base_url}/monitoramento{path}", json=body, auth=auth, timeout=30)


def history(server: EtracServer, plate: str, **period: str) -> requests.Response:
    return post(server, "/ultimasposicoesterminal", {"placa": plate, **period})


def day_history(server: EtracServer, plate: str, day: date = DAY) -> list[dict[str, Any]]:
    r = history(server, plate, data=day.strftime("%d/%m/%Y"))
    assert r.status_code == 200, r.text
    return list(r.json()["posicoes"])


def parse_br(text: str) -> datetime:
    return datetime.strptime(text, "%d/%m/%Y %H:%M:%S").replace(tzinfo=SAO_PAULO)


def plate(server: EtracServer, i: int = 0) -> str:
    return server.world.plates()[i]


# ---- error delivery --------------------------------------------------------------------------------


def test_errors_as_200_sends_every_error_body_with_http_200(server: EtracServer) -> None:
    server.config.errors_as_200 = True
    cases = [
        post(server, "/ultimas-posicoes", auth=(DEFAULT_EMAIL, "wrong")),
        requests.get(f"{server.base_url}/monitoramento/ultimas-posicoes", auth=AUTH, timeout=30),
        post(server, "/nao-existe"),
        post(server, "/ultimaposicao", {"placa": "ZZZ9Z99"}),
        post(server, "/resumoviagens", {"placa": plate(server), "data": "12/03/2025"}),
    ]
    assert [r.status_code for r in cases] == [200] * 5
    assert [r.json()["code_header"] for r in cases] == ["401", "405", "404", "400", "400"]
    assert all("erro" in r.json() and "retorno" not in r.json() for r in cases)
    assert "WWW-Authenticate" not in cases[0].headers


@pytest.mark.parametrize(
    ("mode", "ok_code", "error_code"),
    [
        ("mirror", "200", "401"),
        ("always_200", "200", "200"),
        ("text", "200 OK", "401 Unauthorized"),
        ("omit", None, None),
    ],
)
def test_code_header_modes(
    server: EtracServer, mode: str, ok_code: str | None, error_code: str | None
) -> None:
    server.config.code_header = mode  # type: ignore[assignment]
    ok = post(server, "/ultimas-posicoes").json()
    bad = post(server, "/ultimas-posicoes", auth=(DEFAULT_EMAIL, "x")).json()
    history_body = history(server, plate(server), data="12/03/2025").json()
    assert ok.get("code_header") == ok_code and history_body.get("code_header") == ok_code
    assert bad.get("code_header") == error_code
    assert ("code_header" in ok) is (mode != "omit")


# ---- E3 window, order, fields -----------------------------------------------------------------------


def test_long_window_modes(server: EtracServer) -> None:
    p = plate(server)
    start = datetime(2025, 3, 10, 6, 0, tzinfo=SAO_PAULO)
    end = start + timedelta(hours=30)
    period = {
        "data_inicio": start.strftime("%d/%m/%Y %H:%M:%S"),
        "data_fim": end.strftime("%d/%m/%Y %H:%M:%S"),
    }
    assert history(server, p, **period).status_code == 400
    server.config.long_window = "truncate"
    truncated = [parse_br(i["data_transmissao"]) for i in history(server, p, **period).json()["posicoes"]]
    server.config.long_window = "honour"
    honoured = [parse_br(i["data_transmissao"]) for i in history(server, p, **period).json()["posicoes"]]
    cut = start + timedelta(hours=24)
    assert truncated and max(truncated) <= cut and min(truncated) >= start
    assert max(honoured) > cut and min(honoured) >= start and max(honoured) <= end
    assert [t for t in honoured if t <= cut] == truncated
    truth = [f.t for f in server.world.window_fixes(p, start, end, duplicates=True)]
    assert [int(t.timestamp()) for t in honoured] == truth


def test_order_modes(server: EtracServer) -> None:
    p = plate(server, 1)
    asc = [parse_br(i["data_transmissao"]) for i in day_history(server, p)]
    server.config.order = "desc"
    desc = [parse_br(i["data_transmissao"]) for i in day_history(server, p)]
    server.config.order = "unordered"
    mixed = [parse_br(i["data_transmissao"]) for i in day_history(server, p)]
    assert asc == sorted(asc) and len(asc) > 20
    assert desc == sorted(asc, reverse=True)
    assert Counter(mixed) == Counter(asc)
    assert mixed not in (asc, desc)
    assert day_history(server, p) == day_history(server, p), "unordered is still deterministic"


def test_history_field_modes(server: EtracServer) -> None:
    p = plate(server, 2)
    full = day_history(server, p)[0]
    server.config.history_fields = "strict_doc"
    strict = day_history(server, p)[0]
    server.config.history_fields = "no_placa"
    no_placa = day_history(server, p)[0]
    assert {"placa", "equipamento_serial", "data_gravacao"} <= set(full)
    assert set(full) - set(strict) == {"equipamento_serial", "data_gravacao"}
    assert set(full) - set(no_placa) == {"placa", "descricao", "frota"}
    assert strict["data_transmissao"] == full["data_transmissao"] == no_placa["data_transmissao"]
    # /ultimas-posicoes and /ultimaposicao always carry every field
    assert "placa" in post(server, "/ultimaposicao", {"placa": p}).json()["retorno"][0]


def test_trips_envelope_key(server: EtracServer) -> None:
    p = next(p for p in server.world.plates() if server.world.trips(p, DAY))
    body = {"placa": p, "data": "12-03-2025"}
    default = post(server, "/resumoviagens", body).json()
    server.config.trips_key = "conducoes"
    switched = post(server, "/resumoviagens", body).json()
    assert "retorno" in default and "conducoes" not in default
    assert "conducoes" in switched and "retorno" not in switched
    assert switched["conducoes"] == default["retorno"] != []


# ---- corrections: the API revises fixes and trips, the ground truth follows ----------------------


def corrections(server: EtracServer, body: Any) -> requests.Response:
    return requests.post(f"{server.base_url}/_sandbox/etrac/corrections", json=body, timeout=30)


def metres(a: dict[str, Any], b: dict[str, Any]) -> float:
    lat1, lon1, lat2, lon2 = (math.radians(float(x)) for x in (a["latitude"], a["longitude"],
                                                                b["latitude"], b["longitude"]))  # fmt: skip
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def test_a_correction_round_moves_a_share_of_fixes_and_nothing_else(server: EtracServer) -> None:
    p = plate(server)
    before = {i["data_transmissao"]: i for i in day_history(server, p)}
    server.config.correction_ratio = 0.1
    assert corrections(server, {}).json() == {"correction_round": 1, "correction_ratio": 0.1}
    after = {i["data_transmissao"]: i for i in day_history(server, p)}

    assert after.keys() == before.keys()  # same times, same number of fixes
    moved = [t for t in before if (before[t]["latitude"], before[t]["longitude"])
             != (after[t]["latitude"], after[t]["longitude"])]  # fmt: skip
    assert 0.03 * len(before) <= len(moved) <= 0.2 * len(before), (len(moved), len(before))
    assert all(4.5 <= metres(before[t], after[t]) <= 31 for t in moved)
    for t in before:  # only the coordinates (and the address derived from them) change
        keep = {k: v for k, v in before[t].items() if k not in ("latitude", "longitude", "logradouro")}
        assert {k: after[t][k] for k in keep} == keep

    # The ground truth follows the round: it is what the answer now holds.
    truth = {row["data_transmissao"]: row for row in server.world.positions(p, DAY)}
    assert {parse_br(t) for t in after} == set(truth)
    assert all(
        (float(after[t]["latitude"]), float(after[t]["longitude"]))
        == (truth[parse_br(t)]["latitude"], truth[parse_br(t)]["longitude"])
        for t in after
    )

    # Round 0 is the data as first sent.
    assert corrections(server, {"round": 0}).json()["correction_round"] == 0
    assert {i["data_transmissao"]: i for i in day_history(server, p)} == before


def test_a_correction_round_moves_trip_starts_and_the_latest_fix(server: EtracServer) -> None:
    p = next(p for p in server.world.plates() if server.world.trips(p, DAY))
    body = {"placa": p, "data": DAY.strftime("%d-%m-%Y")}
    trips_before = post(server, "/resumoviagens", body).json()["retorno"]
    latest_before = {i["placa"]: i for i in post(server, "/ultimas-posicoes").json()["retorno"]}

    assert corrections(server, {"round": 3, "ratio": 1}).status_code == 200
    trips_after = post(server, "/resumoviagens", body).json()["retorno"]
    latest_after = {i["placa"]: i for i in post(server, "/ultimas-posicoes").json()["retorno"]}

    assert len(trips_after) == len(trips_before)
    for old, new in zip(trips_before, trips_after, strict=True):
        early = parse_br(old["data_inicio_conducao"]) - parse_br(new["data_inicio_conducao"])
        assert timedelta(seconds=5) <= early <= timedelta(seconds=120)
        assert new["data_fim_conducao"] == old["data_fim_conducao"]
    truth = server.world.trips(p, DAY)
    assert [parse_br(t["data_inicio_conducao"]) for t in trips_after] == [
        t["data_inicio_conducao"] for t in truth
    ]
    for vehicle, old in latest_before.items():
        new = latest_after[vehicle]
        assert new["data_transmissao"] == old["data_transmissao"] and 4.5 <= metres(old, new) <= 31
        assert float(new["latitude"]) == server.world.latest(vehicle)["latitude"]


@pytest.mark.parametrize("body", [{"round": -1}, {"ratio": 2}, {"round": "x"}, [1]])
def test_bad_corrections_are_refused(server: EtracServer, body: Any) -> None:
    r = corrections(server, body)
    assert r.status_code == 400 and r.json()["error"]
    assert (server.config.correction_round, server.config.correction_ratio) == (0, 0.02)


# ---- empty results, unknown plates, retention --------------------------------------------------------


def test_empty_results_as_erro(server: EtracServer) -> None:
    p = plate(server)
    future = {"placa": p, "data": "20/03/2025"}
    assert post(server, "/ultimasposicoesterminal", future).json()["posicoes"] == []
    server.config.empty_results = "erro"
    r = post(server, "/ultimasposicoesterminal", future)
    assert r.status_code == 404 and r.json() == {"erro": "Nenhum registro encontrado", "code_header": "404"}
    trips = post(server, "/resumoviagens", {"placa": p, "data": "20-03-2025"})
    assert trips.status_code == 404 and "erro" in trips.json()
    server.config.errors_as_200 = True
    r = post(server, "/ultimasposicoesterminal", future)
    assert r.status_code == 200 and r.json()["erro"] == "Nenhum registro encontrado"
    assert post(server, "/ultimasposicoesterminal", {"placa": p, "data": "12/03/2025"}).json()["posicoes"]


def test_unknown_plate_can_be_an_empty_list(server: EtracServer) -> None:
    server.config.unknown_plate = "empty"
    e2 = post(server, "/ultimaposicao", {"placa": "zzz-9z99"})
    e3 = post(server, "/ultimasposicoesterminal", {"placa": "zzz-9z99", "data": "12/03/2025"})
    e4 = post(server, "/resumoviagens", {"placa": "zzz-9z99", "data": "12-03-2025"})
    assert (e2.status_code, e3.status_code, e4.status_code) == (200, 200, 200)
    assert e2.json()["retorno"] == [] and e4.json()["retorno"] == []
    assert e3.json()["posicoes"] == [] and e3.json()["terminal"]["placa"] == "ZZZ9Z99"


def test_retention_days_switch(server: EtracServer) -> None:
    p = plate(server)
    old = NOW.date() - timedelta(days=200)
    assert day_history(server, p, old) == []
    server.config.retention_days = None
    assert len(day_history(server, p, old)) > 10
    server.config.retention_days = 1
    assert day_history(server, p, NOW.date() - timedelta(days=2)) == []
    assert day_history(server, p, NOW.date() - timedelta(days=1))


# ---- value formats --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "pattern", "fmt"),
    [
        ("br", r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$", "%d/%m/%Y %H:%M:%S"),
        ("iso_space", r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", "%Y-%m-%d %H:%M:%S"),
        ("iso_t", r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", "%Y-%m-%dT%H:%M:%S"),
    ],
)
def test_date_format_modes(server: EtracServer, mode: str, pattern: str, fmt: str) -> None:
    server.config.date_format = mode  # type: ignore[assignment]
    p = next(p for p in server.world.plates() if server.world.trips(p, DAY))
    items = day_history(server, p)
    truth = list(server.world.fixes(p, DAY, duplicates=True))
    for item, fix in zip(items, truth, strict=True):
        assert re.match(pattern, item["data_transmissao"]) and re.match(pattern, item["data_gravacao"])
        assert datetime.strptime(item["data_transmissao"], fmt).replace(tzinfo=SAO_PAULO).timestamp() == fix.t
    trip = post(server, "/resumoviagens", {"placa": p, "data": "12-03-2025"}).json()["retorno"][0]
    assert re.match(pattern, trip["data_inicio_conducao"]) and re.match(pattern, trip["data_fim_conducao"])
    latest = post(server, "/ultimas-posicoes").json()["retorno"][0]
    assert re.match(pattern, latest["data_transmissao"])


def test_formatted_numbers_carry_units_and_brazilian_decimals(server: EtracServer) -> None:
    p = plate(server, 3)
    plain = day_history(server, p)
    server.config.numeric_format = "formatted"
    formatted = day_history(server, p)
    assert len(plain) == len(formatted)
    for a, b in zip(plain, formatted, strict=True):
        assert b["velocidade"] == f"{a['velocidade']} km/h"
        assert re.match(r"^\d{1,3}(\.\d{3})* km$", b["odometro"])
        assert int(b["odometro"].removesuffix(" km").replace(".", "")) == a["odometro"]
        assert re.match(r"^\d+,\d V$", b["bateria"])
        assert float(b["bateria"].removesuffix(" V").replace(",", ".")) == a["bateria"]
        assert b["ignicao"] == str(a["ignicao"])
        assert int(b["horimetro"].removesuffix(" h").replace(".", "")) == a["horimetro"]
        assert isinstance(b["latitude"], str) and float(b["latitude"]) == float(a["latitude"])
    assert any(" km/h" in b["velocidade"] and b["velocidade"] != "0 km/h" for b in formatted)
    assert "." in formatted[0]["odometro"], "odometers of 1,000 km or more show a thousands dot"


def test_logradouro_is_sometimes_null(server: EtracServer) -> None:
    items = [i for p in server.world.plates() for i in day_history(server, p)]
    nulls = sum(1 for i in items if i["logradouro"] is None)
    assert 0 < nulls < len(items) * 0.2
    assert all(
        isinstance(i["logradouro"], str) and " - " in i["logradouro"] for i in items if i["logradouro"]
    )


# ---- rate limit, latency, credentials ----------------------------------------------------------------


def test_rate_limit_per_user_answers_429_with_retry_after(server: EtracServer) -> None:
    server.config.credentials = {DEFAULT_EMAIL: DEFAULT_KEY, "other@example.com": "999"}
    server.config.rate_limit_per_minute = 3
    answers = [post(server, "/ultimas-posicoes") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["code_header"] == "429" and "Limite" in limited.json()["erro"]
    assert post(server, "/ultimas-posicoes", auth=("other@example.com", "999")).status_code == 200
    server.config.rate_limit_per_minute = None
    assert post(server, "/ultimas-posicoes").status_code == 200


def test_latency_delays_every_data_answer(server: EtracServer) -> None:
    server.config.latency_s = 0.4
    started = time.monotonic()
    assert post(server, "/ultimaposicao", {"placa": plate(server)}).status_code == 200
    assert time.monotonic() - started >= 0.4
    server.config.latency_s = 0.0
    server.config.latency_jitter_s = 0.3
    started = time.monotonic()
    post(server, "/ultimaposicao", {"placa": plate(server)})
    assert time.monotonic() - started < 1.0


def test_credentials_switch_replaces_the_accepted_accounts(server: EtracServer) -> None:
    server.config.credentials = {"ops@example.com": "42"}
    assert post(server, "/ultimas-posicoes").status_code == 401
    assert post(server, "/ultimas-posicoes", auth=("ops@example.com", "42")).status_code == 200


# ---- every switch over HTTP -------------------------------------------------------------------------

NON_DEFAULT: dict[str, Any] = {
    "credentials": {"curl@example.com": "1"},
    "errors_as_200": True,
    "code_header": "text",
    "long_window": "honour",
    "order": "desc",
    "history_fields": "no_placa",
    "trips_key": "conducoes",
    "empty_results": "erro",
    "unknown_plate": "empty",
    "date_format": "iso_t",
    "numeric_format": "formatted",
    "retention_days": None,
    "rate_limit_per_minute": 100,
    "latency_s": 0.01,
    "latency_jitter_s": 0.01,
    "correction_round": 2,
    "correction_ratio": 0.5,
}


def test_every_switch_is_listed_for_the_http_route() -> None:
    assert set(NON_DEFAULT) == set(SWITCH_FIELDS)


@pytest.mark.parametrize("name", sorted(NON_DEFAULT))
def test_every_switch_can_be_set_over_http(server: EtracServer, name: str) -> None:
    value = NON_DEFAULT[name]
    assert as_json(EtracConfig())[name] != value
    r = requests.post(f"{server.base_url}/_sandbox/etrac/config", json={name: value}, timeout=30)
    assert r.status_code == 200 and r.json()[name] == value
    assert as_json(server.config)[name] == value
    assert requests.get(f"{server.base_url}/_sandbox/etrac/config", timeout=30).json()[name] == value


def test_switches_set_over_http_take_effect_and_reset(server: EtracServer) -> None:
    base = server.base_url
    requests.post(
        f"{base}/_sandbox/etrac/config", json={"errors_as_200": "1", "code_header": "omit"}, timeout=30
    )
    r = post(server, "/nada")
    assert r.status_code == 200 and r.json() == {"erro": "Rota não encontrada"}
    requests.post(f"{base}/_sandbox/etrac/config/reset", timeout=30)
    assert post(server, "/nada").status_code == 404


@pytest.mark.parametrize(
    "settings",
    [
        {"no_such_switch": 1},
        {"order": "sideways"},
        {"errors_as_200": "maybe"},
        {"latency_s": -1},
        {"seed": 3},
    ],
)
def test_bad_settings_over_http_are_refused_whole(server: EtracServer, settings: dict[str, Any]) -> None:
    r = requests.post(
        f"{server.base_url}/_sandbox/etrac/config", json={"date_format": "iso_t", **settings}, timeout=30
    )
    assert r.status_code == 400 and r.json()["error"]
    assert server.config.date_format == "br", "nothing is applied when one item is bad"


def test_world_fields_are_reported_and_fixed(server: EtracServer) -> None:
    config = requests.get(f"{server.base_url}/_sandbox/etrac/config", timeout=30).json()
    assert set(WORLD_FIELDS) <= set(config) and config["vehicles"] == 6
    plates = requests.get(f"{server.base_url}/_sandbox/etrac/plates", timeout=30).json()["plates"]
    assert plates == server.world.plates()
    truth = requests.get(
        f"{server.base_url}/_sandbox/etrac/truth",
        params={"placa": plates[0], "data": "2025-03-12"},
        timeout=30,
    ).json()
    assert truth["positions"] == server.world.day_summary(plates[0], DAY).positions > 0
    helped = requests.get(f"{server.base_url}/_sandbox/etrac/help", timeout=30).json()
    assert set(helped["switches"]) == set(SWITCH_FIELDS)
