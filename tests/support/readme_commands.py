"""Every `airflow` / `psql` command of both READMEs, pasted as written into a terminal next to a
running `make run` stack (the throwaway copy of tests/support/devstack.py: stand-in DAGs named like
ours, the real scripts and Makefile).

Commands are found, not listed: fenced lines and inline code that start with `make airflow`,
`make psql`, `make shell`, the `eval "$(… env)"` line, or a bare `airflow` / `psql` (typed inside
`make shell`, as the README says). A new README command is therefore run, and one that cannot be
run (an unknown placeholder, a bare mention not listed in MENTIONS) fails the test that runs them:
``tests/integration/test_devstack.py``, on the `make run` stack it starts anyway (a start costs a
minute of two cores).
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from tests.support.devstack import REPO, STAND_IN_DAG_IDS, get, local_day, without_ports

READMES = (REPO / "README.md", REPO / "README.pt-BR.md")
FENCE = re.compile(r"^\s*```")
ENV_LINE = 'eval "$(.venv/bin/python scripts/devstack.py env)"'
STARTS_A_COMMAND = re.compile(r"^(make (airflow|psql|shell)\b|airflow\s|psql\b|" + re.escape(ENV_LINE) + ")")
BARE = re.compile(r"^(airflow|psql)\b")
TRAILING_COMMENT = re.compile(r"\s+#\s.*$")
UNRUNNABLE = re.compile(r"<[A-Za-z_ -]+>|…")

# Inline code that names a command without asking anyone to type it.
MENTIONS = {
    "airflow dags backfill": "the Airflow 2 command, named as removed",
    "airflow backfill create": "names the command that replaced it",
    "airflow dags test": "what the test suite uses",
    "airflow dags test X 2025-03-10": "what Airflow does with a cron timetable",
    "airflow …": "the general form, where the README explains the forms",
    "psql": "the program's name",
    "make airflow": "the target's name",
}


@dataclass(frozen=True)
class Command:
    text: str  # what is typed at the terminal
    typed_inside: tuple[str, ...] = ()  # for `make shell`: the lines then typed into that shell

    @classmethod
    def of(cls, text: str) -> Command:
        # A bare `airflow …` is typed inside `make shell`.
        return cls("make shell", (text,)) if BARE.match(text) else cls(text)


def _block_commands(block: list[str]) -> list[Command]:
    lines = [TRAILING_COMMENT.sub("", line).strip() for line in block]
    lines = [line for line in lines if line and not line.startswith("#")]
    commands = []
    for i, line in enumerate(lines):
        if line.startswith("make shell"):
            commands.append(Command("make shell", tuple(lines[i + 1 :])))
            break
        if STARTS_A_COMMAND.match(line):
            commands.append(Command.of(line))
    return commands


def _span_commands(prose: list[str]) -> list[Command]:
    commands = []
    for span in re.findall(r"`([^`]+)`", "\n".join(prose)):  # a span may wrap onto the next line
        text = " ".join(span.split())
        if STARTS_A_COMMAND.match(text) and text not in MENTIONS:
            commands.append(Command.of(text))
    return commands


def readme_commands(path: Path) -> list[Command]:
    """In the order a reader meets them."""
    commands: list[Command] = []
    prose: list[str] = []
    block: list[str] | None = None
    for line in path.read_text().splitlines():
        if FENCE.match(line):
            if block is None:
                commands.extend(_span_commands(prose))
                prose, block = [], []
            else:
                commands.extend(_block_commands(block))
                block = None
        elif block is not None:
            block.append(line)
        else:
            prose.append(line)
    commands.extend(_span_commands(prose))
    return commands


def _substitutions(env: dict[str, str]) -> dict[str, str]:
    """Placeholders and the real APIs' addresses -> what the sandbox stack accepts."""
    return {
        "<apiKey>": "sandbox-api-key",
        "<apiToken>": "sandbox-api-token",
        "<password>": "readme-test-password",
        "<dag_id>": "etrac_daily",
        "https://api.auvo.com.br/v2": f"http://127.0.0.1:{env['SANDBOX_AUVO_PORT']}/v2",
        "https://api.etrac.com.br/monitoramento": f"http://127.0.0.1:{env['SANDBOX_ETRAC_PORT']}/monitoramento",
    }


def _substitute(text: str, subs: dict[str, str]) -> str:
    for placeholder, value in subs.items():
        text = text.replace(placeholder, value)
    return text


def _days_ago(expression: str) -> str:
    """The day `date -d '<expression>' +%F` gives, exactly as the README's commands compute it."""
    return subprocess.run(["date", "-d", expression, "+%F"], capture_output=True, text=True).stdout.strip()


