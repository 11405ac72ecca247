"""Parse cost of each DAG file (issue 11, point 6): cold import in a fresh interpreter, over airflow.sdk.

Each run is a new interpreter that imports ``airflow.sdk`` (the floor every DAG file pays,
timed) and then executes the DAG file as the dag-processor does (``plugins/`` on sys.path,
timed). The DAG file's extra cost is the second figure; the median of ``runs`` is printed
against the 150 ms target, in wall time and in the interpreter's CPU time (on a shared
machine the wall time also measures the neighbours; the CPU time is what the file itself
costs). One unmeasured run first writes the bytecode caches, as a dag-processor that has parsed
the file once has them.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.report import limit, machine_load

REPO = Path(__file__).resolve().parents[1]
TARGET_MS = 150.0
PROBE = """
import importlib.util, json, sys, time
sys.path.insert(0, sys.argv[2])
started, started_cpu = time.perf_counter(), time.process_time()
import airflow.sdk
sdk, sdk_cpu = time.perf_counter(), time.process_time()
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
done, done_cpu = time.perf_counter(), time.process_time()
print(json.dumps({"sdk_ms": (sdk - started) * 1000, "dag_ms": (done - sdk) * 1000,
                  "sdk_cpu_ms": (sdk_cpu - started_cpu) * 1000, "dag_cpu_ms": (done_cpu - sdk_cpu) * 1000}))
"""


def one_run(dag_file: Path, airflow_home: str) -> dict[str, float]:
    env = {**os.environ, "AIRFLOW_HOME": airflow_home, "PYTHONPATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(dag_file), str(REPO / "plugins")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(quick: bool = False) -> None:
    runs = 1 if quick else 9
    print(
        f"parse_cost{' (quick)' if quick else ''}: median of {runs} fresh interpreters per DAG file; "
        f"{machine_load()}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-parse-") as airflow_home:
        for dag_file in sorted((REPO / "dags").glob("*.py")):
            if not quick:
                one_run(dag_file, airflow_home)  # bytecode caches, first-run config files
            samples = [one_run(dag_file, airflow_home) for _ in range(runs)]
            median = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
            name = f"dags/{dag_file.name} over import airflow.sdk"
            limit(f"{name} ({median['sdk_ms']:.0f} ms)", median["dag_ms"], "ms", TARGET_MS)
            limit(f"{name}, CPU ({median['sdk_cpu_ms']:.0f} ms)", median["dag_cpu_ms"], "ms", TARGET_MS)
