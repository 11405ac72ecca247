"""e_track.routes against the sandbox's ground truth and a haversine computed here, in Python.

Covers a working day, a parked day (every fix at one spot: ~0 km) and a single-fix day (0 km):
distance_km, max_speed, point_count and the first/last fix of every route.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.support.etrac_world import apply_schema, day_bounds, routes_computed
from tests.support.sandboxes import SANDBOX_NOW, small_etrac_server
from tests.support.seams import EtracLoader

WORKING_DAYS = [date(2025, 3, 7), date(2025, 3, 8), date(2025, 3, 9), date(2025, 3, 10)]  # Fri..Mon

pytestmark = pytest.mark.timeout(300)


def haversine_km(points: list[tuple[float, float]]) -> float:
    """Sum of great-circle legs between consecutive points (mean Earth radius 6371.0088 km)."""
    total = 0.0
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(points):
        p1, p2 = math.radians(lat1), math.radians(lat2)
        h = (
            math.sin((p2 - p1) / 2) ** 2
            + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
        )
        total += 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))
    return total


def route_of(conn: psycopg.Connection, plate: str, day: date) -> dict[str, Any] | None:
    cur = conn.execute(
        "SELECT point_count, start_ts, end_ts, distance_km, max_speed FROM e_track.routes "
        "WHERE placa = %s AND rota_date = %s",
        (plate, day),
    )
    row = cur.fetchone()
    return None if row is None else dict(zip([c.name for c in cur.description], row, strict=True))


def loaded_fixes(conn: psycopg.Connection, plate: str, day: date) -> list[tuple[Any, ...]]:
    start, end = day_bounds(day)
    return conn.execute(
        "SELECT data_transmissao, latitude, longitude, velocidade FROM e_track.positions "
        "WHERE placa = %s AND data_transmissao >= %s AND data_transmissao < %s "
        "ORDER BY data_transmissao, latitude, longitude",
        (plate, start, end),
    ).fetchall()


def expected_route(world: Any, plate: str, day: date) -> dict[str, Any] | None:
    """What the route must say, from the sandbox's ground truth alone."""
    truth = sorted(world.positions(plate, day), key=lambda p: (p["data_transmissao"], p["latitude"]))
    if not truth:
        return None
    return {
        "point_count": len(truth),
        "start_ts": truth[0]["data_transmissao"],
        "end_ts": truth[-1]["data_transmissao"],
        "distance_km": haversine_km([(p["latitude"], p["longitude"]) for p in truth]),
        "max_speed": max(p["velocidade"] for p in truth),
    }


def assert_route(conn: psycopg.Connection, world: Any, plate: str, day: date) -> dict[str, Any] | None:
    route, expected = route_of(conn, plate, day), expected_route(world, plate, day)
    if expected is None:
        assert route is None, (plate, day)
        return None
    assert route is not None, (plate, day)
    assert {k: route[k] for k in ("point_count", "start_ts", "end_ts", "max_speed")} == {
        k: expected[k] for k in ("point_count", "start_ts", "end_ts", "max_speed")
    }, (plate, day)
    assert route["distance_km"] == pytest.approx(expected["distance_km"], abs=0.0015), (plate, day)
    # ... and the same from the rows the warehouse holds (not only from the sandbox's view).
    fixes = loaded_fixes(conn, plate, day)
    assert route["distance_km"] == pytest.approx(haversine_km([(f[1], f[2]) for f in fixes]), abs=0.0015)
    assert (route["point_count"], route["start_ts"], route["end_ts"]) == (
        len(fixes),
        fixes[0][0],
        fixes[-1][0],
    )
    return route


def test_routes_equal_a_haversine_over_the_positions(
    loader: EtracLoader,
    etrac_sandbox: Any,
) -> None:
    world = etrac_sandbox.world
    for day in WORKING_DAYS:
        loader.day(day)

    parked = [
        (p, d) for d in WORKING_DAYS for p in world.plates() if d.weekday() not in world.vehicle(p).work_days
    ]
    driven = [
        (p, d) for d in WORKING_DAYS for p in world.plates() if d.weekday() in world.vehicle(p).work_days
    ]
    assert parked and driven, "the sandbox world lacks a parked or a working day in these dates"
    with psycopg.connect(loader.url) as conn:
        for plate, day in parked:
            route = assert_route(conn, world, plate, day)
            assert route is not None and route["point_count"] > 1
            assert route["distance_km"] < 0.5 and route["max_speed"] == 0  # GPS noise of a parked truck
        for plate, day in driven:
            route = assert_route(conn, world, plate, day)
            assert route is not None
            # Straight legs between fixes never add up to more than the road the trips report.
            road = sum(t["distancia_conducao"] for t in world.trips(plate, day))
            assert 1.0 < route["distance_km"] < road, (plate, day, route, road)


