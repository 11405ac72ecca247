"""How close the loader gets to PostgreSQL's COPY ceiling, and how far it leaves the old scripts.

Three ways to load the same position-shaped rows into the same server, measured in one run:

- ceiling: a bare ``COPY`` into an unindexed table — no loader can beat it;
- sync_apis: ``Stage.copy`` + ``Stage.merge`` (COPY into a temp table, one INSERT .. ON CONFLICT
  on the natural key, sync_runs row, one commit) — then the same day again (a re-run: no changes);
- legacy: what the old collector did, one ``INSERT .. ON CONFLICT DO NOTHING`` and one commit per
  row (measured on a sample, since it is slow).

The database is ``SYNC_APIS_BENCH_DB_URL``, else the test server (``SYNC_APIS_TEST_DB_URL``), else
the embedded one. Prints rows/s and ratios to the ceiling, never a bare timing to trust alone.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import psycopg

from bench.server import bench_server
from sync_apis import LOCAL_TZ
from sync_apis.sql_files import sql_files
from sync_apis.warehouse import RunInfo, Table, open_load, run_schema_files
from tests.support.pg import create_database, drop_database

COLUMNS = ("placa", "data_transmissao", "latitude", "longitude", "velocidade", "ignicao", "odometro", "extra")
POSITIONS = Table(
    "bench", "positions", key=("placa", "data_transmissao", "latitude", "longitude"), columns=COLUMNS
)
DDL = """
CREATE SCHEMA bench;
CREATE TABLE bench.positions (
    placa text NOT NULL, data_transmissao timestamptz NOT NULL,
    latitude double precision NOT NULL, longitude double precision NOT NULL,
    velocidade integer, ignicao boolean, odometro double precision, extra jsonb,
    synced_at timestamptz NOT NULL,
    PRIMARY KEY (placa, data_transmissao, latitude, longitude)
);
CREATE TABLE bench.ceiling (LIKE bench.positions);
CREATE TABLE bench.legacy (LIKE bench.positions INCLUDING ALL);
"""


def position_rows(n: int, seed: int = 1) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    start = datetime(2025, 3, 10, tzinfo=LOCAL_TZ)
    per_plate = 1500
    for i in range(n):
        plate, k = divmod(i, per_plate)
        yield (
            f"BEN{plate:04d}",
            start + timedelta(seconds=57 * k),
            -23.5 + rng.random() / 10,
            -46.6 + rng.random() / 10,
            rng.randint(0, 90),
            rng.random() < 0.7,
            100_000 + k * 0.4,
            {} if rng.random() < 0.9 else {"unknown_field": "x"},
        )


def timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main(rows: int = 200_000) -> None:
    server = bench_server()
    db = create_database(server, "sync_apis_bench")
    n = rows
    try:
        with psycopg.connect(db.url, autocommit=True) as conn:
            conn.execute(DDL)
            run_schema_files(conn, sql_files("sync_meta"))
            data = list(position_rows(n))

            def ceiling() -> None:
                with (
                    conn.transaction(),
                    conn.cursor() as cur,
                    cur.copy(
                        "COPY bench.ceiling (placa, data_transmissao, latitude, longitude, velocidade, "
                        "ignicao, odometro, extra, synced_at) FROM STDIN"
                    ) as copy,
                ):
                    now = datetime.now().astimezone()
                    for r in data:
                        copy.write_row((*r[:7], "{}" if not r[7] else '{"unknown_field":"x"}', now))

            def loader() -> None:
                run = RunInfo("bench", "positions", None, "bench", "bench", "bench")
                with open_load(conn, run) as load:
                    stage = load.stage(POSITIONS)
                    for i in range(0, n, 5_000):  # page by page, as the syncs do
                        stage.copy(data[i : i + 5_000])
                    stage.merge()
                    load.finish(requests=0, pages=0, retries=0, rows_received=n)

            sample = min(n, 3_000)

            def legacy() -> None:
                with conn.cursor() as cur:
                    conn.autocommit = False
                    for r in data[:sample]:
                        cur.execute(
                            "INSERT INTO bench.legacy VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now()) "
                            "ON CONFLICT DO NOTHING",
                            (*r[:7], psycopg.types.json.Jsonb(r[7])),
                        )
                        conn.commit()
                    conn.autocommit = True

            t_ceiling = timed(ceiling)
            t_loader = timed(loader)
            t_rerun = timed(loader)
            t_legacy = timed(legacy) * (n / sample)

        def line(label: str, seconds: float) -> str:
            return f"  {label:<44} {n / seconds:>11,.0f} rows/s   {t_ceiling / seconds:5.2f}x of ceiling"

        print(f"loader: {n:,} position rows ({os.cpu_count()} cores)")
        print(line("COPY into a bare table (ceiling)", t_ceiling))
        print(line("sync_apis COPY + merge, new day", t_loader))
        print(line("sync_apis COPY + merge, re-run (no changes)", t_rerun))
        print(line(f"legacy row-by-row + commit ({sample:,} sampled)", t_legacy))
        print(f"  sync_apis vs legacy: {t_legacy / t_loader:,.1f}x faster")
    finally:
        drop_database(server, db)
