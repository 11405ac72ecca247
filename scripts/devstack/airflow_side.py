"""Runs *inside* the Airflow environment (a subprocess with AIRFLOW_HOME etc. set) to read and write
connections in the metadata DB in one process instead of one slow `airflow connections` call each.

    python airflow_side.py describe ID [ID...]   -> {"ID": "description or null", ...} for existing ids
    python airflow_side.py apply < '{"upsert": {"ID": {conn_type, host, ...}}, "delete": {"ID": "descr"}}'
        (stdin: passwords stay out of `ps`; a connection is deleted only while it has that description)

Standalone on purpose: it must not import the devstack package (different sys.path).
"""

from __future__ import annotations

import json
import sys


def describe(conn_ids: list[str]) -> dict[str, str | None]:
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(Connection.conn_id, Connection.description).filter(
            Connection.conn_id.in_(conn_ids)
        )
        return dict(rows.all())


# The pool that throttles e-Track API tasks across all runs (etrac_daily reads its name from
# [sync_apis] etrac_pool, which the stack sets). Created once; slots a user changed are kept.
API_POOLS = {"etrac_api": (2, "e-Track API calls of sync-apis (history tasks across all runs)")}


def apply(upsert: dict[str, dict[str, object]], delete: dict[str, str]) -> None:
    from airflow.models.connection import Connection
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    with create_session() as session:
        for conn_id, description in delete.items():
            # Matching the description too: a connection the user has since edited is theirs.
            session.query(Connection).filter(
                Connection.conn_id == conn_id, Connection.description == description
            ).delete()
        for conn_id, spec in upsert.items():
            session.query(Connection).filter(Connection.conn_id == conn_id).delete()
            session.add(Connection(conn_id=conn_id, **spec))  # type: ignore[arg-type]
        for name, (slots, description) in API_POOLS.items():
            if session.query(Pool).filter(Pool.pool == name).first() is None:
                session.add(Pool(pool=name, slots=slots, description=description, include_deferred=False))


def main(argv: list[str]) -> int:
    command, args = argv[0], argv[1:]
    if command == "describe":
        print(json.dumps(describe(args)))
    elif command == "apply":
        changes = json.loads(sys.stdin.read())
        apply(changes.get("upsert", {}), changes.get("delete", {}))
    else:
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
