"""Ground truth of the e-Track sandbox world against the warehouse, shared by the e-Track tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

SP = ZoneInfo("America/Sao_Paulo")
DAY = date(2025, 3, 10)
E_TRACK_TABLES = ("terminals", "positions", "trips", "routes", "history_counts")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=SP)
    return start, start + timedelta(days=1)


def table_hashes(conn: psycopg.Connection, *, with_synced_at: bool = True) -> dict[str, tuple[int, str]]:
    """(row count, md5 of every row's text, sorted) per e_track table: equal hashes = equal tables."""
    out = {}
    for table in E_TRACK_TABLES:
        row_expr = "t::text" if with_synced_at else "(to_jsonb(t) - 'synced_at')::text"
        count, digest = conn.execute(
            f"SELECT count(*), md5(coalesce(string_agg({row_expr}, '|' ORDER BY {row_expr}), '')) "
            f"FROM e_track.{table} t"
        ).fetchone()
        out[table] = (count, digest)
    return out


def warehouse_day(conn: psycopg.Connection, plate: str, day: date) -> list[dict[str, Any]]:
    start, end = day_bounds(day)
    cur = conn.execute(
        "SELECT placa, data_transmissao, latitude, longitude, velocidade, ignicao, odometro "
        "FROM e_track.positions WHERE placa = %s AND data_transmissao >= %s AND data_transmissao < %s",
        (plate, start, end),
    )
    names = [c.name for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def assert_matches_ground_truth(conn: psycopg.Connection, world: Any, days: list[date]) -> None:
    """Row counts and a checksum per plate-day for positions; trips per plate-day; routes."""
    from sandbox.etrac import checksum_positions

    for day in days:
        start, end = day_bounds(day)
        for plate in world.plates():
            rows = warehouse_day(conn, plate, day)
            truth = world.day_summary(plate, day)
            assert (plate, day, len(rows)) == (plate, day, truth.positions)
            assert checksum_positions(rows) == truth.checksum, f"positions of {plate} on {day} differ"

            trips = conn.execute(
                "SELECT data_inicio_conducao, data_fim_conducao, distancia_conducao FROM e_track.trips "
                "WHERE placa = %s AND data_inicio_conducao >= %s AND data_inicio_conducao < %s "
                "ORDER BY data_inicio_conducao",
                (plate, start, end),
            ).fetchall()
            expected = [
                (t["data_inicio_conducao"], t["data_fim_conducao"], t["distancia_conducao"])
                for t in world.trips(plate, day)
            ]
            assert trips == expected, f"trips of {plate} on {day} differ"

            route = conn.execute(
                "SELECT point_count, start_ts, end_ts, jsonb_array_length(points) FROM e_track.routes "
                "WHERE placa = %s AND rota_date = %s",
                (plate, day),
            ).fetchone()
            if truth.positions:
                assert route == (truth.positions, truth.first, truth.last, truth.positions)
            else:
                assert route is None


def apply_schema(url: str) -> None:
    from sync_apis.sql_files import sql_files
    from sync_apis.warehouse import run_schema_files

    with psycopg.connect(url, autocommit=True) as conn:
        run_schema_files(conn, sql_files("sync_meta") + sql_files("e_track"))


def routes_computed(conn: psycopg.Connection, day: date) -> tuple[int, int]:
    """``compute_routes`` of ``day`` as the routes task runs it, in a load of its own: (inserted,
    updated). Commits what the test wrote on ``conn`` first, since a load is its own transaction."""
    from sync_apis.etrac.routes import compute_routes
    from sync_apis.warehouse import RunInfo, open_load

    conn.commit()
    with open_load(conn, RunInfo("e_track", "routes", day, "test", "etrac_daily", "routes")) as load:
        return compute_routes(load, day)
