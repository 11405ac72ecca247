"""Four processes, one Auvo account: the shared budget holds, from the sandbox's own request log.

And a rate-limit answer seen by one of them (a 403, auvo-api.md §6.1) stops all of them for the
backoff it chose, not only the one that got it.

Each process builds its hook exactly as the DAG does (``sync.make_hook``), so what is tested is
the wiring from ``[sync_apis]`` configuration through ``ratelimit.pacer_for`` to Redis. The
sandbox enforces the same budget per client address (403 on overrun, auvo-api.md §6.1) and logs
every request with its time: a process pacing itself alone would show as 403s and as more
requests in a window than the budget allows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis

from sync_apis.ratelimit import SAFETY, credential_key
from tests.support.airflow_meta import deployment_environ
from tests.support.connections import connection_env
from tests.support.sandboxes import small_auvo_server

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("SYNC_APIS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BUDGET = 120  # per minute: small, so the test sees the budget's edge in well under a minute
PROCESSES = 4
RUN_S = 24.0  # long enough for 10 s and 20 s windows; the budget's edge shows in seconds

HAMMER = """
import sys, time
from sync_apis.auvo import sync
from sync_apis.auvo.hook import DEFAULT_POLICY
from sync_apis.dag_tasks import http_policy
policy = http_policy({"params": {"backoff_base_s": float(sys.argv[1]), "max_attempts": 8}}, DEFAULT_POLICY)
hook = sync.make_hook("auvo_api", budget_per_minute=400, policy=policy)
hook.client
print("ready", flush=True)
start, stop = map(float, sys.stdin.readline().split())
time.sleep(max(0.0, start - time.time()))
sent = 0
while time.time() < stop:
    hook.get("users")
    sent += 1
print(sent)
"""


@contextmanager
def auvo_server(rate_limit_per_minute: int | None) -> Iterator[Any]:
    """The small Auvo world with its own per-client budget (None = unlimited)."""
    with small_auvo_server(rate_limit_per_minute=rate_limit_per_minute) as server:
        yield server


@pytest.fixture
def limited_auvo() -> Iterator[Any]:
    with auvo_server(BUDGET) as server:
        yield server


@pytest.fixture
def unlimited_auvo() -> Iterator[Any]:
    with auvo_server(None) as server:
        yield server


def hammer(server: Any, budget: int, run_s: float, backoff_base_s: float = 1.0) -> tuple[list[int], bool]:
    """Run PROCESSES hammering processes on one shared budget of ``budget``/min for ``run_s``.

    Returns the requests each one sent and whether the shared bucket existed in Redis at the end.
    """
    env = deployment_environ()
    env.update(connection_env(auvo=server))
    env.update(
        {
            "AIRFLOW__SYNC_APIS__RATE_LIMIT_REDIS_URL": REDIS_URL,
            "AIRFLOW__SYNC_APIS__AUVO_BUDGET_PER_MINUTE": str(budget),
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")]),
        }
    )
    # The sandbox's port makes the host, hence the account key, new for this test.
    key = credential_key("auvo", f"{server.base_url}/v2\x00sandbox-api-key")
    store = redis.Redis.from_url(REDIS_URL)
    store.delete(key)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HAMMER, str(backoff_base_s)],
            env=env,
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        # The clock starts once every process has imported Airflow (slow on a busy machine).
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", proc.communicate(timeout=30)[1][-3000:]
        start = time.time() + 1.0
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{start} {start + run_s}\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=run_s + 120) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        used_shared_bucket = bool(store.exists(key))
        store.delete(key)
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
    return [int(out.split()[-1]) for out, _ in outputs], used_shared_bucket


def test_four_processes_share_one_budget(limited_auvo: Any) -> None:
    sent, used_shared_bucket = hammer(limited_auvo, BUDGET, RUN_S)
    assert used_shared_bucket, "the processes did not use the shared bucket"

    seen = [e for e in limited_auvo.log if "/users" in e.path.lower()]
    times = sorted(e.at for e in seen)
    assert all(e.status == 200 for e in seen), sorted({e.status for e in seen})  # no 403: never over
    assert len(seen) == sum(sent)
    assert all(n > 0 for n in sent), sent  # every process got its share, none starved

    # Under the budget: in any window of w seconds at most w x budget/60 plus the small burst
    # (the bucket's capacity); the whole run is shorter than a minute, so also <= BUDGET in total.
    burst = max(1, int(BUDGET * SAFETY // 20))
    for width in (5.0, 10.0, 20.0, RUN_S):
        most = max(sum(1 for t in times if first <= t < first + width) for first in times)
        assert most <= width * BUDGET / 60 + burst, (width, most)
    assert len(times) <= BUDGET

    # ... and using it: >= 85 % of the budget over the run.
    assert len(times) >= 0.85 * BUDGET * RUN_S / 60, (len(times), sent)


PENALTY_BACKOFF_S = 8.0  # no Retry-After from Auvo: the client waits uniform [4, 8] s on a 403


def test_a_403_seen_by_one_process_stops_them_all(unlimited_auvo: Any) -> None:
    """One 403 mid-run: no process sends anything for the backoff its receiver chose.

    The budget (600/min) is far from the sandbox's own limit, so the only 403 is the armed fault;
    without the shared penalty the three other processes would go on at ~9 requests/s.
    """
    unlimited_auvo.faults.arm("rate_limit", path="/users", skip=60, times=1)
    sent, used_shared_bucket = hammer(unlimited_auvo, 600, 14.0, backoff_base_s=PENALTY_BACKOFF_S)
    assert used_shared_bucket, "the processes did not use the shared bucket"

    seen = sorted((e for e in unlimited_auvo.log if "/users" in e.path.lower()), key=lambda e: e.at)
    limited = [e for e in seen if e.status != 200]
    assert [(e.status, e.fault) for e in limited] == [(403, "rate_limit")]
    hit = limited[0].at
    # A request already past its token when the 403 arrived may still land a moment later.
    quiet_from, quiet_to = hit + 0.5, hit + PENALTY_BACKOFF_S / 2
    during = [e.at - hit for e in seen if quiet_from <= e.at < quiet_to]
    assert during == [], during
    before = [e for e in seen if hit - 2.0 <= e.at < hit]
    assert len(before) >= 10, len(before)  # the processes were really sending when it came
    assert any(e.at >= quiet_to for e in seen), "nobody resumed after the penalty"
    assert len(seen) == sum(sent) + 1  # every request accounted for: the 403 was retried