@pytest.fixture
def one_fix_sandbox() -> Iterator[Any]:
    """The sandbox's clock just after a vehicle's first fix of a day: that day has one fix."""
    server = small_etrac_server()
    plate = server.world.plates()[0]
    day = SANDBOX_NOW.date()
    first, second = _first_two(server.world, plate, day)
    server.clock.set(first + (second - first) / 2)
    with server:
        yield server


def _first_two(world: Any, plate: str, day: date) -> list[datetime]:
    fixes = iter(world.positions(plate, day, until=SANDBOX_NOW + timedelta(days=1)))
    return [next(fixes)["data_transmissao"], next(fixes)["data_transmissao"]]


def test_a_single_fix_day_is_zero_km(one_fix_sandbox: Any, warehouse_url: Any, connect_airflow: Any) -> None:
    connect_airflow(warehouse=warehouse_url, etrac=one_fix_sandbox)
    apply_schema(warehouse_url.url)
    day_loader = EtracLoader(warehouse_url.url, one_fix_sandbox)
    world = one_fix_sandbox.world
    day = SANDBOX_NOW.date()
    day_loader.latest(day)
    day_loader.day(day)
    plate = world.plates()[0]
    with psycopg.connect(warehouse_url.url) as conn:
        route = assert_route(conn, world, plate, day)
        assert route is not None and route["point_count"] == 1
        assert route["distance_km"] == 0.0 and route["start_ts"] == route["end_ts"]
        for other in world.plates()[1:]:
            assert_route(conn, world, other, day)


# Awkward values a position row may hold, each with what its point must say. The loader never
# writes a non-finite number, but rows adopted from the old collector's tables may hold any float.
AWKWARD_FIXES = [
    # (seconds after local midnight, latitude, longitude, velocidade)
    (0.0, -23.5478507, -46.6358211, None),
    (12.5, -23.5478507, -46.6358211, 0.0),  # a fraction of a second; the same spot
    (30.0, -0.0, 0.0, -0.0),
    (45.0, 1e-05, -2.5e-06, 1e300),  # float8's text of these has an exponent
    (60.0, 89.99999999999999, 179.99999999999997, 0.1 + 0.2),
    (75.0, -23.55, -46.64, float("nan")),
    (90.0, -23.56, -46.65, float("inf")),
    (86399.999999, -23.57, -46.66, 123456789.123456789),
]


def test_route_points_say_each_fix_exactly_as_jsonb_would(warehouse_url: Any) -> None:
    """``points`` is written as JSON text and cast once (bench/results.md: 1.6x cheaper than a
    jsonb_build_object per fix); the result must be the very jsonb the functions build, and every
    point the fix it stands for, in order."""
    from zoneinfo import ZoneInfo

    apply_schema(warehouse_url.url)
    day = date(2025, 3, 12)
    start, _ = day_bounds(day)
    with psycopg.connect(warehouse_url.url) as conn:
        for seconds, lat, lon, speed in AWKWARD_FIXES:
            conn.execute(
                "INSERT INTO e_track.positions (placa, data_transmissao, latitude, longitude, velocidade) "
                "VALUES ('ABC1D23', %s, %s, %s, %s)",
                (start + timedelta(seconds=seconds), lat, lon, speed),
            )
        assert routes_computed(conn, day) == (1, 0)
        (points,) = conn.execute(
            "SELECT points FROM e_track.routes WHERE placa = 'ABC1D23' AND rota_date = %s", (day,)
        ).fetchone()
        # The same points built by the jsonb functions, from the same rows.
        conn.execute("SET LOCAL timezone = 'America/Sao_Paulo'")
        (same,) = conn.execute(
            "SELECT r.points = p.built AND r.points::text = p.built::text FROM e_track.routes r, ("
            "  SELECT jsonb_agg(jsonb_build_object('t', data_transmissao, 'lat', latitude,"
            "                   'lon', longitude, 'v', velocidade)"
            "         ORDER BY data_transmissao, latitude, longitude) AS built FROM e_track.positions) p"
        ).fetchone()
        assert same is True

    def number(value: float | None) -> Any:
        # JSON has no NaN or infinity: jsonb writes them as strings.
        return (
            str(value).replace("nan", "NaN").replace("inf", "Infinity")
            if value is not None and (math.isnan(value) or math.isinf(value))
            else value
        )

    zone = ZoneInfo("America/Sao_Paulo")
    expected = [
        {"t": start + timedelta(seconds=s), "lat": lat, "lon": lon, "v": number(v)}
        for s, lat, lon, v in AWKWARD_FIXES
    ]

    def read(value: Any) -> Any:
        # jsonb keeps numbers as numeric: 1e300 comes back as an int of 301 digits.
        return float(value) if isinstance(value, int | float) else value

    got = [{**{k: read(v) for k, v in p.items()}, "t": datetime.fromisoformat(p["t"])} for p in points]
    assert got == expected
    local = start.astimezone(zone).utcoffset()  # "t" is written in São Paulo's offset
    assert all(datetime.fromisoformat(p["t"]).utcoffset() == local for p in points)


