"""Four processes, one Auvo account: the shared budget holds, from the sandbox's own request log.

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
from pathlib import Path
from typing import Any

import pytest
import redis

from sandbox.core import Clock
from sync_apis.ratelimit import SAFETY, credential_key
from tests.conftest import SANDBOX_NOW, connection_env, small_auvo_config

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("SYNC_APIS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BUDGET = 120  # per minute: small, so the test sees the budget's edge in well under a minute
PROCESSES = 4
RUN_S = 40.0

HAMMER = """
import sys, time
from sync_apis.auvo import sync
start, stop = float(sys.argv[1]), float(sys.argv[2])
hook = sync.make_hook("auvo_api", budget_per_minute=400, backoff_base_s=1.0, max_attempts=8)
hook.client
time.sleep(max(0.0, start - time.time()))
sent = 0
while time.time() < stop:
    hook.get("users")
    sent += 1
print(sent)
"""


@pytest.fixture
def limited_auvo() -> Iterator[Any]:
    from sandbox.auvo import AuvoConfig, make_server

    config = small_auvo_config(AuvoConfig)
    config.rate_limit_per_minute = BUDGET
    server = make_server(config, clock=Clock(SANDBOX_NOW))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_four_processes_share_one_budget(limited_auvo: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(connection_env(auvo=limited_auvo))
    env.update(
        {
            "AIRFLOW__SYNC_APIS__RATE_LIMIT_REDIS_URL": REDIS_URL,
            "AIRFLOW__SYNC_APIS__AUVO_BUDGET_PER_MINUTE": str(BUDGET),
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")]),
        }
    )
    # The sandbox's port makes the host, hence the account key, new for this test.
    key = credential_key("auvo", f"{limited_auvo.base_url}/v2\x00sandbox-api-key")
    store = redis.Redis.from_url(REDIS_URL)
    store.delete(key)
    start = time.time() + 15  # every process imported Airflow and logged in before the clock starts
    stop = start + RUN_S
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HAMMER, str(start), str(stop)],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        outputs = [proc.communicate(timeout=RUN_S + 120) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        used_shared_bucket = bool(store.exists(key))
        store.delete(key)
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
    assert used_shared_bucket, "the processes did not use the shared bucket"
    sent = [int(out.split()[-1]) for out, _ in outputs]

    seen = [e for e in limited_auvo.log if "/users" in e.path.lower()]
    times = sorted(e.at for e in seen)
    assert all(e.status == 200 for e in seen), sorted({e.status for e in seen})  # no 403: never over
    assert len(seen) == sum(sent)
    assert all(n > 0 for n in sent), sent  # every process got its share, none starved

    # Under the budget: in any window of w seconds at most w x budget/60 plus the small burst
    # (the bucket's capacity); the whole run is shorter than a minute, so also <= BUDGET in total.
    burst = max(1, int(BUDGET * SAFETY // 20))
    for width in (10.0, 20.0, 30.0, RUN_S):
        most = max(sum(1 for t in times if first <= t < first + width) for first in times)
        assert most <= width * BUDGET / 60 + burst, (width, most)
    assert len(times) <= BUDGET

    # ... and using it: >= 85 % of the budget over the run.
    span = stop - start
    assert len(times) >= 0.85 * BUDGET * span / 60, (len(times), span, sent)
