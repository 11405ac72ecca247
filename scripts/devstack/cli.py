"""Command dispatch: run | stop | status."""

from __future__ import annotations

import argparse
import json

from devstack import processes
from devstack.database import embedded_pid, stop_embedded
from devstack.errors import DevstackError
from devstack.layout import Layout
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
        print("not running")
        return 1
    for name, pid in alive.items():
        log = layout.pgdata / "log" if name == "postgres" else layout.log(name)
        print(f"  {name:<14} pid {pid:<8}" + (f" log {layout.show(log)}" if log.exists() else ""))
    if layout.stack_file.exists():
        print(f"  UI: {json.loads(layout.stack_file.read_text())['ui']}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="devstack", description="The local sync-apis stack (make run/stop)."
    )
    parser.add_argument("command", choices=["run", "stop", "status"])
    args = parser.parse_args(argv)
    layout = Layout.from_env()
    try:
        if args.command == "run":
            return run(layout, settings_from_env())
        if args.command == "stop":
            return stop(layout)
        return status(layout)
    except DevstackError as exc:
        print(f"ERROR: {exc}")
        return 1