def _wait_until_no_backfill_is_active(session: requests.Session, timeout_s: float) -> None:
    """The README's backfills are new ones; Airflow allows one active backfill per DAG."""
    deadline = time.monotonic() + timeout_s
    active: list[object] = []
    while time.monotonic() < deadline:
        active = [
            b
            for dag_id in STAND_IN_DAG_IDS
            for b in get(session, f"/api/v2/backfills?dag_id={dag_id}")["backfills"]
            if b["completed_at"] is None
        ]
        if not active:
            return
        time.sleep(2)
    raise AssertionError(f"first-run backfills still active after {timeout_s} s: {active}")


def _the_warehouse_schema(session: requests.Session) -> dict[str, object]:
    """What the real DAGs' first task creates (sync_meta, the reader role): the README's psql
    commands query it. The stand-in DAGs do not, so it is applied here with the project's code."""
    from sync_apis.warehouse import run_schema_files

    wh = get(session, "/api/v2/connections/sync_apis_db")
    conn_kwargs: dict[str, object] = {
        "host": wh["host"],
        "port": wh["port"],
        "user": wh["login"],
        "dbname": wh["schema"],
    }
    files = sorted(f"sync_meta/{p.name}" for p in (REPO / "include" / "sql" / "sync_meta").glob("*.sql"))
    with psycopg.connect(**conn_kwargs) as conn:  # type: ignore[arg-type]
        run_schema_files(conn, files)
    return conn_kwargs


def run_every_readme_command(root: Path, env: dict[str, str], session: requests.Session) -> None:
    """Each command of both READMEs typed into another terminal next to the running `make run` of
    ``root`` (``env`` is what that stack was started with), then what they say they do, checked."""
    _wait_until_no_backfill_is_active(session, timeout_s=180)
    warehouse = _the_warehouse_schema(session)

    subs = _substitutions(env)
    terminal = without_ports(env)  # another terminal: it was never told the ports
    seen: set[Command] = set()
    unrunnable: list[str] = []
    ran = 0
    for path in READMES:
        for command in readme_commands(path):
            if command in seen:
                continue
            seen.add(command)
            text = _substitute(command.text, subs)
            typed = tuple(_substitute(line, subs) for line in command.typed_inside)
            if UNRUNNABLE.search(" ".join((text, *typed))):
                unrunnable.append(f"{path.name}: {command}")
                continue
            stdin = "set -e\n" + "".join(f"{line}\n" for line in typed) if text == "make shell" else None
            result = subprocess.run(
                ["bash", "-c", text],
                cwd=root,
                env=terminal,
                input=stdin,
                stdin=None if stdin is not None else subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, (
                f"{path.name}: {command.text} {typed or ''} exited {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
            ran += 1
    assert unrunnable == [], f"README commands this test cannot run (add a substitution?): {unrunnable}"
    assert ran >= 12

    # The commands did what the README says they do.
    backfills = {
        dag_id: [
            (local_day(b["from_date"]).isoformat(), local_day(b["to_date"]).isoformat())
            for b in get(session, f"/api/v2/backfills?dag_id={dag_id}")["backfills"]
        ]
        for dag_id in ("etrac_daily", "auvo_daily")
    }
    assert (_days_ago("10 days ago"), _days_ago("8 days ago")) in backfills["etrac_daily"]
    assert (_days_ago("12 days ago"), _days_ago("4 days ago")) in backfills["auvo_daily"]
    for dag_id in STAND_IN_DAG_IDS:  # each paused, then unpaused
        assert get(session, f"/api/v2/dags/{dag_id}")["is_paused"] is False, dag_id
    # The first day's `dags test` ran alone on the paused DAG, loaded the day typed, and succeeded.
    tested = [
        (local_day(r["logical_date"]).isoformat(), r["state"])
        for r in get(session, "/api/v2/dags/auvo_daily/dagRuns?limit=100")["dag_runs"]
        if r["triggered_by"] == "test"
    ]
    assert tested == [(_days_ago("yesterday"), "success")]
    runs = get(session, "/api/v2/dags/etrac_daily/dagRuns?limit=100")["dag_runs"]
    triggered = [r for r in runs if r["run_type"] == "manual"]
    assert _days_ago("5 days ago") in {local_day(r["logical_date"]).isoformat() for r in triggered}
    auvo = get(session, "/api/v2/connections/auvo_api")
    assert (auvo["host"], auvo["login"], auvo["description"]) == (
        f"http://127.0.0.1:{env['SANDBOX_AUVO_PORT']}/v2",
        "sandbox-api-key",
        None,
    )
    with psycopg.connect(**warehouse) as conn:  # type: ignore[arg-type]
        member = conn.execute(
            "SELECT pg_has_role('browser', 'sync_apis_reader', 'MEMBER'), rolcanlogin "
            "FROM pg_roles WHERE rolname = 'browser'"
        ).fetchone()
    assert member == (True, True)
