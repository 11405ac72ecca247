"""auvo_daily's data-quality checks, generated from the stream table.

A check that covers every table is built from ``streams.STREAMS`` into its template in
``include/sql/checks/`` (identifiers through ``psycopg.sql``), so a new entity is checked as soon
as it has its row in ``streams.py``. The orphan check names the tables it joins and stays a
plain file. Bound parameters: ``run_id``, ``day_start``, ``day_end`` (and ``max_orphan_ratio``).
"""

from __future__ import annotations

from typing import Any

from sync_apis.auvo.streams import STREAMS, Mode, column_for
from sync_apis.sql_files import SQL_DIR

SCHEMA = "auvo"
ORPHANS_FILE = "checks/auvo_orphans.sql"


def _template(name: str) -> Any:
    """``include/sql/checks/<name>.sql``: a check, or (``parts/``) the piece of one that is
    repeated per stream. Parts hold no comment: they are repeated in the rendered check, and
    the check that uses them describes them."""
    from psycopg import sql

    text = (SQL_DIR / "checks" / f"{name}.sql").read_text(encoding="utf-8")
    return sql.SQL(text.rstrip("\n") if name.startswith("parts/") else text)


def day_totals_sql() -> str:
    """The live rows of each stream's slice of the run (the day for day-scoped streams, all of
    them for snapshots) next to the API's totalItems. Updated-since streams record no total."""
    from psycopg import sql

    counts = []
    for stream in STREAMS:
        if stream.mode is Mode.UPDATED_SINCE:
            continue
        where: sql.Composable = sql.SQL("deleted_at IS NULL")
        if stream.mode in (Mode.TASKS, Mode.DAY):
            assert stream.day_field is not None  # day-scoped streams have one (streams.py)
            day = sql.Identifier(column_for(stream, stream.day_field))
            where = _template("parts/auvo_live_in_day").format(col=day)
        counts.append(
            _template("parts/auvo_day_count").format(
                name=sql.Literal(stream.name), table=sql.Identifier(SCHEMA, stream.table), where=where
            )
        )
    query = _template("auvo_day_totals").format(counts=sql.SQL("\n    UNION ALL\n").join(counts))
    return str(query.as_string(None))


def keys_sql() -> str:
    """One column per stream: its key is present and unique in its table."""
    from psycopg import sql

    columns = [
        _template("parts/auvo_key_ok").format(
            key=sql.Identifier(stream.key.name),
            table=sql.Identifier(SCHEMA, stream.table),
            ok=sql.Identifier(f"{stream.table}_keys_ok"),
        )
        for stream in STREAMS
    ]
    return str(_template("auvo_keys").format(columns=sql.SQL(",\n").join(columns)).as_string(None))
