# ruff: noqa: E501  (the old collector's DDL and rows are kept readable, one statement a line)
"""A database left by the old e-Track collector (docs/legacy-system.md) is adopted in place:
its tables are set aside unchanged in e_track_legacy, their rows copied into the new tables
(naive local times -> timestamptz, trips deduplicated), nothing dropped."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.support.etrac_world import DAY, assert_matches_ground_truth, table_hashes
from tests.support.seams import run_etrac_day

pytestmark = pytest.mark.timeout(300)

LEGACY_SQL = """
CREATE SCHEMA IF NOT EXISTS e_track;
CREATE TABLE e_track.terminals (
    placa text PRIMARY KEY, descricao text, frota text, equipamento_serial text,
    data_gravacao timestamp, data_atualizacao timestamp, data jsonb
);
CREATE TABLE e_track.positions (
    id bigserial PRIMARY KEY, placa text REFERENCES e_track.terminals (placa),
    data_transmissao timestamp, latitude double precision, longitude double precision,
    logradouro text, velocidade int, ignicao bool, odometro double precision,
    odometro_can double precision, horimetro double precision, bateria double precision,
    equipamento_serial text, data_gravacao timestamp, raw jsonb, created_at timestamp DEFAULT now()
);
CREATE UNIQUE INDEX positions_unique_idx ON e_track.positions (placa, data_transmissao, latitude, longitude);
CREATE TABLE e_track.trips (
    id bigserial PRIMARY KEY, placa text, cliente text, cliente_fantasia text,
    data_inicio_conducao timestamp, data_fim_conducao timestamp,
    latitude_inicio_conducao double precision, longitude_inicio_conducao double precision,
    latitude_fim_conducao double precision, longitude_fim_conducao double precision,
    localizacao_inicio_conducao text, localizacao_fim_conducao text,
    odometro_inicio_conducao text, odometro_fim_conducao text, duracao_conducao interval,
    distancia_conducao text, condutor_nome text, condutor_identificacao text,
    raw jsonb, created_at timestamp DEFAULT now()
);
CREATE TABLE e_track.routes (
    id bigserial PRIMARY KEY, placa text, rota_date date, points jsonb, start_ts timestamp,
    end_ts timestamp, point_count int, raw jsonb, created_at timestamp DEFAULT now()
);
CREATE UNIQUE INDEX routes_placa_rota_date_idx ON e_track.routes (placa, rota_date);

INSERT INTO e_track.terminals VALUES
    ('ABC1D23', 'VW CONSTELLATION - CAMINHÃO 12', '12', '860000000000001',
     '2025-02-01 10:00:04', '2025-02-01 10:00:10', '{"placa": "ABC1D23", "frota": "12"}'),
    ('XYZ9876', 'FIAT STRADA', '7', '860000000000002', NULL, '2025-02-01 10:00:10', NULL);
INSERT INTO e_track.positions (placa, data_transmissao, latitude, longitude, logradouro, velocidade, ignicao,
                               odometro, odometro_can, horimetro, bateria, equipamento_serial, data_gravacao, raw)
