"""The deterministic world: plausibility, determinism, and ground truth == what the API serves."""

from __future__ import annotations

import inspect
import itertools
import re
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import requests

from sandbox.core import SAO_PAULO, Clock
from sandbox.etrac import DEFAULT_EMAIL, DEFAULT_KEY, EtracConfig, World, checksum_positions, make_server
from sandbox.etrac.server import EtracServer

NOW = datetime(2025, 3, 13, 12, 0, tzinfo=SAO_PAULO)
DAYS = [date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)]
AUTH = (DEFAULT_EMAIL, DEFAULT_KEY)
OLD_PLATE = re.compile(r"^[A-Z]{3}\d{4}$")
MERCOSUL_PLATE = re.compile(r"^[A-Z]{3}\d[A-Z]\d{2}$")


@pytest.fixture(scope="module")
def world() -> World:
    return World(EtracConfig(vehicles=40, seed=11), Clock(NOW))


@pytest.fixture(scope="module")
def server() -> Iterator[EtracServer]:
    with make_server(EtracConfig(vehicles=8, duplicate_ratio=0.03), clock=Clock(NOW)) as srv:
        yield srv


def post(server: EtracServer, path: str, body: Any = None) -> requests.Response:
    return requests.post(f"{server.base_url}/monitoramento{path}", json=body, auth=AUTH, timeout=30)


def parse_item(placa: str, item: dict[str, Any]) -> dict[str, Any]:
    """What a correct client loads from one API item (default formats)."""

    def ts(text: str) -> datetime:
        return datetime.strptime(text, "%d/%m/%Y %H:%M:%S").replace(tzinfo=SAO_PAULO)

    return {
        "placa": item.get("placa", placa),
        "descricao": item["descricao"],
        "frota": item["frota"],
        "equipamento_serial": item["equipamento_serial"],
        "data_transmissao": ts(item["data_transmissao"]),
        "data_gravacao": ts(item["data_gravacao"]),
        "latitude": float(item["latitude"]),
        "longitude": float(item["longitude"]),
        "logradouro": item["logradouro"],
        "velocidade": item["velocidade"],
        "ignicao": item["ignicao"] == 1,
        "odometro": item["odometro"],
        "odometro_can": item["odometro_can"],
        "horimetro": item["horimetro"],
        "bateria": item["bateria"],
    }


