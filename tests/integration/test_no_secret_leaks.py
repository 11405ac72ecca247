"""Credentials and run-time tokens never reach logs, XCom, rendered templates or the warehouse.

Both DAGs run for one day through the real CLI (`airflow dags test`) against the sandboxes; then
every place a secret could land is searched for the e-Track e-mail and key, the Auvo apiKey and
apiToken, and every bearer token the Auvo sandbox issued during the run.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.support.airflow_env import AIRFLOW_HOME, REPO
from tests.support.auvo_world import FAST

AIRFLOW = str(REPO / ".venv" / "bin" / "airflow")
CREDENTIALS = ["sandbox-api-key", "sandbox-api-token", "sandbox@example.com", "1234567890123"]


def warehouse_text(url: str) -> str:
    """Every row of every table in the warehouse, as text."""
    chunks = []
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, name in tables:
            rows = conn.execute(
                sql.SQL("SELECT t::text FROM {} AS t").format(sql.Identifier(schema, name))
            ).fetchall()
            chunks.extend(r[0] for r in rows)
    return "\n".join(chunks)


def metadata_text(url: str) -> str:
    """XCom values and rendered template fields of every task instance."""
    with psycopg.connect(url) as conn:
        xcom = conn.execute("SELECT coalesce(value::text, '') FROM xcom").fetchall()
        rendered = conn.execute("SELECT rendered_fields::text FROM rendered_task_instance_fields").fetchall()
    return "\n".join(r[0] for r in xcom + rendered)


@pytest.mark.slow
def test_no_secret_in_logs_xcom_rendered_fields_or_warehouse(
    airflow_db, warehouse_url, auvo_sandbox, etrac_sandbox, connect_airflow
) -> None:
    env = {**os.environ, **connect_airflow(warehouse=warehouse_url, auvo=auvo_sandbox, etrac=etrac_sandbox)}
    outputs = []
    # Auvo with FAST's budget and task range: the default pacing would only add ~80 s of waiting
    # (the secrets travel the same code either way, and the Params land in rendered fields too).
    confs = {"etrac_daily": {}, "auvo_daily": FAST}
    for dag_id, conf in confs.items():
        result = subprocess.run(
            [AIRFLOW, "dags", "test", dag_id, "2025-03-10", "--conf", json.dumps(conf)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        outputs.append(result.stdout + result.stderr)
        assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]

    tokens = auvo_sandbox.tokens.issued()
    assert tokens, "the Auvo sync never logged in: the test would prove nothing"
    secrets = CREDENTIALS + tokens

    logs = "\n".join(outputs) + "\n".join(
        p.read_text(errors="replace") for p in Path(AIRFLOW_HOME).rglob("*.log")
    )
    places = {
        "task logs": logs,
        "XCom / rendered templates": metadata_text(airflow_db.url),
        "warehouse": warehouse_text(warehouse_url.url),
    }
    with psycopg.connect(warehouse_url.url) as conn:
        loaded = conn.execute(
            "SELECT (SELECT count(*) FROM e_track.positions), (SELECT count(*) FROM auvo.tasks)"
        ).fetchone()
    assert loaded is not None and min(loaded) > 0, f"nothing was loaded, the search proves nothing: {loaded}"
    for where, text in places.items():
        leaked = [s[:12] + "…" for s in secrets if s in text]
        assert not leaked, f"secrets found in {where}: {leaked}"
