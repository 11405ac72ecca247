"""The suite's Airflow environment, prepared when this module is first imported.

Airflow reads its configuration when first imported, so ``tests/conftest.py`` imports this module
at its top, before pytest imports any test module (and with it Airflow). Here rather than in the
conftest so that test modules can read the same values (``AIRFLOW_HOME``, ``load_dagbag``)
without importing a conftest; importing it again only returns the same module.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.support.pg import server_url

REPO = Path(__file__).resolve().parents[2]

PG_SERVER = server_url()
META_DB = PG_SERVER.with_db(f"sync_apis_test_meta_{os.getpid()}")
"""The session's Airflow metadata database (created and migrated by the ``airflow_db`` fixture)."""
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="sync-apis-airflow-"))
atexit.register(shutil.rmtree, AIRFLOW_HOME, ignore_errors=True)  # logs of dag.test() runs only

AIRFLOW_ENV = {
    "AIRFLOW_HOME": str(AIRFLOW_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": META_DB.sqlalchemy(),
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR": "True",
    # Tests never trigger the scheduler's own clock-based runs.
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    # The sandboxes' clocks are pinned at SANDBOX_NOW (2025), the wall clock is not: e-Track's
    # retention (90 days before *now*) would refuse every test day. Tests of the refusal set it.
    "AIRFLOW__SYNC_APIS__ETRAC_RETENTION_DAYS": "0",
    # Each test starts its own Auvo sandbox, often on a port an earlier one used: a token shared
    # across tests would meet a server that never issued it. test_auvo_token_sharing.py turns the
    # worker's token cache on with a directory of its own.
    "AIRFLOW__SYNC_APIS__AUVO_TOKEN_CACHE": "False",
}
os.environ.update(AIRFLOW_ENV)
# [core] default_timezone stays unset (Airflow's default, UTC), as in most deployments: the
# bundle must load the right days without it. test_timetable_in_airflow.py tries other zones.
os.environ.pop("AIRFLOW__CORE__DEFAULT_TIMEZONE", None)
# Compiled bytecode is cached, as Python does by default (__pycache__/ is git-ignored), even where
# the machine sets PYTHONDONTWRITEBYTECODE (this machine image does). Without the cache every
# process the suite starts compiles our sources again — each Airflow task compiled the DAG file and
# the modules it imports, 5 % of a stack's CPU (py-spy over the Auvo three-day backfill test).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False
for _name in ("AIRFLOW_CONN_AUVO_API", "AIRFLOW_CONN_ETRAC_API", "AIRFLOW_CONN_SYNC_APIS_DB"):
    os.environ.pop(_name, None)  # a developer's real credentials must never reach a test


def load_dagbag() -> Any:
    """The repository's DAGs, parsed afresh by Airflow's own DagBag."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))
