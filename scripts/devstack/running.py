"""The running stack seen from another terminal: `make shell`, `make airflow`, `make psql` and
`devstack.py env` rebuild the exact environment the stack's processes run with.

`make run` records what is only known at run time (ports, the PostgreSQL server it found or started,
the AIRFLOW* variables of the shell it was started from) in .local/stack.json, written private (the
user's own AIRFLOW_CONN_* values and a SYNC_APIS_DB_URL password may be in it) and deleted on stop.
Secrets come from .local/secrets.json, as for the stack itself, and the environment is built by the
same function (airflow_env.airflow_environment), so the two cannot drift apart.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from devstack import processes
from devstack.airflow_env import airflow_environment
from devstack.database import PgServer, postgres_bin_dir
from devstack.errors import DevstackError
from devstack.layout import Layout
from devstack.settings import Settings
from devstack.state import ADMIN_USER, load_or_create_secrets, write_private

# What a stack's processes inherit from the shell `make run` was started in, and so what another
# shell's values must not override: Airflow's own variables (AIRFLOW__*, AIRFLOW_CONN_*, AIRFLOW_VAR_*).
INHERITED_PREFIX = "AIRFLOW"


def inherited(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(INHERITED_PREFIX)}


@dataclass(frozen=True)
class RunningStack:
    settings: Settings
    server: PgServer
    inherited_env: dict[str, str]

    @property
    def ui(self) -> str:
        return self.settings.ui_url


def record_running(layout: Layout, stack: RunningStack) -> None:
    data = {
        "ui": stack.ui,
        "user": ADMIN_USER,
        "settings": asdict(stack.settings),
        "server": asdict(stack.server),
        "inherited_env": stack.inherited_env,
    }
    write_private(layout.stack_file, json.dumps(data, indent=2) + "\n")


def recorded_ui(layout: Layout) -> str | None:
    try:
        return str(json.loads(layout.stack_file.read_text())["ui"])
    except (OSError, ValueError, KeyError):
        return None


def load_running(layout: Layout) -> RunningStack:
    """The stack `make run` is running now, or a DevstackError saying why there is none."""
    if "devstack" not in processes.recorded(layout):
        raise DevstackError(
            f"no `make run` stack is running (nothing alive recorded in {layout.show(layout.pids)}). "
            "Start it with `make run` in another terminal, wait for the UI address, then try again."
        )
    try:
        data = json.loads(layout.stack_file.read_text())
        return RunningStack(
            settings=Settings(**data["settings"]),
            server=PgServer(**data["server"]),
            inherited_env=dict(data["inherited_env"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DevstackError(
            "`make run` is still starting (or was started by an older version of this script): "
            "try again once it prints the UI address."
        ) from exc


def cli_environment(layout: Layout, stack: RunningStack, current: Mapping[str, str]) -> dict[str, str]:
    """``current`` (this shell) with its Airflow variables replaced by the stack's, the venv's
    `airflow` and a `psql` first on PATH, and PG* variables that take `psql` to the warehouse."""
    base = {k: v for k, v in current.items() if not k.startswith(INHERITED_PREFIX)}
    base.update(stack.inherited_env)
    secrets = load_or_create_secrets(layout.secrets_file)
    env = airflow_environment(base, layout, stack.settings, stack.server, secrets)
    path = [str(layout.airflow.parent), str(postgres_bin_dir())]
    env["PATH"] = os.pathsep.join([*path, current.get("PATH", os.defpath)])
    env.update(warehouse_pg_env(stack.server, stack.settings.warehouse_db))
    return env


def warehouse_pg_env(server: PgServer, dbname: str) -> dict[str, str]:
    """libpq's variables: `psql` with no arguments opens the warehouse."""
    env = {"PGHOST": server.host, "PGPORT": str(server.port), "PGUSER": server.user, "PGDATABASE": dbname}
    if server.password:
        env["PGPASSWORD"] = server.password
    return env


def changed_variables(env: Mapping[str, str], current: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """(variables to export, variables to unset) that turn ``current`` into ``env``."""
    exports = {k: v for k, v in env.items() if current.get(k) != v}
    unsets = sorted(k for k in current if k not in env)
    return exports, unsets


def shell_rc(layout: Layout) -> Path:
    """An rc file for `make shell`: the user's ~/.bashrc, then our PATH (a bashrc may reset it)
    and a prompt that says where the shell points. It holds no secret: those stay in the env."""
    rc = layout.local / "shell.bashrc"
    rc.write_text(
        "# written by scripts/devstack.py shell\n"
        "[ -f ~/.bashrc ] && . ~/.bashrc\n"
        'export PATH="$SYNC_APIS_SHELL_PATH"\n'
        'PS1="(sync-apis stack) $PS1"\n'
    )
    return rc
