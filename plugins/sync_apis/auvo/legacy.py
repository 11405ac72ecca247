"""Adopt the rows of the old Auvo script's tables (set aside by include/sql/auvo/001_*.sql).

The old ``auvo_sync.py`` kept ``users``/``customers``/``tasks`` with a surrogate ``id``, the
business id as a plain (possibly duplicated) column, the API record in ``data jsonb`` and a
naive ``fetched_at`` (docs/legacy-system.md). Its records are API records, so they go through
the very parser the sync uses (``parse.to_row``): typed columns come out exactly as for a
fresh sync. Rows are staged oldest first, so the merge's "last staged row per key wins" keeps
the latest record of each business id. Each legacy table is copied once (``auvo_legacy.adoptions``)
and kept; rows without a usable key go to ``sync_meta.rejected_records``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from psycopg import sql

from sync_apis.auvo.parse import to_row
from sync_apis.auvo.streams import BY_NAME, SOURCE, Stream
from sync_apis.auvo.tables import table_of
from sync_apis.loop import Feed
from sync_apis.rejected import Rejected
from sync_apis.sql_files import query
from sync_apis.warehouse import Load, RunInfo, open_load

LEGACY_SCHEMA = "auvo_legacy"
_LEGACY_NAME = re.compile(r"^(users|customers|tasks)(_\d{14})?$")

# The old tables' plain columns -> the API field names, for rows whose ``data`` is empty.
PLAIN_TO_API: dict[str, dict[str, str]] = {
    "users": {
        "user_id": "userID",
        "external_id": "externalId",
        "name": "name",
        "login": "login",
        "email": "email",
    },
    "customers": {
        "customer_id": "id",
        "external_id": "externalId",
        "customer_name": "description",
        "address": "address",
        "latitude": "latitude",
        "longitude": "longitude",
    },
    "tasks": {
        "task_id": "taskID",
        "external_id": "externalId",
        "customer_id": "customerId",
        "user_from": "idUserFrom",
        "user_to": "idUserTo",
        "latitude": "latitude",
        "longitude": "longitude",
        "task_status": "taskStatus",
        "task_date": "taskDate",
    },
}
BUSINESS_KEY = {"users": "user_id", "customers": "customer_id", "tasks": "task_id"}
BATCH = 2000


def pending_tables(conn: Any) -> list[str]:
    """Legacy tables set aside and not yet copied."""
    with conn.cursor() as cur:
        cur.execute(query("auvo/legacy_pending_tables"), {"schema": LEGACY_SCHEMA})
        return [r[0] for r in cur.fetchall() if _LEGACY_NAME.match(r[0])]


def legacy_record(entity: str, row: dict[str, Any]) -> Any:
    """The API record an old row holds: its ``data``, or one rebuilt from its plain columns."""
    data = row.get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            data = None
    if isinstance(data, dict) and data:
        record = dict(data)
        # The stored record normally carries its id; the plain column fills in when it does not.
        plain_key = BUSINESS_KEY[entity]
        api_key = PLAIN_TO_API[entity][plain_key]
        if row.get(plain_key) is not None and all(
            record.get(k) in (None, "") for k in BY_NAME[entity].key.sources
        ):
            record[api_key] = row[plain_key]
        return record
    return {api: row[plain] for plain, api in PLAIN_TO_API[entity].items() if row.get(plain) is not None}


def adopt_legacy(conn: Any, run_id: str, dag_id: str, task_id: str, logger: Any) -> list[str]:
    """Copy each pending legacy table into its new table; returns one line per table."""
    lines = []
    for legacy_table in pending_tables(conn):
        entity = _LEGACY_NAME.match(legacy_table).group(1)  # type: ignore[union-attr]
        lines.append(_adopt_one(conn, BY_NAME[entity], legacy_table, run_id, dag_id, task_id))
        logger.info("%s", lines[-1])
    return lines


def _adopt_one(conn: Any, stream: Stream, legacy_table: str, run_id: str, dag_id: str, task_id: str) -> str:
    run = RunInfo(SOURCE, f"legacy_adoption.{stream.name}", None, run_id, dag_id, task_id)
    source = sql.Identifier(LEGACY_SCHEMA, legacy_table)
    with open_load(conn, run) as load:
        load.execute("auvo/legacy_claim")
        if load.query("auvo/legacy_adopted", {"legacy_table": legacy_table}):
            return f"{LEGACY_SCHEMA}.{legacy_table}: already adopted by a concurrent run"
        ((total,),) = load.query("auvo/legacy_row_count", legacy=source)
        order = _order_by(load, legacy_table)
        feed = Feed(load, table_of(stream))

        def row_of(old: dict[str, Any]) -> tuple[Any, ...]:
            return to_row(stream, legacy_record(stream.name, old))

        def note(exc: Rejected, old: Any) -> tuple[str, Any]:
            return f"legacy {legacy_table}: {exc.reason}", exc.raw

        for batch in _batches(load, source, order):
            feed.copy(feed.rows(batch, row_of, note))
        # Old rows fill gaps, never overwrite: a late adoption (a legacy table restored after
        # syncs have run) must not replace newer API data or revive soft-deleted rows.
        result = feed.merge(only_new=True)
        load.execute(
            "auvo/legacy_record_adoption",
            {
                "legacy_table": legacy_table,
                "target_table": f"auvo.{stream.table}",
                "rows_in_legacy": total,
                "keys_copied": result.inserted + result.updated,
                "rows_rejected": feed.rejected,
            },
        )
        summary = feed.finish()
    return (
        f"adopted {LEGACY_SCHEMA}.{legacy_table} into auvo.{stream.table}: {total:,} old rows, "
        f"{summary.rows_inserted + summary.rows_updated:,} business ids copied, "
        f"{summary.rows_rejected:,} rejected (kept in the legacy table)"
    )


def _order_by(load: Load, legacy_table: str) -> sql.Composable:
    """Oldest first, so the latest record of each business id is staged last and wins."""
    present = {
        r[0] for r in load.query("auvo/legacy_columns", {"schema": LEGACY_SCHEMA, "table": legacy_table})
    }
    keys = [
        sql.SQL("{} ASC NULLS FIRST").format(sql.Identifier(c)) for c in ("fetched_at", "id") if c in present
    ]
    return sql.SQL(", ").join(keys) if keys else sql.SQL("1")


def _batches(load: Load, source: sql.Composable, order: sql.Composable) -> Iterator[list[dict[str, Any]]]:
    # Read in key-ordered slices rather than holding a server-side cursor across COPYs.
    offset = 0
    while True:
        rows = load.query("auvo/legacy_batch", {"limit": BATCH, "offset": offset}, legacy=source, order=order)
        batch = [r[0] for r in rows]
        if not batch:
            return
        yield batch
        offset += len(batch)
