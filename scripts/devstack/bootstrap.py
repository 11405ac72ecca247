"""First run only: unpause the sandbox-wired DAGs and backfill the last three local days, so a
newcomer sees runs and data within minutes. One marker per DAG under .local/bootstrapped/, so a DAG
file added later still gets its bootstrap on the next `make run`."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from devstack.database import PgServer
from devstack.layout import Layout

LOCAL_TZ = ZoneInfo("America/Sao_Paulo")
DAG_CONNECTIONS = {"auvo_daily": "auvo_api", "etrac_daily": "etrac_api"}
BACKFILL_DAYS = 3


def backfill_window(today: date, days: int = BACKFILL_DAYS) -> tuple[date, date]:
    """(first, last) local day to load: yesterday and the days before it; today is not over yet."""
    return today - timedelta(days=days), today - timedelta(days=1)


def local_today() -> date:
    return datetime.now(LOCAL_TZ).date()


def parsed_dags(server: PgServer, metadata_db: str, dag_ids: list[str]) -> set[str]:
    """DAGs the dag-processor has serialized into the metadata DB (what backfill needs)."""
    import psycopg

    query = "SELECT d.dag_id FROM dag d JOIN serialized_dag s ON s.dag_id = d.dag_id WHERE d.dag_id = ANY(%s)"
    with psycopg.connect(**server.psycopg_kwargs(metadata_db), connect_timeout=10) as conn:
        rows = conn.execute(query, (dag_ids,)).fetchall()
    return {row[0] for row in rows}


def run_bootstrap(
    layout: Layout,
    env: dict[str, str],
    server: PgServer,
    metadata_db: str,
    sandbox_wired: set[str],
    timeout_s: float,
    say: Callable[[str], None],
) -> None:
    pending = []
    for dag_id, conn_id in DAG_CONNECTIONS.items():
        if (layout.bootstrap_dir / dag_id).exists():
            continue
        if conn_id not in sandbox_wired:
            say(f"{dag_id}: not unpaused/backfilled automatically ({conn_id} is your own connection)")
            continue
        if not (layout.dags / f"{dag_id}.py").exists():
            say(f"{dag_id}: skipped first-run backfill, dags/{dag_id}.py does not exist yet")
            continue
        pending.append(dag_id)
    if not pending:
        return

    say(f"waiting for the dag-processor to parse {', '.join(pending)} (up to {timeout_s:.0f} s) ...")
    deadline = time.monotonic() + timeout_s
    found: set[str] = set()
    while time.monotonic() < deadline:
        found = parsed_dags(server, metadata_db, pending)
        if found == set(pending):
            break
        time.sleep(2)
    for dag_id in sorted(set(pending) - found):
        say(
            f"{dag_id}: not parsed after {timeout_s:.0f} s - skipped first-run backfill. Look at "
            f"{layout.show(layout.log('dag-processor'))} or run "
            '`make airflow ARGS="dags list-import-errors"`.'
        )

    first, last = backfill_window(local_today())
    log_path = layout.log("bootstrap")
    for dag_id in sorted(found):
        commands = [
            [str(layout.airflow), "dags", "unpause", dag_id],
            [
                str(layout.airflow), "backfill", "create", "--dag-id", dag_id,
                "--from-date", first.isoformat(), "--to-date", last.isoformat(),
            ],
        ]  # fmt: skip
        with log_path.open("a") as log:
            ok = all(
                subprocess.run(cmd, env=env, cwd=layout.repo, stdout=log, stderr=subprocess.STDOUT).returncode
                == 0
                for cmd in commands
            )
        if ok:
            (layout.bootstrap_dir / dag_id).write_text(f"{first}..{last}\n")
            say(f"{dag_id}: unpaused, backfill {first} .. {last} created")
        else:
            say(
                f"{dag_id}: unpause/backfill failed - see {layout.show(log_path)} "
                "(retried on the next make run)"
            )
