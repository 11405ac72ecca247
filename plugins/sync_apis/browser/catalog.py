"""What the browser may show: schemas, tables and columns as PostgreSQL's catalog lists them.

A request names a table or a column only as a key looked up here; what reaches SQL is the
catalog's own name through ``sql.Identifier``, so no request text ever becomes an identifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from sync_apis.sql_files import query

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
    rows = conn.execute(query("browser/catalog_tables"), {"schemas": list(SCHEMAS)}).fetchall()
    return [(str(s), str(t), int(n)) for s, t, n in rows]


def table_info(conn: psycopg.Connection[Any], schema: str, table: str) -> TableInfo:
    """The table's columns and key, or ``UnknownNameError`` if it is not a browsable table."""
    if schema not in SCHEMAS:
        raise UnknownNameError(f"schema {schema!r} is not browsable (only {', '.join(SCHEMAS)})")
    names = {"schema": schema, "table": table}
    cols = conn.execute(query("browser/catalog_columns"), names).fetchall()
    if not cols:
        raise UnknownNameError(f"no table {schema}.{table}")
    # From pg_index, not information_schema, which hides constraints from the reader role.
    key = conn.execute(query("browser/catalog_primary_key"), names).fetchall()
    estimate = conn.execute(query("browser/catalog_estimated_rows"), names).fetchone()
    return TableInfo(
        schema=schema,
        name=table,
        columns=tuple(Column(str(n), str(t)) for n, t in cols),
        key=tuple(str(k) for (k,) in key),
        estimated_rows=int(estimate[0]) if estimate else 0,
    )
