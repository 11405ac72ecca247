"""What the browser may show: schemas, tables and columns as PostgreSQL's catalog lists them.

A request names a table or a column only as a key looked up here; what reaches SQL is the
catalog's own name through ``sql.Identifier``, so no request text ever becomes an identifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

SCHEMAS = ("auvo", "e_track", "sync_meta")
TEXT_TYPES = frozenset({"text", "character varying", "character"})
TIME_TYPES = frozenset({"timestamp with time zone", "timestamp without time zone", "date"})
JSON_TYPES = frozenset({"json", "jsonb"})


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.name)

    @property
    def is_text(self) -> bool:
        return self.data_type in TEXT_TYPES

    @property
    def is_time(self) -> bool:
        return self.data_type in TIME_TYPES

    @property
    def is_json(self) -> bool:
        return self.data_type in JSON_TYPES


@dataclass(frozen=True)
class TableInfo:
    schema: str
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    """Primary key columns; empty when the table has none (then paging falls back to ctid)."""
    estimated_rows: int

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise UnknownNameError(f"{self.qualified} has no column {name!r}")


class UnknownNameError(LookupError):
    """A table or column the catalog does not list: the request is refused, nothing is run."""


def list_tables(conn: psycopg.Connection[Any]) -> list[tuple[str, str, int]]:
    """(schema, table, estimated rows) of every browsable table, by schema then name."""
    rows = conn.execute(
        "SELECT t.table_schema, t.table_name, greatest(coalesce(c.reltuples, 0), 0)::bigint "
        "FROM information_schema.tables t "
        "JOIN pg_namespace n ON n.nspname = t.table_schema "
        "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.table_name "
        "WHERE t.table_schema = ANY(%s) AND t.table_type = 'BASE TABLE' "
        "ORDER BY t.table_schema, t.table_name",
        (list(SCHEMAS),),
    ).fetchall()
    return [(str(s), str(t), int(n)) for s, t, n in rows]


def table_info(conn: psycopg.Connection[Any], schema: str, table: str) -> TableInfo:
    """The table's columns and key, or ``UnknownNameError`` if it is not a browsable table."""
    if schema not in SCHEMAS:
        raise UnknownNameError(f"schema {schema!r} is not browsable (only {', '.join(SCHEMAS)})")
    cols = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema, table),
    ).fetchall()
    if not cols:
        raise UnknownNameError(f"no table {schema}.{table}")
    # pg_index, not information_schema.table_constraints: the latter hides constraints from a
    # role that only holds SELECT, which is exactly the reader role.
    key = conn.execute(
        "SELECT a.attname FROM pg_index i "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = to_regclass(format('%%I.%%I', %s::text, %s::text)) AND i.indisprimary "
        "ORDER BY array_position(i.indkey::int2[], a.attnum)",
        (schema, table),
    ).fetchall()
    estimate = conn.execute(
        "SELECT greatest(coalesce(c.reltuples, 0), 0)::bigint FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (schema, table),
    ).fetchone()
    return TableInfo(
        schema=schema,
        name=table,
        columns=tuple(Column(str(n), str(t)) for n, t in cols),
        key=tuple(str(k) for (k,) in key),
        estimated_rows=int(estimate[0]) if estimate else 0,
    )
