"""The Auvo hook and the load loop against the sandbox under faults, with a real PostgreSQL.

These call the library directly (no scheduler) so each fault is aimed at one stream.
"""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

import psycopg
import pytest

from sync_apis.auvo import sync
from sync_apis.auvo.hook import AuvoHook
from sync_apis.http import ApiError, HttpPolicy, TokenBucket
from sync_apis.sql_files import sql_files
from sync_apis.warehouse import RunInfo, run_schema_files
from tests.support.column_types import AUVO_TYPES

DAY = date(2025, 3, 10)


@pytest.fixture
def hook_for(auvo_sandbox, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_AUVO_API",
        json.dumps(
            {
                "conn_type": "http",
                "host": auvo_sandbox.base_url + "/v2",
                "login": "sandbox-api-key",
                "password": "sandbox-api-token",
            }
        ),
    )

    def make(**kw: Any) -> AuvoHook:
        policy = HttpPolicy(backoff_base=0.05, backoff_max=0.2, max_attempts=kw.pop("max_attempts", 3))
        return AuvoHook("auvo_api", policy=policy, **kw)

    return make


@pytest.fixture
def wh(warehouse_url):
    with psycopg.connect(warehouse_url.url, autocommit=True) as conn:
        run_schema_files(conn, sql_files("sync_meta") + sql_files("auvo"))
        yield conn


def load(conn, hook, stream: str, run_id: str = "r1") -> sync.StreamResult:
    run = RunInfo("auvo", stream, DAY, run_id, "auvo_daily", "sync_stream")
    return sync.sync_stream(conn, hook, stream, sync.window_for(DAY, 10), run)


def test_login_is_a_post_body_and_the_token_is_reused(hook_for, auvo_sandbox):
    hook = hook_for()
    for _ in range(3):
        assert hook.get("users/", {"paramFilter": "{}"}).status == 200
    logins = auvo_sandbox.requests_to("/login")
    assert [(e.method, e.path) for e in logins] == [("POST", "/v2/login")]
    assert hook.logins == 1
    assert hook.client.session.auth is None  # no Basic auth with the apiKey/apiToken riding along


def test_an_expired_token_is_renewed_once_and_the_request_repeated(hook_for, auvo_sandbox):
    hook = hook_for()
    hook.get("users/", {"paramFilter": "{}"})
    auvo_sandbox.faults.arm("expire_token", times=1)
    assert hook.get("teams/", {"paramFilter": "{}"}).status == 200
    assert hook.logins == 2
    assert [e.status for e in auvo_sandbox.requests_to("/teams")] == [401, 200]


def test_the_token_is_refreshed_before_its_expiration(hook_for, auvo_sandbox):
    now = [0.0]
    hook = hook_for(clock=lambda: now[0])
    hook.get("users/", {"paramFilter": "{}"})
    now[0] = 1800 - 200  # still well before the margin
    hook.get("users/", {"paramFilter": "{}"})
    assert hook.logins == 1
    now[0] = 1800 - 60  # inside the refresh margin (3 min before the 30-min expiry)
    hook.get("users/", {"paramFilter": "{}"})
    assert hook.logins == 2
    assert not [e for e in auvo_sandbox.log if e.status == 401]


def test_rate_limit_403_waits_and_recovers(hook_for, auvo_sandbox):
    hook = hook_for(max_attempts=5)
    auvo_sandbox.faults.arm("rate_limit", times=3, path="/v2/users")
    assert hook.get("users/", {"paramFilter": "{}"}).status == 200
    statuses = [e.status for e in auvo_sandbox.requests_to("/v2/users")]
    assert statuses == [403, 403, 403, 200]
    assert hook.stats.retries == 3


def test_other_4xx_fail_fast_with_status_endpoint_and_message(hook_for, auvo_sandbox):
    hook = hook_for()
    with pytest.raises(ApiError) as err:
        hook.get("tasks/", {"paramFilter": "{}"})  # tasks without startDate/endDate: 400
    assert err.value.status == 400 and err.value.endpoint == "/tasks/"
    assert "startDate" in err.value.api_message
    assert "sandbox-api-token" not in str(err.value)
    assert len(auvo_sandbox.requests_to("/v2/tasks")) == 1  # not retried


def test_pacing_spaces_requests_under_the_budget(hook_for, auvo_sandbox):
    auvo_sandbox.config.rate_limit_per_minute = 12
    hook = hook_for(pacer=TokenBucket(120, burst=1))  # 2 per second
    started = time.monotonic()
    for _ in range(10):  # 10 + 1 login = 11 requests, under 12/min: never a 403
        hook.get("users/", {"paramFilter": "{}"})
    elapsed = time.monotonic() - started
    assert elapsed >= 4.5
    assert hook.stats.paced_s >= 4.0
    assert not [e for e in auvo_sandbox.log if e.status in (403, 429)]


def test_per_task_rate_keeps_parallel_tasks_under_the_api_budget():
    assert sync.per_task_rate(400) * sync.STREAM_PARALLELISM <= 400 * 0.9 + 1e-9


def test_a_repeated_page_is_asked_again_not_counted_twice(hook_for, auvo_sandbox):
    hook = hook_for()
    auvo_sandbox.faults.arm("duplicate_page", times=1)
    listing = hook.listing("customers/", {}, page_size=10)
    ids = [r["id"] for page in listing.pages() for r in page]
    assert len(ids) == len(set(ids)) == len(auvo_sandbox.world.customers())
    assert listing.complete


