"""Where one history chunk's time goes (issue 11, point 1: "profile first").

Runs one history task of the current code (``plates`` plates of the dense day, unpaced, in a
fresh process) under py-spy (bench venv) with ``--idle``, so time blocked on the socket or the
database counts too, and prints markdown tables of the samples inside ``load_history``:
self time by function (where the CPU or the wait actually is) and inclusive time by function.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

from bench import peer_venv
from bench.etrac_day import DAY, fleet_plates, fresh_warehouse, worker
from bench.etrac_sandbox import etrac_sandbox
from bench.report import machine_load
from bench.server import bench_server
from tests.support.pg import drop_database

REPO = Path(__file__).resolve().parents[1]
ENTRY = "load_history"
LINE = re.compile(r" \(([^:()]+)(?::\d+)?\)$")  # "function (path/file.py:123)" -> without the line


def frame_name(frame: str) -> str:
    """``parse_datetime (sync_apis/etrac/parse.py:88)`` -> ``parse_datetime (sync_apis/etrac/parse.py)``."""
    return LINE.sub(lambda m: f" ({_short(m.group(1))})", frame)


def _short(path: str) -> str:
    for marker in ("site-packages/", "plugins/", "lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def summarise(raw: str, top: int) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """(samples in ENTRY, top self frames, top inclusive frames) from py-spy's raw format."""
    leaf: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = [frame_name(f) for f in stack.split(";")]
        entry = next((i for i, f in enumerate(frames) if f.startswith(ENTRY + " ")), None)
        if entry is None or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        leaf[frames[-1]] += count
        for name in set(frames[entry + 1 :]):
            inclusive[name] += count
    return total, leaf.most_common(top), inclusive.most_common(top)


def table(title: str, rows: list[tuple[str, int]], total: int) -> str:
    lines = [f"| {title} | share | samples |", "|---|---:|---:|"]
    lines += [f"| `{name}` | {count / total:.0%} | {count} |" for name, count in rows]
    return "\n".join(lines)


def record(py_spy: Path, rate: int, args: dict[str, Any], env: dict[str, str], out: Path) -> str:
    """py-spy's raw stacks of one ``ours`` worker run with ``args``."""
    command = [str(py_spy), "record", "--idle", "--format", "raw", "--rate", str(rate), "-o", str(out), "--"]
    command += [sys.executable, "-m", "bench.etrac_workers", "ours", json.dumps(args)]
    subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True, text=True)
    return out.read_text()


def main(quick: bool = False) -> None:
    # The DAG's default chunk (10 plates); "warm": the chunk after PRELOAD other plates' day,
    # ANALYZEd, as in a warehouse that already has data (the first chunk into an empty one
    # meets a fresh table's planner estimates).
    chunk, preload, vehicles, rate, top = (2, 2, 4, 100, 8) if quick else (10, 30, 1000, 250, 25)
    server = bench_server()
    if peer_venv.python() is None:
        print(f"profile: SKIPPED, {peer_venv.absent_reason()}", flush=True)
        return
    py_spy = peer_venv.tool("py-spy")
    print(
        f"profile{' (quick)' if quick else ''}: one history task ({chunk} plates of the dense day {DAY}, "
        f"unpaced), py-spy --idle at {rate} Hz; {machine_load()}",
        flush=True,
    )
    cases = {
        "empty warehouse (the first chunk of a first backfill)": 0,
        f"warm: after {preload} other plates' day, ANALYZEd": preload,
    }
    with etrac_sandbox(vehicles) as sandbox, tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        plates = fleet_plates(sandbox, preload + chunk)
        env = {**os.environ, "AIRFLOW_CONN_ETRAC_API": sandbox.conn_json(), "AIRFLOW_HOME": tmp}
        for title, before in cases.items():
            db = fresh_warehouse(server)
            try:
                args: dict[str, Any] = {"db_url": db.url, "day": DAY.isoformat(), "chunk_size": chunk,
                                        "requests_per_minute": None, "max_chunks": None}  # fmt: skip
                if before:
                    worker("ours", sandbox, **args, plates=plates[:before])
                    with psycopg.connect(db.url, autocommit=True) as conn:
                        conn.execute("ANALYZE")
                raw = record(py_spy, rate, {**args, "plates": plates[preload:]}, env, Path(tmp) / "raw.txt")
            finally:
                drop_database(server, db)
            total, self_rows, inclusive_rows = summarise(raw, top)
            if not total:
                raise RuntimeError(f"py-spy recorded no sample inside {ENTRY}")
            print(f"\n#### {title}\n\nsamples inside {ENTRY}: {total} ({total / rate:.1f} s)\n")
            print(table("self time (leaf frame)", self_rows, total))
            print()
            print(table(f"inclusive time (frames under {ENTRY})", inclusive_rows, total), flush=True)
