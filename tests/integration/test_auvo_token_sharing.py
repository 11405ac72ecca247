"""One Auvo login per worker: the stream tasks of a run share a token (issue 11 point 4).

Against the Auvo sandbox over loopback HTTP: its request log counts the logins; the cache files
are read back to show what is (and is not) on disk.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from sync_apis.auvo.hook import AuvoHook
from sync_apis.auvo.token_cache import TokenCache, configured_cache
from sync_apis.http import HttpPolicy

DAY = date(2025, 3, 10)
API_KEY, API_TOKEN = "sandbox-api-key", "sandbox-api-token"


@pytest.fixture
def auvo_conn(auvo_sandbox, monkeypatch) -> str:
    conn = json.dumps(
        {"conn_type": "http", "host": auvo_sandbox.base_url + "/v2", "login": API_KEY, "password": API_TOKEN}
    )
    monkeypatch.setenv("AIRFLOW_CONN_AUVO_API", conn)
    return conn


def hook(cache: TokenCache | None) -> AuvoHook:
    return AuvoHook("auvo_api", policy=HttpPolicy(backoff_base=0.05, backoff_max=0.2), worker_cache=cache)


def logins(sandbox: Any) -> list[int]:
    return [e.status for e in sandbox.requests_to("/login")]


def test_the_tasks_of_a_worker_share_one_login(auvo_conn, auvo_sandbox, tmp_path):
    cache = TokenCache(tmp_path / "tokens")
    first, second, third = hook(cache), hook(cache), hook(cache)
    for h in (first, second, third):
        assert h.get("users/", {"paramFilter": "{}"}).status == 200
    assert logins(auvo_sandbox) == [200]
    assert (first.logins, second.logins, third.logins) == (1, 0, 0)
    # Every request after the one login carried the same, accepted token.
    assert [e.status for e in auvo_sandbox.requests_to("/users")] == [200, 200, 200]


def test_without_the_cache_every_hook_logs_in(auvo_conn, auvo_sandbox):
    for h in (hook(None), hook(None)):
        h.get("users/", {"paramFilter": "{}"})
    assert logins(auvo_sandbox) == [200, 200]


def test_a_token_that_failed_is_never_handed_back(auvo_conn, auvo_sandbox, tmp_path):
    cache = TokenCache(tmp_path / "tokens")
    first, second = hook(cache), hook(cache)
    first.get("users/", {"paramFilter": "{}"})
    auvo_sandbox.faults.arm("expire_token", times=1)
    # The second task meets a 401 with the shared token: it logs in again, once, and the new
    # token replaces the old one for everybody.
    assert second.get("teams/", {"paramFilter": "{}"}).status == 200
    assert second.logins == 1 and logins(auvo_sandbox) == [200, 200]
    third = hook(cache)
    assert third.get("teams/", {"paramFilter": "{}"}).status == 200
    assert third.logins == 0 and logins(auvo_sandbox) == [200, 200]
    assert [e.status for e in auvo_sandbox.requests_to("/teams")] == [401, 200, 200]


def test_a_token_about_to_expire_is_not_shared(auvo_conn, auvo_sandbox, tmp_path):
    now = [1_000_000.0]
    cache = TokenCache(tmp_path / "tokens", clock=lambda: now[0])
    hook(cache).get("users/", {"paramFilter": "{}"})
    now[0] += 1800 - 180 - 30  # the stored renewal point is 3 min before the 30-min expiry
    late = hook(cache)
    late.get("users/", {"paramFilter": "{}"})
    assert late.logins == 1 and logins(auvo_sandbox) == [200, 200]


def _one_task(directory: str, conn: str, barrier: Any) -> None:
    os.environ["AIRFLOW_CONN_AUVO_API"] = conn
    barrier.wait()
    hook(TokenCache(Path(directory))).get("users/", {"paramFilter": "{}"})


def test_tasks_starting_together_wait_for_one_login(auvo_conn, auvo_sandbox, tmp_path):
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(4)
    procs = [
        ctx.Process(target=_one_task, args=(str(tmp_path / "tokens"), auvo_conn, barrier)) for _ in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert logins(auvo_sandbox) == [200]
    assert [e.status for e in auvo_sandbox.requests_to("/users")] == [200] * 4


def test_the_cache_on_disk_reveals_no_secret(auvo_conn, auvo_sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__AUVO_TOKEN_CACHE", "True")
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__AUVO_TOKEN_CACHE_DIR", str(tmp_path / "tokens"))
    h = AuvoHook("auvo_api", policy=HttpPolicy())  # the configured cache, as in a task
    h.get("users/", {"paramFilter": "{}"})
    token = h._token
    assert token
    directory = tmp_path / "tokens"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = sorted(directory.iterdir())
    assert [f.suffix for f in files] == [".lock", ".token"]
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        assert API_KEY not in f.name and API_TOKEN not in f.name
        body = f.read_bytes()
        for secret in (token, API_KEY, API_TOKEN):
            assert secret.encode() not in body, f"{f.name} holds a secret in clear"
    # ...and the encrypted file is really the token: a hook of the same worker adopts it.
    again = AuvoHook("auvo_api", policy=HttpPolicy())
    again.get("users/", {"paramFilter": "{}"})
    assert again.logins == 0 and again._token == token


def test_a_cache_directory_others_can_read_is_refused(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    with pytest.raises(PermissionError, match="only this user can access"), TokenCache(loose).locked("k"):
        pass


def test_the_cache_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__AUVO_TOKEN_CACHE", "False")
    assert configured_cache() is None
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__AUVO_TOKEN_CACHE", "True")
    assert configured_cache() is not None


def test_a_daily_run_logs_in_once(
    airflow_db, auvo_sandbox, warehouse_url, connect_airflow, run_dag, monkeypatch, tmp_path
):
    """The whole auvo_daily run (schema, every stream task, checks) with the worker's cache on."""
    connect_airflow(warehouse=warehouse_url, auvo=auvo_sandbox)
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__AUVO_TOKEN_CACHE", "True")
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__AUVO_TOKEN_CACHE_DIR", str(tmp_path / "tokens"))
    fast = {
        "backoff_base_s": 0.05,
        "api_budget_per_minute": 4000,
        "task_days_back": 30,
        "task_days_ahead": 30,
    }
    dr = run_dag("auvo_daily", DAY, fast)
    assert str(dr.state) in ("success", "DagRunState.SUCCESS")
    streams = [ti for ti in dr.get_task_instances() if ti.task_id == "sync_stream"]
    assert len(streams) >= 10  # many stream tasks ...
    assert logins(auvo_sandbox) == [200]  # ... one login (it used to be one per stream task)
    dr = run_dag("auvo_daily", date(2025, 3, 11), fast)
    assert str(dr.state) in ("success", "DagRunState.SUCCESS")
    assert logins(auvo_sandbox) == [200]  # the next day's run on this worker reuses it too
