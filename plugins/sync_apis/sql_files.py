"""Where the SQL lives: ``include/sql/<schema>/NNN_*.sql`` and ``include/sql/checks/``.

Kept free of database imports so DAG files can list schema files at parse time cheaply.
"""

from __future__ import annotations

from pathlib import Path

SQL_DIR = Path(__file__).resolve().parents[2] / "include" / "sql"


def sql_files(schema_name: str) -> list[str]:
    """``include/sql/<schema>/*.sql`` as paths relative to ``include/sql``, in apply order."""
    folder = SQL_DIR / schema_name
    if not folder.is_dir():
        raise FileNotFoundError(f"no schema folder {folder}")
    return [f"{schema_name}/{p.name}" for p in sorted(folder.glob("*.sql"))]
