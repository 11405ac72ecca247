"""Every benchmark's quick mode runs once, so the benchmarks cannot rot (issue 11, point 7).

Tiny sizes, real parts (sandbox processes, PostgreSQL, fresh interpreters); no timing is
asserted — only that each table has its rows and every ratio is a positive, finite number.
dlt and py-spy live in the bench venv (.local/bench-venv, `python -m bench --setup`, which
`make test` runs first); the tests need it, so that the peer and the profile are exercised too.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import peer_venv

REPO = Path(__file__).resolve().parents[2]
NUMBER = r"([0-9][0-9,]*(?:\.[0-9]+)?)"


@pytest.fixture(scope="module", autouse=True)
def bench_venv() -> None:
    assert peer_venv.STAMP.exists(), (
        "no bench venv (dlt, py-spy): run `python -m bench --setup` (make test does)"
    )


def run_quick(name: str, timeout: float = 240) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_FANOUT_")}
    env["BENCH_NO_INSTALL"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "bench", name, "--quick"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def value(output: str, label: str, unit: str = "") -> float:
    """The number printed after ``label`` (then ``unit``) on its line; it must be positive and finite."""
    found = re.search(rf"^\s*{re.escape(label)}.*?\s{NUMBER}\s*{re.escape(unit)}", output, re.MULTILINE)
    assert found, f"no line {label!r} with a number in:\n{output}"
    number = float(found.group(1).replace(",", ""))
    assert math.isfinite(number) and number > 0, (label, number)
    return number


def verdict_of(output: str, label: str) -> str:
    line = next((line for line in output.splitlines() if line.strip().startswith(label)), None)
    assert line is not None, f"no line {label!r} in:\n{output}"
    found = re.search(r"target (?:>=|<) [0-9.]+ ?(?:x|ms|MB|%)\s+(met|NOT MET)$", line)
    assert found, line
    return found.group(1)


def test_etrac_day_quick_prints_every_figure_and_ratio() -> None:
    out = run_quick("etrac_day")
    day = re.search(r"the day: ([0-9,]+) positions, ([0-9,]+) trips", out)
    assert day and int(day.group(1).replace(",", "")) > 1000, out
    for label in ("ours: real task code, unpaced", "ours, paced", "(a) source ceiling"):
        value(out, label, "positions/s")
    assert value(out, "(b) COPY ceiling", "rows/s") > 0
    value(out, "COPY into a temp table + one merge", "rows/s")
    value(out, "(c) old way: INSERT + commit per row", "positions/s")
    value(out, "(d) dlt 1.", "positions/s")
    for label in ("ours / source ceiling", "ours / old way", "ours / dlt"):
        value(out, label, "x")
        assert verdict_of(out, label) in ("met", "NOT MET")
    value(out, "ours / COPY ceiling", "x")
    rss = re.findall(
        r"^\s+[0-9,]+ vehicles, (normal|dense) day \([0-9,]+ positions\)\s+([0-9.]+) MB", out, re.M
    )
    assert sorted(kind for kind, _ in rss) == ["dense", "dense", "normal", "normal"], out
    assert all(float(mb) > 0 for _, mb in rss)
    value(out, "whole day in one process", "MB")


def test_parse_cost_quick_measures_every_dag_file() -> None:
    out = run_quick("parse_cost")
    for dag_file in sorted((REPO / "dags").glob("*.py")):
        for label in (
            f"dags/{dag_file.name} over import airflow.sdk (",
            f"dags/{dag_file.name} over import airflow.sdk, CPU",
        ):
            value(out, label, "ms")
            assert verdict_of(out, label) in ("met", "NOT MET")


def test_profile_quick_attributes_samples_to_our_frames() -> None:
    out = run_quick("profile")
    assert value(out, "samples inside load_history:") > 0
    inclusive = out.split("inclusive time", 1)[1]
    rows = re.findall(r"^\| `(.+?)` \| (\d+)% \| (\d+) \|$", inclusive, re.MULTILINE)
    assert rows, out
    assert any("sync_apis" in name or "sync.py" in name for name, _, _ in rows), rows


def test_fanout_quick_runs_the_dag_under_a_scheduler_and_loads_the_day() -> None:
    # Two fresh Airflow stacks (api-server, scheduler, dag-processor) and two DAG runs: minutes.
    out = run_quick("fanout", timeout=600)
    truth = re.search(r"the day: ([0-9,]+) positions \(sandbox ground truth\)", out)
    assert truth, out
    positions = int(truth.group(1).replace(",", ""))
    assert positions > 1000, out
    loaded = re.findall(r"loaded the day asked for: ([0-9,]+) positions = ground truth", out)
    assert [int(n.replace(",", "")) for n in loaded] == [positions, positions], out
    # 20 vehicles in chunks of 5: four mapped history tasks, never more running than allowed.
    runs = re.findall(
        r"-- chunk 5, parallelism (\d): (\d+) history tasks, at most (\d+) running at once", out
    )
    assert [(int(p), int(n)) for p, n, _ in runs] == [(1, 4), (2, 4)], out
    assert all(1 <= int(most) <= int(p) for p, _, most in runs), runs
    for par in (1, 2):
        label = f"chunk 5, parallelism {par}"
        value(out, f"DAG run wall time ({label})", "s")
        value(out, f"history phase wall time ({label})", "s")
        value(out, f"share of history slots inside load_history ({label})", "x")
        assert value(out, f"peak RSS, largest history task ({label})", "MB") > 20
        assert verdict_of(out, f"peak RSS, largest history task ({label})") in ("met", "NOT MET")
    value(out, "speed-up vs parallelism 1, history phase (chunk 5, parallelism 2)", "x")
    overhead = re.findall(
        r"per history task \(mean\): ([0-9.]+) s in the task process, of which ([0-9.]+) s in load_history "
        r"and (-?[0-9.]+) s around it",
        out,
    )
    assert len(overhead) == 2, out
    for task_s, work_s, around_s in overhead:
        assert 0 < float(work_s) < float(task_s), overhead
        assert math.isclose(float(task_s), float(work_s) + float(around_s), abs_tol=0.02), overhead


def test_loader_and_browser_quick_still_run() -> None:
    loader = run_quick("loader")
    value(loader, "sync_apis COPY + merge, new day", "rows/s")
    assert re.search(r"sync_apis vs legacy: [0-9.,]+x faster", loader), loader
    browser = run_quick("browser")
    value(browser, "vehicle day")


def test_values_quick_compares_every_reader_with_the_old_way() -> None:
    out = run_quick("values")
    sections = re.findall(r"^ (.+) \(([0-9,]+) inputs, same results\):$", out, re.MULTILINE)
    assert len(sections) == 6, out
    assert any(name.startswith("e-Track timestamps DD/MM/YYYY") for name, _ in sections), out
    for label in ("old (strptime/regex reference)", "sync_apis.values"):
        value(out, label)
    assert len(re.findall(r"^\s+values / old\s", out, re.MULTILINE)) == 6, out
    value(out, "values / old", "x")
    assert verdict_of(out, "values / old") in ("met", "NOT MET")


def test_auvo_backfill_quick_prints_every_figure_against_its_baseline() -> None:
    out = run_quick("auvo_backfill")
    paced = ["after, per-process pacer"]
    if "no redis-server on this machine" not in out:
        paced.insert(0, "after, shared budget")
    for run in paced:
        requests = value(out, f"requests total ({run})", "requests")
        records = value(out, f"records synced ({run})", "records")
        assert math.isclose(
            value(out, f"requests per record ({run})", "requests/record"), requests / records, rel_tol=0.01
        )
        value(out, f"requests / lower bound ({run})", "x")
        for label in (f"budget share used ({run})", f"wall time / lower bound ({run})"):
            value(out, label)
            assert verdict_of(out, label) in ("met", "NOT MET")
        # Counted from the sandbox's log, not timed: the quick budget is far above what 3 days need.
        assert re.search(
            rf"rate-limit errors, 403/429 \({re.escape(run)}\)\s+0 answers\s+target = 0\s+met", out
        ), out
    assert value(out, "requests total (before)", "requests") > value(
        out, f"requests total ({paced[0]})", "requests"
    )
    assert "WARNING: records differ" not in out, out  # all three backfills synced the same rows
    days = re.findall(
        r"^\s+(\d+)\s+(\d{4}-\d\d-\d\d)\s+([\d,]+)\s+([\d,]+)\s+\|\s+([\d,]+)\s+([\d,]+)$", out, re.M
    )
    assert [int(age) for age, *_ in days] == [1, 2, 3], out
    assert all(int(n.replace(",", "")) > 0 for row in days for n in row[2:]), days
    assert "growth per day of age, with the upper bound" in out and "growth per day of age, without it" in out
    every_day = value(out, "snapshot requests, before (every day lists all 13)", "requests")
    assert 0 < value(out, "snapshot requests, once per backfill", "requests") < every_day
    for label in ("before: no upper bound", "default now: no upper bound", "with the upper bound honoured"):
        value(out, label, "requests")
    value(out, "before / with the upper bound and reuse", "x")
