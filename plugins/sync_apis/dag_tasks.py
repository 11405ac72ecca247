"""Task bodies every sync-apis DAG shares, and the conventions of all task adapters.

An adapter (``sync_apis.<source>.dag_tasks``) takes the task's Airflow ``context`` first, then
the task's own argument if it is mapped (a stream, a chunk of plates): it reads the run's day
and Params from the context, opens the warehouse connection and calls the library with
explicit arguments. DAG files call adapters only; library modules never import one.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sync_apis.http import HttpPolicy

log = logging.getLogger(__name__)


def param(context: Any, name: str, default: Any) -> Any:
    """The run's Param ``name``; ``default`` when it is absent or null."""
    value = (context.get("params") or {}).get(name, default)
    return default if value is None else value


def http_policy(context: Any, default: HttpPolicy) -> HttpPolicy:
    """``default`` (an API's policy) with the run's retry Params (``dag_defaults.retry_params``)."""
    return replace(
        default,
        backoff_base=float(param(context, "backoff_base_s", default.backoff_base)),
        max_attempts=int(param(context, "max_attempts", default.max_attempts)),
        read_timeout=float(param(context, "read_timeout_s", default.read_timeout)),
    )


def apply_schema(context: Any, folder: str, logger: Any = log) -> str:
    """Apply the idempotent files of ``include/sql/<folder>``, each in its own transaction."""
    from sync_apis.sql_files import sql_files
    from sync_apis.warehouse import run_schema_files
    from sync_apis.warehouse_conn import warehouse_connection

    conn = warehouse_connection()
    try:
        applied = run_schema_files(conn, sql_files(folder))
    finally:
        conn.close()
    line = f"{folder}: applied {len(applied)} schema files ({', '.join(applied)})"
    logger.info("%s", line)
    return line
