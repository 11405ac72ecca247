"""A checksum of every table in some warehouse schemas: equal checksums = equal tables."""

from __future__ import annotations

from collections.abc import Collection

import psycopg
from psycopg import sql


def primary_key(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    """The table's primary-key columns in key order (empty if it has none)."""
    rows = conn.execute(
        "SELECT a.attname FROM pg_index i "
        "JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY k.ord",
        (f"{schema}.{table}",),
    ).fetchall()
    return [r[0] for r in rows]


def table_checksums(
    conn: psycopg.Connection, schemas: Collection[str], *, excluded: Collection[str] = ()
) -> dict[str, tuple[int, str]]:
    """``schema.table`` -> (row count, md5 of every row in primary-key order), for every table of
    ``schemas``; columns named in ``excluded`` are left out of each row (where a table has them).

    Every table is included, also those no run writes (they must stay empty): a table added
    later cannot escape the comparison. A row is its JSON text (every column, by name), so a
    changed value, a NULL that became a value and a row more or less all change the digest."""
    tables = conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema = ANY(%s) AND table_type = 'BASE TABLE' ORDER BY 1, 2",
        (list(schemas),),
    ).fetchall()
    drop = sql.SQL("").join(sql.SQL(" - {}").format(sql.Literal(c)) for c in sorted(excluded))
    out: dict[str, tuple[int, str]] = {}
    for schema, table in tables:
        key = primary_key(conn, schema, table)
        assert key, f"{schema}.{table} has no primary key to order its rows by"
        row = sql.SQL("(to_jsonb(t){drop})::text").format(drop=drop)
        count, digest = conn.execute(
            sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg({row}, E'\\n' ORDER BY {key}), '')) FROM {table} t"
            ).format(
                row=row,
                key=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(k)) for k in key),
                table=sql.Identifier(schema, table),
            )
        ).fetchone()
        out[f"{schema}.{table}"] = (count, digest)
    return out
