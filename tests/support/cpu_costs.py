"""Where the suite's CPU goes, per test: an opt-in pytest plugin and its report.

    make test PYTEST_ARGS="-p tests.support.cpu_costs"
    .venv/bin/python -m tests.support.cpu_costs            # the 30 costliest tests

The suite is CPU-bound on two cores (wall time follows CPU time), and wall time per test hides
which tests cost it: a test waiting on a stack it started shows as long, but so does one that
waited for a free core. Each test's CPU is its worker's own (the in-process sandboxes, dag.test())
plus that of every process it started and waited for — Airflow services, their task processes,
CLI calls, `make run` — as the kernel adds a reaped child's time to its parent. PostgreSQL's own
work is not in it (a server of its own), nor that of a process left running past the test.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

OUT = Path(__file__).resolve().parents[2] / "test-artifacts" / "cpu"


def _cpu() -> tuple[float, float]:
    """(this process's CPU seconds, its reaped descendants')."""
    t = os.times()
    return t.user + t.system, t.children_user + t.children_system


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, None]:
    own, children = _cpu()
    started = time.monotonic()
    yield
    own_after, children_after = _cpu()
    record = {
        "test": item.nodeid,
        "wall_s": round(time.monotonic() - started, 2),
        "own_cpu_s": round(own_after - own, 2),
        "children_cpu_s": round(children_after - children, 2),
    }
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / f"{worker}.jsonl").open("a") as out:
        out.write(json.dumps(record) + "\n")


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # the controller (or a run without xdist)
        for old in OUT.glob("*.jsonl"):
            old.unlink()


def report(top: int = 30) -> str:
    lines = [line for path in sorted(OUT.glob("*.jsonl")) for line in path.read_text().splitlines()]
    rows = [json.loads(line) for line in lines]
    if not rows:
        return f"no records in {OUT}: run the suite with -p tests.support.cpu_costs first"
    for row in rows:
        row["cpu_s"] = row["own_cpu_s"] + row["children_cpu_s"]
    rows.sort(key=lambda r: -r["cpu_s"])
    total = sum(r["cpu_s"] for r in rows)
    table = [f"{len(rows)} tests, {total:.0f} s of CPU (PostgreSQL's not included); the costliest {top}:"]
    table.append(f"{'CPU s':>7} {'share':>6} {'own':>6} {'children':>8} {'wall s':>7}  test")
    for r in rows[:top]:
        table.append(
            f"{r['cpu_s']:7.1f} {r['cpu_s'] / total:6.1%} {r['own_cpu_s']:6.1f} {r['children_cpu_s']:8.1f} "
            f"{r['wall_s']:7.1f}  {r['test']}"
        )
    return "\n".join(table)


if __name__ == "__main__":
    print(report(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