def dedupe(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        seen.setdefault((row["placa"], row["data_transmissao"], row["latitude"], row["longitude"]), row)
    return list(seen.values())


# ---- ground truth equals the API -------------------------------------------------------------------


def test_ground_truth_equals_what_the_api_serves_after_dedupe(server: EtracServer) -> None:
    duplicates = 0
    for plate in server.world.plates():
        for day in [*DAYS, NOW.date()]:
            r = post(server, "/ultimasposicoesterminal", {"placa": plate, "data": day.strftime("%d/%m/%Y")})
            loaded = [parse_item(plate, i) for i in r.json()["posicoes"]]
            unique = dedupe(loaded)
            duplicates += len(loaded) - len(unique)
            truth = list(server.world.positions(plate, day))
            assert unique == truth, (plate, day)
            assert checksum_positions(unique) == server.world.day_checksum(plate, day)
            assert server.world.day_summary(plate, day).positions == len(unique)
    assert duplicates > 0, "exact duplicates are served so clients must dedupe"


def test_duplicates_are_exact_copies(server: EtracServer) -> None:
    plate = server.world.plates()[0]
    items = [
        i
        for d in DAYS
        for i in post(
            server, "/ultimasposicoesterminal", {"placa": plate, "data": d.strftime("%d/%m/%Y")}
        ).json()["posicoes"]
    ]
    by_time: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_time.setdefault(item["data_transmissao"], []).append(item)
    repeated = [group for group in by_time.values() if len(group) > 1]
    assert repeated
    assert all(all(x == group[0] for x in group) for group in repeated)


def test_trips_and_latest_ground_truth_match_the_api(server: EtracServer) -> None:
    latest = {i["placa"]: i for i in post(server, "/ultimas-posicoes").json()["retorno"]}
    for plate in server.world.plates():
        truth = server.world.latest(plate)
        assert truth is not None
        assert parse_item(plate, latest[plate]) == truth
        for day in DAYS:
            served = post(server, "/resumoviagens", {"placa": plate, "data": day.strftime("%d-%m-%Y")})
            trips = server.world.trips(plate, day)
            assert [t["data_inicio_conducao"].strftime("%d/%m/%Y %H:%M:%S") for t in trips] == [
                t["data_inicio_conducao"] for t in served.json()["retorno"]
            ]


# ---- determinism -----------------------------------------------------------------------------------


def _snapshot(config: EtracConfig) -> list[bytes]:
    with make_server(config, clock=Clock(NOW)) as srv:
        plate = srv.world.plates()[1]
        return [
            post(srv, "/ultimas-posicoes").content,
            post(srv, "/ultimasposicoesterminal", {"placa": plate, "data": "11/03/2025"}).content,
            post(srv, "/resumoviagens", {"placa": plate, "data": "11-03-2025"}).content,
        ]


def test_same_seed_same_bytes_different_seed_different_world() -> None:
    first = _snapshot(EtracConfig(vehicles=5, seed=3))
    again = _snapshot(EtracConfig(vehicles=5, seed=3))
    other = _snapshot(EtracConfig(vehicles=5, seed=4))
    assert first == again
    assert all(a != b for a, b in zip(first, other, strict=True))
    assert World(EtracConfig(vehicles=5, seed=3)).plates() != World(EtracConfig(vehicles=5, seed=4)).plates()


def test_a_vehicle_day_does_not_depend_on_other_days_or_vehicles() -> None:
    big = World(EtracConfig(vehicles=30, seed=5))
    small = World(EtracConfig(vehicles=3, seed=5))
    plate = small.plates()[2]
    assert big.plates()[:3] == small.plates()
    far = date(2031, 7, 14)  # six years after the epoch: O(1), not a walk over the days before
    started = time.perf_counter()
    rows = list(small.positions(plate, far))
    assert time.perf_counter() - started < 0.5
    for _ in big.positions(plate, far - timedelta(days=1)):
        pass
    assert rows == list(big.positions(plate, far))


def test_positions_are_generated_lazily(world: World) -> None:
    plate = world.plates()[0]
    assert inspect.isgenerator(world.positions(plate, DAYS[0]))
    assert inspect.isgenerator(world.fixes(plate, DAYS[0]))


# ---- plausibility ------------------------------------------------------------------------------------


def test_fleet_master_data_is_plausible(world: World) -> None:
    plates = world.plates()
    assert len(set(plates)) == len(plates) == 40
    assert any(OLD_PLATE.match(p) for p in plates) and any(MERCOSUL_PLATE.match(p) for p in plates)
    assert all(OLD_PLATE.match(p) or MERCOSUL_PLATE.match(p) for p in plates)
    cities = {v.city.name for v in world.vehicles}
    assert len(cities) >= 5
    for v in world.vehicles:
        t = world.terminal(v.placa)
        assert re.match(r"^86\d{13}$", t["equipamento_serial"])
        assert t["frota"] and t["descricao"].endswith(t["frota"].zfill(2))


def test_days_are_plausible(world: World) -> None:
    for v in world.vehicles[:15]:
        for day in DAYS:
            rows = list(world.positions(v.placa, day))
            assert rows, (v.placa, day)
            times = [r["data_transmissao"] for r in rows]
            assert times == sorted(times) and len(set(times)) == len(times)
            assert all(t.date() == day for t in times)
            for a, b in itertools.pairwise(rows):
                gap = (b["data_transmissao"] - a["data_transmissao"]).total_seconds()
                if a["ignicao"] and b["ignicao"]:
                    assert 30 <= gap <= 120
                assert gap <= 2 * 3600
                assert b["odometro"] >= a["odometro"] and b["horimetro"] >= a["horimetro"]
                if not a["ignicao"] and not b["ignicao"]:
                    assert b["odometro"] == a["odometro"], "parked vehicles do not move"
            for r in rows:
                assert 0 <= r["velocidade"] <= 130
                assert 11.8 <= r["bateria"] <= 14.4
                lag = (r["data_gravacao"] - r["data_transmissao"]).total_seconds()
                assert 0 <= lag <= 1800
                assert abs(r["latitude"] - v.city.lat) < 1.0 and abs(r["longitude"] - v.city.lon) < 1.0
                if r["velocidade"] > 0:
                    assert r["ignicao"]
            lags = [(r["data_gravacao"] - r["data_transmissao"]).total_seconds() for r in rows]
            assert sum(1 for x in lags if x <= 10) >= 0.8 * len(lags)


def test_some_receipts_are_minutes_late(world: World) -> None:
    lags = [
        (r["data_gravacao"] - r["data_transmissao"]).total_seconds()
        for v in world.vehicles[:10]
        for r in world.positions(v.placa, DAYS[1])
    ]
    assert any(x >= 60 for x in lags) and max(lags) <= 1800


def test_odometer_and_hour_meter_continue_across_days(world: World) -> None:
    for v in world.vehicles[:10]:
        start = date(2025, 2, 1)
        previous: dict[str, Any] | None = None
        for k in range(21):
            rows = list(world.positions(v.placa, start + timedelta(days=k)))
            if previous is not None:
                assert rows[0]["odometro"] == previous["odometro"]
                assert rows[0]["horimetro"] == previous["horimetro"]
            previous = rows[-1]


def test_rest_days_have_only_parked_fixes(world: World) -> None:
    weekday_only = next(v for v in world.vehicles if v.work_days == frozenset(range(5)))
    sunday = date(2025, 3, 9)
    rows = list(world.positions(weekday_only.placa, sunday))
    assert rows and not any(r["ignicao"] for r in rows)
    assert world.trips(weekday_only.placa, sunday) == []
    assert len({r["odometro"] for r in rows}) == 1


def test_trips_are_the_ignition_on_segments(world: World) -> None:
    drivers: set[str] = set()
    for v in world.vehicles[:12]:
        for day in DAYS:
            rows = list(world.positions(v.placa, day))
            by_time = {r["data_transmissao"]: r for r in rows}
            trips = world.trips(v.placa, day)
            on_rows = [r for r in rows if r["ignicao"]]
            inside = 0
            for t in trips:
                begin, end = by_time[t["data_inicio_conducao"]], by_time[t["data_fim_conducao"]]
                assert begin["ignicao"] and begin["velocidade"] == 0 and not end["ignicao"]
                assert (begin["latitude"], begin["longitude"]) == (
                    t["latitude_inicio_conducao"],
                    t["longitude_inicio_conducao"],
                )
                assert (end["latitude"], end["longitude"]) == (
                    t["latitude_fim_conducao"],
                    t["longitude_fim_conducao"],
                )
                assert begin["odometro"] == t["odometro_inicio_conducao"]
                assert end["odometro"] == t["odometro_fim_conducao"]
                assert (
                    abs(t["odometro_fim_conducao"] - t["odometro_inicio_conducao"] - t["distancia_conducao"])
                    <= 1
                )
                assert t["duracao_conducao"] == end["data_transmissao"] - begin["data_transmissao"]
                assert 8 <= t["distancia_conducao"] / (t["duracao_conducao"].total_seconds() / 3600) <= 80
                window = [
                    r
                    for r in rows
                    if begin["data_transmissao"] <= r["data_transmissao"] < end["data_transmissao"]
                ]
                assert all(r["ignicao"] for r in window)
                inside += len(window)
                drivers.add(t["condutor_nome"])
            assert inside == len(on_rows), "every ignition-on fix belongs to a trip"
            if trips:
                total = sum(t["distancia_conducao"] for t in trips)
                assert abs(rows[-1]["odometro"] - rows[0]["odometro"] - total) <= len(trips)
    assert "" in drivers and len(drivers) > 2, "drivers are sometimes identified, sometimes not"


def test_today_is_partial_and_grows_with_the_clock() -> None:
    clock = Clock(NOW)
    world = World(EtracConfig(vehicles=3), clock)
    plate = world.plates()[0]
    morning = list(world.positions(plate, NOW.date()))
    assert morning and morning[-1]["data_transmissao"] <= NOW
    latest = world.latest(plate)
    assert latest == morning[-1]
    clock.advance(timedelta(hours=8))
    evening = list(world.positions(plate, NOW.date()))
    assert evening[: len(morning)] == morning and len(evening) > len(morning)
    assert world.trips(plate, NOW.date(), until=NOW) == [
        t for t in world.trips(plate, NOW.date()) if t["data_fim_conducao"] <= NOW
    ]


def test_time_zone_shapes_day_boundaries() -> None:
    utc_world = World(EtracConfig(vehicles=2, timezone="UTC"))
    plate = utc_world.plates()[0]
    rows = list(utc_world.positions(plate, DAYS[0]))
    assert rows and all(str(r["data_transmissao"].tzinfo) == "UTC" for r in rows)
    assert all(r["data_transmissao"].date() == DAYS[0] for r in rows)
