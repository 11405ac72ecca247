"""The correction switches: the fake API revises fixes and trips between two runs, and its
ground truth follows (what a client re-loading the day must end up with)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import requests

from sandbox.core import SAO_PAULO, Clock
from sandbox.etrac import DEFAULT_EMAIL, DEFAULT_KEY, EtracConfig, make_server
from sandbox.etrac.config import SWITCH_FIELDS
from sandbox.etrac.server import EtracServer

NOW = datetime(2025, 3, 13, 12, 0, tzinfo=SAO_PAULO)
DAY = date(2025, 3, 12)
AUTH = (DEFAULT_EMAIL, DEFAULT_KEY)


@pytest.fixture(scope="module")
def server() -> Iterator[EtracServer]:
    with make_server(EtracConfig(vehicles=4), clock=Clock(NOW)) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fresh(server: EtracServer) -> Iterator[None]:
    yield
    defaults = EtracConfig()
    for name in SWITCH_FIELDS:
        setattr(server.config, name, getattr(defaults, name))


def post(server: EtracServer, path: str, body: Any = None) -> Any:
    r = requests.post(f"{server.base_url}/monitoramento{path}", json=body, auth=AUTH, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def admin(server: EtracServer, body: Any) -> requests.Response:
    return requests.post(f"{server.base_url}/_sandbox/etrac/corrections", json=body, timeout=30)


def fixes(server: EtracServer, plate: str) -> dict[str, dict[str, Any]]:
    """The day's history answer by data_transmissao (each time is one fix)."""
    items = post(server, "/ultimasposicoesterminal", {"placa": plate, "data": DAY.strftime("%d/%m/%Y")})
    return {i["data_transmissao"]: i for i in items["posicoes"]}


def metres(a: dict[str, Any], b: dict[str, Any]) -> float:
    lat1, lon1, lat2, lon2 = (math.radians(float(x)) for x in (a["latitude"], a["longitude"],
                                                                b["latitude"], b["longitude"]))  # fmt: skip
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def parse_br(text: str) -> datetime:
    return datetime.strptime(text, "%d/%m/%Y %H:%M:%S").replace(tzinfo=SAO_PAULO)


def test_a_correction_round_moves_a_share_of_fixes_and_nothing_else(server: EtracServer) -> None:
    plate = server.world.plates()[0]
    before = fixes(server, plate)
    server.config.correction_ratio = 0.1
    assert admin(server, {}).json() == {"correction_round": 1, "correction_ratio": 0.1}
    after = fixes(server, plate)

    assert after.keys() == before.keys()  # same times, same number of fixes
    moved = [t for t in before if (before[t]["latitude"], before[t]["longitude"])
             != (after[t]["latitude"], after[t]["longitude"])]  # fmt: skip
    assert 0.03 * len(before) <= len(moved) <= 0.2 * len(before), (len(moved), len(before))
    assert all(4.5 <= metres(before[t], after[t]) <= 31 for t in moved)
    for t in before:  # only the coordinates (and the address derived from them) change
        keep = {k: v for k, v in before[t].items() if k not in ("latitude", "longitude", "logradouro")}
        assert {k: after[t][k] for k in keep} == keep

    # The ground truth follows the round: it is what the answer now holds.
    truth = {p["data_transmissao"]: p for p in server.world.positions(plate, DAY)}
    assert {parse_br(t) for t in after} == set(truth)
    assert all(
        (float(after[t]["latitude"]), float(after[t]["longitude"]))
        == (truth[parse_br(t)]["latitude"], truth[parse_br(t)]["longitude"])
        for t in after
    )

    # Round 0 is the data as first sent.
    assert admin(server, {"round": 0}).json()["correction_round"] == 0
    assert fixes(server, plate) == before


def test_a_correction_round_moves_trip_starts_and_the_latest_fix(server: EtracServer) -> None:
    plate = server.world.plates()[1]
    body = {"placa": plate, "data": DAY.strftime("%d-%m-%Y")}
    trips_before = post(server, "/resumoviagens", body)["retorno"]
    latest_before = {i["placa"]: i for i in post(server, "/ultimas-posicoes")["retorno"]}
    assert trips_before

    assert admin(server, {"round": 3, "ratio": 1}).status_code == 200
    trips_after = post(server, "/resumoviagens", body)["retorno"]
    latest_after = {i["placa"]: i for i in post(server, "/ultimas-posicoes")["retorno"]}

    assert len(trips_after) == len(trips_before)
    for old, new in zip(trips_before, trips_after, strict=True):
        early = parse_br(old["data_inicio_conducao"]) - parse_br(new["data_inicio_conducao"])
        assert timedelta(seconds=5) <= early <= timedelta(seconds=120)
        assert new["data_fim_conducao"] == old["data_fim_conducao"]
    truth = server.world.trips(plate, DAY)
    assert [parse_br(t["data_inicio_conducao"]) for t in trips_after] == [
        t["data_inicio_conducao"] for t in truth
    ]
    for p, old in latest_before.items():
        new = latest_after[p]
        assert new["data_transmissao"] == old["data_transmissao"] and 4.5 <= metres(old, new) <= 31
        assert float(new["latitude"]) == server.world.latest(p)["latitude"]


@pytest.mark.parametrize("body", [{"round": -1}, {"ratio": 2}, {"round": "x"}, [1]])
def test_bad_corrections_are_refused(server: EtracServer, body: Any) -> None:
    r = admin(server, body)
    assert r.status_code == 400 and r.json()["error"]
    assert (server.config.correction_round, server.config.correction_ratio) == (0, 0.02)