VALUES
    ('ABC1D23', '2025-02-01 08:00:00', -19.9012, -43.9501, 'R. Exemplo, 10', 0, true, 123400, 0, 4319, 12.7,
     '860000000000001', '2025-02-01 08:00:03',
     '{"placa": "ABC1D23", "latitude": "-19.9012", "temperatura": "4,5"}'),
    ('ABC1D23', '2025-02-01 08:02:00', -19.9040, -43.9470, NULL, 37, true, 123401, 0, 4319, 13.9,
     NULL, NULL, NULL),
    ('XYZ9876', '2025-02-01 23:59:59', -23.5, -46.6, 'Av. Paulista', 0, false, NULL, NULL, NULL, NULL,
     NULL, NULL, '[]'),
    ('XYZ9876', NULL, -23.5, -46.6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO e_track.trips (placa, cliente, data_inicio_conducao, data_fim_conducao, odometro_inicio_conducao,
                           odometro_fim_conducao, duracao_conducao, distancia_conducao, raw)
VALUES
    ('ABC1D23', 'EMPRESA', '2025-02-01 08:00:00', '2025-02-01 09:00:00', '123400', '123431', '01:00:00', '31,2',
     '{"n": 1}'),
    ('ABC1D23', 'EMPRESA', '2025-02-01 08:00:00', '2025-02-01 09:00:00', '123400', '123431', '01:00:00', '31,2',
     '{"n": 2}'),
    ('ABC1D23', 'EMPRESA', '2025-02-01 14:00:00', '2025-02-01 15:30:00', '123431', '123480', '01:30:00', '49',
     '{"n": 3}');
INSERT INTO e_track.routes (placa, rota_date, points, start_ts, end_ts, point_count, raw)
VALUES ('ABC1D23', '2025-02-01', '[{"lat": -19.9012, "lon": -43.9501}, {"lat": -19.904, "lon": -43.947}]',
        '2025-02-01 08:00:00', '2025-02-01 08:02:00', 2, '{"source": "positions"}');
"""
LEGACY_COUNTS = {"terminals": 2, "positions": 4, "trips": 3, "routes": 1}


def build_legacy(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LEGACY_SQL)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def assert_adopted(conn: psycopg.Connection) -> None:
    # The originals, unchanged, with every row, in e_track_legacy.
    for table, n in LEGACY_COUNTS.items():
        assert conn.execute(f"SELECT count(*) FROM e_track_legacy.{table}").fetchone()[0] == n
    naive = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'e_track_legacy' "
        "AND data_type = 'timestamp without time zone' AND column_name <> 'created_at' ORDER BY 1, 2"
    ).fetchall()
    assert naive == [
        ("positions", "data_gravacao"), ("positions", "data_transmissao"), ("routes", "end_ts"),
        ("routes", "start_ts"), ("terminals", "data_atualizacao"), ("terminals", "data_gravacao"),
        ("trips", "data_fim_conducao"), ("trips", "data_inicio_conducao"),
    ]  # fmt: skip
    adoptions = {
        name: (total, copied, skipped)
        for name, total, copied, skipped in conn.execute(
            "SELECT legacy_table, rows_in_legacy, rows_copied, rows_skipped FROM e_track_legacy.adoptions"
        )
    }
    assert adoptions == {
        "terminals": (2, 2, 0),
        "positions": (4, 3, 1),
        "trips": (3, 2, 1),
        "routes": (1, 1, 0),
    }

    # Naive local times became the right instants (America/Sao_Paulo = UTC-3).
    legacy_positions = conn.execute(
        "SELECT placa, data_transmissao, extra, data_gravacao FROM e_track.positions "
        "WHERE data_transmissao < '2025-03-01' ORDER BY data_transmissao"
    ).fetchall()
    assert legacy_positions == [
        ("ABC1D23", utc(2025, 2, 1, 11, 0, 0), {"temperatura": "4,5"}, utc(2025, 2, 1, 11, 0, 3)),
        ("ABC1D23", utc(2025, 2, 1, 11, 2, 0), {}, None),
        ("XYZ9876", utc(2025, 2, 2, 2, 59, 59), {}, None),
    ]
    # Trips: one row per (placa, start); the most recent duplicate won; "31,2" read as 31.2 km.
    trips = conn.execute(
        "SELECT data_inicio_conducao, raw, distancia_conducao, duracao_conducao FROM e_track.trips "
        "WHERE placa = 'ABC1D23' ORDER BY 1"
    ).fetchall()
    assert trips == [
        (utc(2025, 2, 1, 11), {"n": 2}, 31.2, timedelta(hours=1)),
        (utc(2025, 2, 1, 17), {"n": 3}, 49.0, timedelta(hours=1, minutes=30)),
    ]
    route = conn.execute(
        "SELECT point_count, start_ts, end_ts, raw FROM e_track.routes WHERE placa = 'ABC1D23' AND rota_date = %s",
        (date(2025, 2, 1),),
    ).fetchone()
    assert route == (2, utc(2025, 2, 1, 11), utc(2025, 2, 1, 11, 2), {"source": "positions"})
    # The old collector computed no distance: an adopted route has none (nor half the Earth).
    assert conn.execute(
        "SELECT distance_km, max_speed FROM e_track.routes WHERE placa = 'ABC1D23' AND rota_date = %s",
        (date(2025, 2, 1),),
    ).fetchone() == (None, None)
    # Adopted fixes count as history fixes (a later complete answer may replace them); adopted
    # trips belong to the day they started (reported_day unknown).
    assert conn.execute(
        "SELECT DISTINCT origin FROM e_track.positions WHERE data_transmissao < '2025-03-01'"
    ).fetchall() == [("history",)]
    assert conn.execute(
        "SELECT count(*) FROM e_track.trips WHERE reported_day IS NOT NULL AND data_inicio_conducao < '2025-03-01'"
    ).fetchone() == (0,)
    terminal = conn.execute(
        "SELECT descricao, raw, data_gravacao FROM e_track.terminals WHERE placa = 'ABC1D23'"
    ).fetchone()
    assert terminal == (
        "VW CONSTELLATION - CAMINHÃO 12",
        {"placa": "ABC1D23", "frota": "12"},
        utc(2025, 2, 1, 13, 0, 4),
    )


def test_dag_adopts_a_legacy_database_and_then_loads_on_top(
    run_dag: Any,
    etrac_env: Any,
    etrac_sandbox: Any,
    warehouse_url: Any,
) -> None:
    build_legacy(warehouse_url.url)
    dag_run = run_dag("etrac_daily", DAY, conf={"requests_per_minute": 0})
    assert dag_run.state == "success"
    with psycopg.connect(warehouse_url.url) as conn:
        assert_adopted(conn)
        assert_matches_ground_truth(conn, etrac_sandbox.world, [DAY])
        # The old plates are still vehicles: asked for, answered "Terminal não encontrado", no failure.
        counts = conn.execute(
            "SELECT placa, positions_received FROM e_track.history_counts WHERE placa IN ('ABC1D23', 'XYZ9876')"
        ).fetchall()
        assert sorted(counts) == [("ABC1D23", 0), ("XYZ9876", 0)]
        before = table_hashes(conn)
    # The schema tasks are idempotent: a second run (its tasks at the seam) adopts nothing again
    # and changes nothing.
    run_etrac_day(etrac_sandbox.base_url, warehouse_url.url, DAY, {"requests_per_minute": 0})
    with psycopg.connect(warehouse_url.url) as conn:
        assert table_hashes(conn) == before
        assert conn.execute("SELECT count(*) FROM e_track_legacy.adoptions").fetchone()[0] == 4


def test_concurrent_schema_runs_adopt_exactly_once(warehouse_url: Any) -> None:
    """Three runs of a backfill start together: the advisory lock makes one adopt, the others wait."""
    from sync_apis.sql_files import sql_files
    from sync_apis.warehouse import run_schema_files

    build_legacy(warehouse_url.url)
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def apply() -> None:
        try:
            with psycopg.connect(warehouse_url.url, autocommit=True) as conn:
                barrier.wait()
                run_schema_files(conn, sql_files("sync_meta") + sql_files("e_track"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=apply) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with psycopg.connect(warehouse_url.url) as conn:
        assert_adopted(conn)
        assert conn.execute("SELECT count(*) FROM e_track.positions").fetchone()[0] == 3
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema LIKE 'e_track%' ORDER BY 1, 2"
        ).fetchall()
    assert tables == [
        ("e_track", "history_counts"), ("e_track", "positions"), ("e_track", "routes"),
        ("e_track", "terminals"), ("e_track", "trips"),
        ("e_track_legacy", "adoptions"), ("e_track_legacy", "positions"), ("e_track_legacy", "routes"),
        ("e_track_legacy", "terminals"), ("e_track_legacy", "trips"),
    ]  # fmt: skip


def test_a_foreign_table_is_refused_not_dropped(warehouse_url: Any) -> None:
    from sync_apis.sql_files import sql_files
    from sync_apis.warehouse import run_schema_files

    with psycopg.connect(warehouse_url.url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA e_track; CREATE TABLE e_track.trips (something text); "
                     "INSERT INTO e_track.trips VALUES ('precious')")  # fmt: skip
        run_schema_files(conn, sql_files("sync_meta"))
        with pytest.raises(psycopg.errors.RaiseException, match="neither the sync_apis shape"):
            run_schema_files(conn, sql_files("e_track"))
        assert conn.execute("SELECT something FROM e_track.trips").fetchall() == [("precious",)]
