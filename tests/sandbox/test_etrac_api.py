"""The fake e-Track API reproduces the contract of etrac-api.md §1-§2 with default switches."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import requests

from sandbox.core import SAO_PAULO, Clock
from sandbox.etrac import DEFAULT_EMAIL, DEFAULT_KEY, EtracConfig, make_server
from sandbox.etrac.server import EtracServer

NOW = datetime(2025, 3, 13, 12, 0, tzinfo=SAO_PAULO)
DAY = date(2025, 3, 12)
AUTH = (DEFAULT_EMAIL, DEFAULT_KEY)
POSITION_FIELDS = {
    "placa",
    "descricao",
    "frota",
    "equipamento_serial",
    "data_transmissao",
    "data_gravacao",
    "latitude",
    "longitude",
    "logradouro",
    "velocidade",
    "ignicao",
    "odometro",
    "odometro_can",
    "horimetro",
    "bateria",
}
TRIP_FIELDS = {
    "cliente",
    "cliente_fantasia",
    "placa",
    "descricao",
    "frota",
    "data_inicio_conducao",
    "data_fim_conducao",
    "latitude_inicio_conducao",
    "longitude_inicio_conducao",
    "latitude_fim_conducao",
    "longitude_fim_conducao",
    "localizacao_inicio_conducao",
    "localizacao_fim_conducao",
    "odometro_inicio_conducao",
    "odometro_fim_conducao",
    "duracao_conducao",
    "distancia_conducao",
    "condutor_nome",
    "condutor_identificacao",
}


@pytest.fixture(scope="module")
def server() -> Iterator[EtracServer]:
    with make_server(EtracConfig(vehicles=6, data_start=date(2024, 6, 1)), clock=Clock(NOW)) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fresh(server: EtracServer) -> Iterator[None]:
    yield
    server.reset_switches()
    server.faults.clear()
    server.clock.set(NOW)


def post(
    server: EtracServer, path: str, body: Any = None, *, auth: Any = AUTH, **kw: Any
) -> requests.Response:
    return requests.post(f"{server.base_url}/monitoramento{path}", json=body, auth=auth, timeout=30, **kw)


def br(dt: datetime) -> str:
    return dt.strftime("%d/%m/%Y %H:%M:%S")


def plate(server: EtracServer, i: int = 0) -> str:
    return server.world.plates()[i]


# ---- E1 /ultimas-posicoes ------------------------------------------------------------------------


def test_ultimas_posicoes_lists_the_latest_fix_of_every_vehicle(server: EtracServer) -> None:
    r = post(server, "/ultimas-posicoes")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"retorno", "code_header"} and body["code_header"] == "200"
    items = body["retorno"]
    assert [i["placa"] for i in items] == server.world.plates()
    for item in items:
        assert set(item) == POSITION_FIELDS
        truth = server.world.latest(item["placa"])
        assert truth is not None
        assert item["data_transmissao"] == br(truth["data_transmissao"])
        assert (float(item["latitude"]), float(item["longitude"])) == (truth["latitude"], truth["longitude"])
        assert isinstance(item["latitude"], str) and isinstance(item["velocidade"], int)
        assert item["ignicao"] in (0, 1) and isinstance(item["bateria"], float)


def test_ultimas_posicoes_is_the_last_fix_at_or_before_now(server: EtracServer) -> None:
    p = plate(server, 1)
    today = list(server.world.positions(p, NOW.date(), until=NOW))
    yesterday = list(server.world.positions(p, NOW.date() - timedelta(days=1), until=NOW))
    expected = (today or yesterday)[-1]["data_transmissao"]
    item = next(i for i in post(server, "/ultimas-posicoes").json()["retorno"] if i["placa"] == p)
    assert item["data_transmissao"] == br(expected)
    later = NOW + timedelta(hours=5)
    server.clock.set(later)
    moved = next(i for i in post(server, "/ultimas-posicoes").json()["retorno"] if i["placa"] == p)
    moved_at = datetime.strptime(moved["data_transmissao"], "%d/%m/%Y %H:%M:%S").replace(tzinfo=SAO_PAULO)
    assert expected < moved_at <= later


def test_ultimas_posicoes_needs_no_body_and_ignores_one(server: EtracServer) -> None:
    bare = requests.post(f"{server.base_url}/monitoramento/ultimas-posicoes", auth=AUTH, timeout=30)
    with_body = post(server, "/ultimas-posicoes", {"placa": plate(server)})
    assert bare.json() == with_body.json()


# ---- E2 /ultimaposicao ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["plain", "hyphen", "lower", "spaces"])
def test_ultimaposicao_accepts_the_plate_with_or_without_hyphen(server: EtracServer, form: str) -> None:
    p = plate(server, 2)
    sent = {"plain": p, "hyphen": f"{p[:3]}-{p[3:]}", "lower": p.lower(), "spaces": f" {p[:3]} {p[3:]} "}[
        form
    ]
    body = post(server, "/ultimaposicao", {"placa": sent}).json()
    assert body["code_header"] == "200"
    assert len(body["retorno"]) == 1
    item = body["retorno"][0]
    assert item["placa"] == p and len(item["placa"]) == 7
    assert set(item) == POSITION_FIELDS
    latest = server.world.latest(p)
    assert latest is not None and item["data_transmissao"] == br(latest["data_transmissao"])


def test_form_encoded_body_is_accepted(server: EtracServer) -> None:
    p = plate(server)
    url = f"{server.base_url}/monitoramento/ultimaposicao"
    form = requests.post(url, data={"placa": p}, auth=AUTH, timeout=30)
    as_json = post(server, "/ultimaposicao", {"placa": p})
    assert form.status_code == 200 and form.json() == as_json.json()


def test_missing_or_unknown_plate_is_a_400_erro(server: EtracServer) -> None:
    missing = post(server, "/ultimaposicao", {})
    assert missing.status_code == 400
    assert missing.json() == {"erro": "Parâmetro placa obrigatório", "code_header": "400"}
    unknown = post(server, "/ultimaposicao", {"placa": "ZZZ9Z99"})
    assert unknown.status_code == 400
    assert unknown.json() == {"erro": "Terminal não encontrado", "code_header": "400"}


def test_invalid_json_body_is_a_400(server: EtracServer) -> None:
    r = requests.post(
        f"{server.base_url}/monitoramento/ultimaposicao",
        data=b'{"placa": ',
        headers={"Content-Type": "application/json"},
        auth=AUTH,
        timeout=30,
    )
    assert r.status_code == 400 and "erro" in r.json()


# ---- E3 /ultimasposicoesterminal -----------------------------------------------------------------


def test_history_by_day_returns_terminal_and_posicoes(server: EtracServer) -> None:
    p = plate(server)
    v = server.world.vehicle(p)
    body = post(server, "/ultimasposicoesterminal", {"placa": p, "data": DAY.strftime("%d/%m/%Y")}).json()
    assert list(body) == ["terminal", "posicoes", "code_header"]
    assert body["terminal"] == {"placa": p, "descricao": v.descricao, "frota": v.frota}
    raw = list(server.world.fixes(p, DAY, duplicates=True))
    assert [i["data_transmissao"] for i in body["posicoes"]] == [
        datetime.fromtimestamp(f.t, SAO_PAULO).strftime("%d/%m/%Y %H:%M:%S") for f in raw
    ]
    assert all(set(i) == POSITION_FIELDS for i in body["posicoes"])
    assert all(i["data_transmissao"].startswith("12/03/2025") for i in body["posicoes"])


def test_history_window_is_inclusive_at_both_ends(server: EtracServer) -> None:
    p = plate(server, 3)
    rows = list(server.world.positions(p, DAY))
    start, end = rows[5]["data_transmissao"], rows[40]["data_transmissao"]
    body = post(
        server, "/ultimasposicoesterminal", {"placa": p, "data_inicio": br(start), "data_fim": br(end)}
    )
    got = [i["data_transmissao"] for i in body.json()["posicoes"]]
    want = [br(r["data_transmissao"]) for r in rows[5:41]]
    assert sorted(set(got)) == sorted(want)  # duplicates aside, exactly the fixes in [start, end]
    assert got[0] == br(start) and got[-1] == br(end)


def test_history_window_may_span_midnight(server: EtracServer) -> None:
    p = plate(server, 4)
    start = datetime(2025, 3, 11, 18, 0, tzinfo=SAO_PAULO)
    end = start + timedelta(hours=24)
    body = post(
        server, "/ultimasposicoesterminal", {"placa": p, "data_inicio": br(start), "data_fim": br(end)}
    )
    assert body.status_code == 200
    days = {i["data_transmissao"][:10] for i in body.json()["posicoes"]}
    assert days == {"11/03/2025", "12/03/2025"}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"data_inicio": "10/03/2025 00:00:00", "data_fim": "11/03/2025 00:00:01"}, "24 horas"),
        ({"data_inicio": "11/03/2025 10:00:00", "data_fim": "11/03/2025 09:59:59"}, "anterior"),
        ({"data_inicio": "2025-03-11 10:00:00", "data_fim": "11/03/2025 11:00:00"}, "DD/MM/YYYY HH:MM:SS"),
        ({"data": "11-03-2025"}, "DD/MM/YYYY"),
        ({"data": "31/02/2025"}, "DD/MM/YYYY"),
        ({}, "Informe data"),
        ({"data_inicio": "11/03/2025 10:00:00"}, "Informe data"),
    ],
)
def test_history_rejects_bad_periods_with_400(
    server: EtracServer, payload: dict[str, str], message: str
) -> None:
    r = post(server, "/ultimasposicoesterminal", {"placa": plate(server), **payload})
    assert r.status_code == 400
    assert message in r.json()["erro"] and r.json()["code_header"] == "400"


def test_history_window_of_exactly_24_hours_is_allowed(server: EtracServer) -> None:
    r = post(
        server,
        "/ultimasposicoesterminal",
        {"placa": plate(server), "data_inicio": "11/03/2025 00:00:00", "data_fim": "12/03/2025 00:00:00"},
    )
    assert r.status_code == 200 and r.json()["posicoes"]


def test_history_of_today_stops_at_now_and_future_days_are_empty(server: EtracServer) -> None:
    p = plate(server)
    today = post(server, "/ultimasposicoesterminal", {"placa": p, "data": "13/03/2025"}).json()["posicoes"]
    assert today
    last = datetime.strptime(today[-1]["data_transmissao"], "%d/%m/%Y %H:%M:%S").replace(tzinfo=SAO_PAULO)
    assert last <= NOW
    future = post(server, "/ultimasposicoesterminal", {"placa": p, "data": "14/03/2025"})
    assert future.status_code == 200 and future.json()["posicoes"] == []


def test_days_before_data_start_are_empty(server: EtracServer) -> None:
    r = post(server, "/ultimasposicoesterminal", {"placa": plate(server), "data": "31/05/2024"})
    assert r.status_code == 200 and r.json()["posicoes"] == []
    trips = post(server, "/resumoviagens", {"placa": plate(server), "data": "31-05-2024"})
    assert trips.json()["retorno"] == []


def test_retention_hides_days_older_than_90_days_by_default(server: EtracServer) -> None:
    p = plate(server)
    old_day = NOW.date() - timedelta(days=91)
    assert list(server.world.positions(p, old_day)), "the world has the day; only the server hides it"
    r = post(server, "/ultimasposicoesterminal", {"placa": p, "data": old_day.strftime("%d/%m/%Y")})
    assert r.status_code == 200 and r.json()["posicoes"] == []
    kept = NOW.date() - timedelta(days=90)
    r = post(server, "/ultimasposicoesterminal", {"placa": p, "data": kept.strftime("%d/%m/%Y")})
    assert r.json()["posicoes"]


# ---- E4 /resumoviagens ---------------------------------------------------------------------------


def test_resumoviagens_lists_the_days_trips_as_strings(server: EtracServer) -> None:
    p = next(p for p in server.world.plates() if server.world.trips(p, DAY))
    truth = server.world.trips(p, DAY)
    body = post(server, "/resumoviagens", {"placa": p, "data": DAY.strftime("%d-%m-%Y")}).json()
    assert set(body) == {"retorno", "code_header"}
    assert len(body["retorno"]) == len(truth)
    for item, t in zip(body["retorno"], truth, strict=True):
        assert set(item) == TRIP_FIELDS
        assert all(isinstance(v, str) for v in item.values())
        assert item["data_inicio_conducao"] == br(t["data_inicio_conducao"])
        assert item["odometro_inicio_conducao"] == str(t["odometro_inicio_conducao"])
        assert item["distancia_conducao"] == f"{t['distancia_conducao']:.1f}"
        h, m, s = map(int, item["duracao_conducao"].split(":"))
        assert timedelta(hours=h, minutes=m, seconds=s) == t["duracao_conducao"]


def test_resumoviagens_rejects_a_slash_date(server: EtracServer) -> None:
    r = post(server, "/resumoviagens", {"placa": plate(server), "data": DAY.strftime("%d/%m/%Y")})
    assert r.status_code == 400
    assert r.json() == {"erro": "Data inválida: use DD-MM-YYYY", "code_header": "400"}


# ---- routing, methods, auth (§1, §2, §6) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/monitoramento/veiculos?apiKey=x"),
        ("GET", "/monitoramento/veiculo/1?apiKey=x"),
        ("POST", "/monitoramento/ultima-posicao"),
        ("POST", "/monitoramento/ultimas-posicoes-terminal"),
        ("POST", "/monitoramento/historico-terminal"),
        ("POST", "/monitoramento/historico-posicoes-terminal"),
        ("POST", "/monitoramento/ultimasposicoes"),
        ("POST", "/monitoramento/ultimas-posicoes-frota"),
        ("POST", "/monitoramento/ultimasposicoesfrota"),
        ("POST", "/monitoramento/ultimas-posicoes-por-terminal"),
        ("GET", "/monitoramento/doc"),
        ("POST", "/monitoramento/doc"),
        ("POST", "/monitoramento"),
        ("POST", "/ultimas-posicoes"),
        ("GET", "/"),
    ],
)
def test_paths_that_are_not_real_answer_404(server: EtracServer, method: str, path: str) -> None:
    r = requests.request(method, server.base_url + path, auth=AUTH, timeout=30)
    assert r.status_code == 404
    assert r.json() == {"erro": "Rota não encontrada", "code_header": "404"}


@pytest.mark.parametrize(
    "path", ["/ultimas-posicoes", "/ultimaposicao", "/ultimasposicoesterminal", "/resumoviagens"]
)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_data_paths_are_post_only(server: EtracServer, method: str, path: str) -> None:
    r = requests.request(method, f"{server.base_url}/monitoramento{path}", auth=AUTH, timeout=30)
    assert r.status_code == 405
    assert r.headers["Allow"] == "POST"
    assert r.json() == {"erro": "Método não permitido", "code_header": "405"}


def test_paths_match_case_insensitively_and_ignore_a_trailing_slash(server: EtracServer) -> None:
    assert post(server, "/Ultimas-Posicoes/").status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic " + base64.b64encode(f"{DEFAULT_EMAIL}:wrong".encode()).decode(),
        "Basic " + base64.b64encode(f"{DEFAULT_KEY}:{DEFAULT_EMAIL}".encode()).decode(),  # swapped order
        "Basic " + base64.b64encode(DEFAULT_EMAIL.encode()).decode(),  # no colon
        "Basic !!!not-base64!!!",
        f"Bearer {DEFAULT_KEY}",
    ],
)
def test_bad_or_missing_basic_auth_is_401_with_erro(server: EtracServer, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    r = requests.post(f"{server.base_url}/monitoramento/ultimas-posicoes", headers=headers, timeout=30)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="eTrac"'
    assert r.json() == {"erro": "Usuário ou chave de API inválidos", "code_header": "401"}


def test_email_is_case_insensitive_but_the_key_is_not(server: EtracServer) -> None:
    assert post(server, "/ultimas-posicoes", auth=(DEFAULT_EMAIL.upper(), DEFAULT_KEY)).status_code == 200
    assert post(server, "/ultimas-posicoes", auth=(DEFAULT_EMAIL, DEFAULT_KEY + "0")).status_code == 401


def test_no_cookie_or_api_key_parameter_is_needed_or_accepted(server: EtracServer) -> None:
    r = requests.post(
        f"{server.base_url}/monitoramento/ultimas-posicoes?apiKey={DEFAULT_KEY}",
        cookies={"PHPSESSID": "abc"},
        timeout=30,
    )
    assert r.status_code == 401