def test_a_listing_cut_short_never_marks_deletions(hook_for, auvo_sandbox, wh):
    hook = hook_for(max_attempts=2)
    load(wh, hook, "users")
    before = wh.execute("SELECT count(*) FROM auvo.users WHERE deleted_at IS NULL").fetchone()[0]
    gone = auvo_sandbox.world.snapshot("users")[0]["userID"]
    auvo_sandbox.world.remove_entity("users", gone)

    auvo_sandbox.faults.arm("status", status=503, times=10, path="/v2/users")  # longer than the retries
    with pytest.raises(ApiError):
        load(wh, hook, "users", "r2")
    auvo_sandbox.faults.clear()
    auvo_sandbox.faults.arm("truncate", times=10, path="/v2/users")  # every answer cut in half
    with pytest.raises(ApiError):
        load(wh, hook, "users", "r3")
    auvo_sandbox.faults.clear()
    assert wh.execute("SELECT count(*) FROM auvo.users WHERE deleted_at IS NULL").fetchone()[0] == before
    failed = wh.execute("SELECT count(*) FROM sync_meta.sync_runs WHERE status = 'failed'").fetchone()[0]
    assert failed == 2

    load(wh, hook, "users", "r4")  # a complete listing decides the deletion
    assert wh.execute("SELECT deleted_at IS NOT NULL FROM auvo.users WHERE user_id = %s", (gone,)).fetchone()[
        0
    ]
    assert wh.execute("SELECT count(*) FROM auvo.users WHERE deleted_at IS NULL").fetchone()[0] == before - 1


def test_a_404_on_page_one_is_not_an_empty_account(hook_for, auvo_sandbox, wh):
    hook = hook_for()
    load(wh, hook, "teams")
    auvo_sandbox.faults.arm("status", status=404, times=1, path="/v2/teams")  # a gateway's 404
    result = load(wh, hook, "teams", "r2")
    assert not result.complete
    assert wh.execute("SELECT count(*) FROM auvo.teams WHERE deleted_at IS NOT NULL").fetchone()[0] == 0


def test_records_without_a_key_are_rejected_and_counted(hook_for, auvo_sandbox, wh):
    hook = hook_for()
    auvo_sandbox.world.add_entity("keywords", {"id": 0, "description": "sem id"})
    result = load(wh, hook, "keywords")
    s = result.summary
    assert s.rows_rejected == 1
    assert s.rows_received == s.rows_inserted + s.rows_rejected
    reason, raw = wh.execute("SELECT reason, raw FROM sync_meta.rejected_records").fetchone()
    assert "unusable key" in reason and raw["description"] == "sem id"


KILL_SCRIPT = """
import logging, sys
from datetime import date
import psycopg
from sync_apis.auvo import sync
from sync_apis.auvo.hook import DEFAULT_POLICY
from sync_apis.dag_tasks import http_policy
from sync_apis.warehouse import RunInfo
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s", force=True)
conn = psycopg.connect(sys.argv[1], autocommit=True)
policy = http_policy({"params": {"backoff_base_s": 0.05, "max_attempts": 2}}, DEFAULT_POLICY)
hook = sync.make_hook("auvo_api", budget_per_minute=4000, policy=policy)
run = RunInfo("auvo", "tasks", date(2025, 3, 10), "killed", "auvo_daily", "sync_stream")
sync.sync_stream(conn, hook, "tasks", sync.window_for(date(2025, 3, 10), 10), run)
print("FINISHED", flush=True)
"""


def test_a_kill_mid_load_leaves_nothing_and_a_rerun_converges(hook_for, auvo_sandbox, wh, warehouse_url):
    import os
    import signal
    import subprocess
    import sys

    from tests.support.airflow_env import REPO

    # The deletions listing (the last of three) hangs: the kill lands after rows were staged.
    auvo_sandbox.faults.arm("slow", delay=30, times=1, path="getdeletedtasks")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")])}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, warehouse_url.url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if "auvo.tasks updated since" in line and "done" in line:
            break
    else:
        pytest.fail("the child never got past the updates listing:\n" + "".join(seen[-20:]))
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    auvo_sandbox.faults.clear()

    assert wh.execute("SELECT count(*) FROM auvo.tasks").fetchone()[0] == 0
    assert wh.execute("SELECT count(*) FROM sync_meta.sync_runs WHERE status = 'success'").fetchone()[0] == 0

    hook = hook_for()
    load(wh, hook, "tasks", "rerun")
    digest = "SELECT md5(string_agg(t::text, '|' ORDER BY task_id)) FROM auvo.tasks t"
    after_rerun = wh.execute(digest).fetchone()[0]
    load(wh, hook, "tasks", "again")
    assert wh.execute(digest).fetchone()[0] == after_rerun
    live = {
        r[0]
        for r in wh.execute(
            "SELECT task_id FROM auvo.tasks WHERE deleted_at IS NULL AND task_date >= '2025-03-10 00:00-03' "
            "AND task_date < '2025-03-11 00:00-03'"
        ).fetchall()
    }
    assert live == {t["taskID"] for t in auvo_sandbox.world.tasks_for_day(DAY)}


def test_schema_matches_the_stream_table_and_reapplies_cleanly(wh):
    from sync_apis.auvo.streams import STREAMS

    run_schema_files(wh, sql_files("auvo"))  # a second application changes nothing and fails on nothing
    for s in STREAMS:
        got = wh.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'auvo' AND table_name = %s ORDER BY ordinal_position",
            (s.name,),
        ).fetchall()
        want = [(c.name, AUVO_TYPES[c.kind]) for c in (s.key, *s.columns)]
        want += [
            ("raw", "jsonb"),
            ("synced_at", "timestamp with time zone"),
            ("deleted_at", "timestamp with time zone"),
        ]
        assert got == want, s.name
