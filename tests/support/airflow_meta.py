"""Airflow metadata databases for the suite: migrated once per test run, copied for each use.

``airflow db migrate`` costs several seconds of CPU; ``CREATE DATABASE … TEMPLATE`` a fraction of
one. Every pytest-xdist worker needs a metadata database for its ``dag.test()`` runs (the
``airflow_db`` fixture) and one per Airflow stack it starts, so the first worker to ask migrates
a template under a PostgreSQL advisory lock and the others wait for it and copy it. It is built
under another name and renamed when complete, so a copy is never taken from a half-migrated one.
The controller drops it when the run ends (``drop_template``).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import psycopg
from psycopg import sql

from tests.support.pg import PgUrl, create_database, drop_database

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = (
    str(REPO / ".venv" / "bin" / "airflow") if (REPO / ".venv" / "bin" / "airflow").exists() else "airflow"
)
RUN_ENV = "PYTEST_XDIST_TESTRUNUID"  # the same in every worker of one run (set by pytest-xdist)


def deployment_environ(*also_dropped: str) -> dict[str, str]:
    """This process's environment for an Airflow process the suite starts, without pytest's
    variables (and any of ``also_dropped``, prefixes): Airflow behaves differently under them
    (``PYTEST_VERSION`` turns off its logger cache, ``PYTEST_CURRENT_TEST`` raises logging-setup
    errors it otherwise ignores), and the processes must behave as in a deployment."""
    dropped = ("PYTEST_", *also_dropped)
    return {k: v for k, v in os.environ.items() if not k.startswith(dropped)}


def template_name(run: str) -> str:
    return f"sync_apis_test_airflow_{run}"[:63]  # PostgreSQL's identifier limit


def this_run() -> str:
    """The test run this process belongs to: xdist's run id, or this process without xdist."""
    return os.environ.get(RUN_ENV) or f"pid{os.getpid()}"


def migrated_template(server: PgUrl) -> PgUrl:
    """The run's migrated metadata database, migrated by whichever process asks first."""
    name = template_name(this_run())
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (name,))
        try:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                building = create_database(server, "sync_apis_test_airflow_building")
                try:
                    migrate(building)
                except BaseException:
                    drop_database(server, building)
                    raise
                conn.execute(
                    sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                        sql.Identifier(building.dbname), sql.Identifier(name)
                    )
                )
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))
    return server.with_db(name)


def migrate(db: PgUrl, environ: Mapping[str, str] | None = None) -> None:
    """``airflow db migrate`` of ``db`` in ``environ``, by default the suite's environment
    (``tests.support.airflow_env``)."""
    env = dict(deployment_environ() if environ is None else environ)
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = db.sqlalchemy()
    result = subprocess.run(
        [AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"airflow db migrate exited {result.returncode}\n{result.stderr[-3000:]}")


def drop_template(server: PgUrl, run: str) -> None:
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(template_name(run)))
        )
