"""Command dispatch: run | stop | status, and the ways into the running stack while it runs:
env | shell | airflow | psql."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from collections.abc import Mapping

from devstack import processes
from devstack.database import embedded_pid, postgres_bin_dir, stop_embedded
from devstack.errors import DevstackError
from devstack.layout import Layout
from devstack.running import changed_variables, cli_environment, load_running, recorded_ui, shell_rc
from devstack.settings import settings_from_env
from devstack.stack import SUPERVISOR, run


def stop(layout: Layout) -> int:
    alive = processes.recorded(layout)
    supervisor = alive.pop(SUPERVISOR, None)
    alive.pop("postgres", None)  # stopped below by its data directory, the reliable handle
    if supervisor is not None:
        # The supervisor stops its own children cleanly (it handles SIGTERM like Ctrl+C).
        print(f"stopping the running `make run` (pid {supervisor}) ...")
        processes.stop_all({SUPERVISOR: supervisor}, timeout_s=60, groups=False)
        alive = {name: pid for name, pid in processes.recorded(layout).items() if name != "postgres"}
    if alive:
        print(f"stopping {', '.join(f'{n} (pid {p})' for n, p in alive.items())} ...")
        killed = processes.stop_all(alive)
        if killed:
            print(f"had to kill {', '.join(killed)}")
    for name in alive:
        layout.pid(name).unlink(missing_ok=True)
    if stop_embedded(layout.pgdata):
        print("embedded PostgreSQL stopped (data kept in " + layout.show(layout.pgdata) + ")")
    layout.pid("postgres").unlink(missing_ok=True)
    layout.stack_file.unlink(missing_ok=True)
    if supervisor is None and not alive:
        print("nothing else was running")
    return 0


def status(layout: Layout) -> int:
    alive = processes.recorded(layout)
    pg = embedded_pid(layout.pgdata)
    if pg is not None:
        alive["postgres"] = pg
    if not alive:
        # A question answered, not a failure: `make status` must not end in "make: *** Error 1".
        print("not running")
        return 0
    for name, pid in alive.items():
        log = layout.pgdata / "log" if name == "postgres" else layout.log(name)
        print(f"  {name:<14} pid {pid:<8}" + (f" log {layout.show(log)}" if log.exists() else ""))
    ui = recorded_ui(layout)
    if ui:
        print(f"  UI: {ui}")
    return 0


def print_env(layout: Layout, current: Mapping[str, str]) -> int:
    """`export` lines for `eval "$(... env)"`. They contain the Fernet key and other secrets: they
    go to stdout, for the user's own shell, and nowhere else."""
    env = cli_environment(layout, load_running(layout), current)
    exports, unsets = changed_variables(env, current)
    print('# the running sync-apis stack; use: eval "$(.venv/bin/python scripts/devstack.py env)"')
    for name in unsets:
        print(f"unset {name}")
    for name, value in sorted(exports.items()):
        print(f"export {name}={shlex.quote(value)}")
    return 0


def exec_in_stack(layout: Layout, program: str, args: list[str]) -> int:
    """Replace this process with ``program`` (airflow | psql | bash) in the stack's environment."""
    stack = load_running(layout)
    env = cli_environment(layout, stack, os.environ)
    if program == "airflow":
        argv = [str(layout.airflow), *args]
    elif program == "psql":
        argv = [str(postgres_bin_dir() / "psql"), *args]
    else:
        bash = shutil.which("bash")
        if bash is None:
            raise DevstackError('`make shell` needs bash; use `eval "$(scripts/devstack.py env)"` instead')
        env["SYNC_APIS_SHELL_PATH"] = env["PATH"]
        argv = [bash, "--rcfile", str(shell_rc(layout)), "-i", *args]
        print(
            f"A shell wired to the stack at {stack.ui}: `airflow …` reaches it, `psql` opens the "
            f"warehouse {stack.settings.warehouse_db}. `exit` leaves it.",
            file=sys.stderr,
            flush=True,
        )
    os.execve(argv[0], argv, env)  # noqa: S606 - argv[0] is our venv's airflow, the bundled psql or bash
    return 0  # not reached


INTO_THE_STACK = ("env", "shell", "airflow", "psql")


def main(argv: list[str]) -> int:
    layout = Layout.from_env()
    if argv and argv[0] in INTO_THE_STACK:
        # Everything after the command belongs to airflow / psql / bash, `--help` included.
        try:
            if argv[0] == "env":
                return print_env(layout, os.environ)
            return exec_in_stack(layout, argv[0], argv[1:])
        except DevstackError as exc:
            print(f"ERROR: {exc}", file=sys.stderr)
            return 1
    parser = argparse.ArgumentParser(
        prog="devstack",
        description="The local sync-apis stack (make run/stop/status), and the ways into it: "
        "env (export lines for eval), shell, airflow ARGS..., psql ARGS...",
    )
    parser.add_argument("command", choices=["run", "stop", "status", *INTO_THE_STACK])
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return run(layout, settings_from_env())
        if args.command == "stop":
            return stop(layout)
        return status(layout)
    except DevstackError as exc:
        print(f"ERROR: {exc}")
        return 1