def test_a_long_route_is_stored_with_lz4_where_the_server_has_it(warehouse_url: Any) -> None:
    """A dense day's points are compressed with lz4 (~5x faster than pglz) by servers built with
    it; a server without lz4 keeps its default and still stores the route."""
    apply_schema(warehouse_url.url)
    day = date(2025, 3, 12)
    start, _ = day_bounds(day)
    with psycopg.connect(warehouse_url.url) as conn:
        conn.execute(
            "INSERT INTO e_track.positions (placa, data_transmissao, latitude, longitude, velocidade) "
            "SELECT 'ABC1D23', %s + i * interval '20 s', -23.5 - i * 1e-4, -46.6 + i * 1e-4, i %% 90 "
            "FROM generate_series(0, 2999) AS i",
            (start,),
        )
        routes_computed(conn, day)
        method, count = conn.execute(
            "SELECT pg_column_compression(points), point_count FROM e_track.routes WHERE placa = 'ABC1D23'"
        ).fetchone()
        (has_lz4,) = conn.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        ).fetchone()
        (default,) = conn.execute("SHOW default_toast_compression").fetchone()
    assert count == 3000
    assert method == ("lz4" if has_lz4 else default), (method, has_lz4)


def test_a_leg_too_short_to_measure_counts_zero_km_instead_of_failing_the_day(warehouse_url: Any) -> None:
    """PostgreSQL raises "value out of range: underflow" where a float8 product rounds to zero, and
    the haversine's squared sine of a leg under ~1e-154 degrees does: one such fix (a latitude of
    1e-300 is in range, so the parser keeps it; adopted legacy rows may hold anything) used to fail
    the routes of the whole day. Legs under 1e-9 degrees (0.1 mm) count as 0 km."""
    apply_schema(warehouse_url.url)
    day = date(2025, 3, 12)
    start, _ = day_bounds(day)
    fixes = [
        (1e-300, 0.0),
        (2e-300, 0.0),  # a latitude difference of 1e-300 degrees
        (2e-300, 1e-300),  # a longitude difference of 1e-300 degrees
        (1e-3, 0.0),  # a real leg of ~111 m
        (1e-3 + 1e-200, 0.01),  # one of ~1.1 km whose latitude moved by 1e-200 degrees
    ]
    with psycopg.connect(warehouse_url.url) as conn:
        for minute, (lat, lon) in enumerate(fixes):
            conn.execute(
                "INSERT INTO e_track.positions (placa, data_transmissao, latitude, longitude, velocidade) "
                "VALUES ('ABC1D23', %s, %s, %s, 10)",
                (start + timedelta(minutes=minute), lat, lon),
            )
        assert routes_computed(conn, day) == (1, 0)
        point_count, distance_km = conn.execute(
            "SELECT point_count, distance_km FROM e_track.routes WHERE placa = 'ABC1D23' AND rota_date = %s",
            (day,),
        ).fetchone()
    assert point_count == len(fixes)
    expected = haversine_km(fixes)
    assert 1.2 < expected < 1.3  # the two real legs; Python's float rounds the others to 0 silently
    assert distance_km == round(expected, 3)
