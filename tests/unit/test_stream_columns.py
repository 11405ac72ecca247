"""Every stream's columns, both sources, against the DDL in include/sql: a mismatch fails here in
seconds, not in a DAG run. The schema files are applied to a fresh database of the real
PostgreSQL and ``information_schema`` says what the tables are."""

from __future__ import annotations

from typing import Any

import pytest

from sync_apis.auvo import streams as auvo_streams
from sync_apis.auvo.tables import table_of
from sync_apis.etrac import streams as etrac_streams
from sync_apis.sql_files import sql_files
from sync_apis.warehouse import Table, run_schema_files
from tests.support.column_types import AUVO_TYPES, ETRAC_TYPES

# Columns the loader fills itself (``Table``'s docstring): never listed by a stream.
MANAGED = {"synced_at", "deleted_at"}


@pytest.fixture(scope="module")
def ddl(pg_server: Any) -> Any:
    """{(schema, table): {column: data_type}} and {(schema, table): primary key columns}."""
    import psycopg

    from tests.support.pg import create_database, drop_database

    db = create_database(pg_server, "sync_apis_test_ddl")
    try:
        with psycopg.connect(db.url, autocommit=True) as conn:
            for schema in ("sync_meta", "auvo", "e_track"):
                run_schema_files(conn, sql_files(schema))
            columns: dict[tuple[str, str], dict[str, str]] = {}
            for schema, table, column, data_type in conn.execute(
                "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema IN ('auvo', 'e_track')"
            ):
                columns.setdefault((schema, table), {})[column] = data_type
            keys: dict[tuple[str, str], tuple[str, ...]] = {}
            for schema, table, key in conn.execute(
                "SELECT n.nspname, c.relname, array_agg(a.attname ORDER BY k.ord) "
                "FROM pg_constraint p JOIN pg_class c ON c.oid = p.conrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY k(attnum, ord) "
                "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
                "WHERE p.contype = 'p' AND n.nspname IN ('auvo', 'e_track') GROUP BY 1, 2"
            ):
                keys[(schema, table)] = tuple(key)
    finally:
        drop_database(pg_server, db)
    return columns, keys


def _check(table: Table, ddl: Any) -> dict[str, str]:
    columns, keys = ddl
    where = (table.schema, table.name)
    assert where in columns, f"{table.qualified}: no such table in include/sql"
    found = columns[where]
    missing = [c for c in table.columns if c not in found]
    assert not missing, f"{table.qualified}: loaded columns missing from the DDL: {missing}"
    unloaded = sorted(set(found) - set(table.columns) - MANAGED)
    assert not unloaded, f"{table.qualified}: DDL columns no stream fills: {unloaded}"
    managed = {c for c in MANAGED if c in found}
    expected = {"synced_at"} | ({"deleted_at"} if table.soft_delete else set())
    assert managed == expected, f"{table.qualified}: managed columns {sorted(managed)}"
    assert keys.get(where) == table.key, f"{table.qualified}: primary key {keys.get(where)} vs {table.key}"
    return found


@pytest.mark.parametrize("stream", auvo_streams.STREAMS, ids=lambda s: s.name)
def test_auvo_stream_matches_its_table(stream: auvo_streams.Stream, ddl: Any) -> None:
    found = _check(table_of(stream), ddl)
    for column in (stream.key, *stream.columns):
        assert found[column.name] == AUVO_TYPES[column.kind], f"auvo.{stream.name}.{column.name}"
    assert found["raw"] == "jsonb"


@pytest.mark.parametrize("stream", etrac_streams.STREAMS, ids=lambda s: s.name)
def test_etrac_stream_matches_its_table(stream: etrac_streams.Stream, ddl: Any) -> None:
    found = _check(stream.table, ddl)
    for column in stream.columns:
        if column.kind != "added":
            assert found[column.name] == ETRAC_TYPES[column.kind], f"e_track.{stream.name}.{column.name}"


def test_every_warehouse_table_of_both_sources_is_a_stream_or_known_derived(ddl: Any) -> None:
    columns, _ = ddl
    streams = {("auvo", s.name) for s in auvo_streams.STREAMS} | {
        ("e_track", s.name) for s in etrac_streams.STREAMS
    }
    # Derived by SQL from positions (routes) or bookkeeping of the history task (history_counts).
    derived = {("e_track", "routes"), ("e_track", "history_counts")}
    tables = {t for t in columns if not t[1].startswith("v_")}  # views are not loaded
    assert tables - derived == streams


# What each e-Track row builder returns is the stream's columns, less the ones the loop adds.
ETRAC_RECORD = {
    "placa": "ABC1D23",
    "data_transmissao": "2025-03-10 08:00:00",
    "latitude": "-19.9",
    "longitude": "-43.9",
    "data_inicio_conducao": "10/03/2025 08:00:00",
}
ADDED_BY_THE_LOOP = {"terminals": set(), "positions": {"origin"}, "trips": {"reported_day"}}


@pytest.mark.parametrize("stream", etrac_streams.STREAMS, ids=lambda s: s.name)
def test_etrac_builders_name_exactly_the_stream_columns(stream: etrac_streams.Stream) -> None:
    row = stream.build(dict(ETRAC_RECORD))
    assert set(row) == set(stream.all_columns) - ADDED_BY_THE_LOOP[stream.name]
    full = stream.row({**row, **dict.fromkeys(ADDED_BY_THE_LOOP[stream.name], "x")})
    assert full[stream.position("placa")] == "ABC1D23"
    assert len(full) == len(stream.all_columns)
