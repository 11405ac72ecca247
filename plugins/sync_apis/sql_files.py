"""Where the SQL lives: ``include/sql/<schema>/NNN_*.sql`` and ``include/sql/checks/``.

Kept free of database imports so DAG files can list schema files at parse time cheaply.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

SQL_DIR = Path(__file__).resolve().parents[2] / "include" / "sql"


def sql_files(schema_name: str) -> list[str]:
    """``include/sql/<schema>/*.sql`` as paths relative to ``include/sql``, in apply order."""
    folder = SQL_DIR / schema_name
    if not folder.is_dir():
        raise FileNotFoundError(f"no schema folder {folder}")
    return [f"{schema_name}/{p.name}" for p in sorted(folder.glob("*.sql"))]


def query(name: str) -> str:
    """The text of ``include/sql/queries/<name>.sql``: a statement the code runs (not a schema file).

    Values are bound (``%(name)s``); identifiers, where a statement needs composed ones, are
    added by the caller with ``psycopg.sql``.
    """
    return _read(name)


@cache
def _read(name: str) -> str:
    return (SQL_DIR / "queries" / f"{name}.sql").read_text(encoding="utf-8")


def statement(name: str, **parts: Any) -> Any:
    """``query(name)`` as a ``psycopg.sql.Composable``: its ``{placeholders}`` filled with ``parts``
    (identifiers and fragments composed with ``psycopg.sql``), its values left bound
    (``%(name)s``). Without ``parts`` the text is taken as it is, so a file without placeholders
    may hold literal braces (jsonb, arrays). Composable either way, so a file that is an
    expression can go into another statement."""
    from psycopg import sql

    text = sql.SQL(query(name))
    return text.format(**parts) if parts else text
