"""Task bodies every sync-apis DAG shares, and the conventions of all task adapters.

An adapter (``sync_apis.<source>.dag_tasks``) takes the task's Airflow ``context`` first, then
the task's own argument if it is mapped (a stream, a chunk of plates): it reads the run's day
and Params from the context, opens the warehouse connection and calls the library with
explicit arguments. DAG files call adapters only; library modules never import one.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def param(context: Any, name: str, default: Any) -> Any:
    """The run's Param ``name``; ``default`` when it is absent or null."""
    value = (context.get("params") or {}).get(name, default)
    return default if value is None else value


def apply_schema(context: Any, folder: str, logger: Any = log) -> str:
    """Apply the idempotent files of ``include/sql/<folder>``, each in its own transaction."""
    from sync_apis.sql_files import sql_files
    from sync_apis.warehouse import run_schema_files
    from sync_apis.warehouse_conn import warehouse_connection

    conn = warehouse_connection()
    try:
        conn.autocommit = True
        applied = run_schema_files(conn, sql_files(folder))
    finally:
        conn.close()
    line = f"{folder}: applied {len(applied)} schema files ({', '.join(applied)})"
    logger.info("%s", line)
    return line
