"""The Auvo sandbox in its own process, and a private Redis, for the Auvo backfill benchmark.

A separate process, not a thread of the measuring one: the fake API generates every answer,
and its CPU must not share an interpreter lock with the code being measured (as
bench/etrac_sandbox.py). Its live config and request log are reached over HTTP
(``/_sandbox/auvo/config``, ``/_sandbox/log``). The request log is the referee: every request
the API answered, with its status, whoever sent it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from bench.sandbox_process import sandbox_process
from tests.support.airflow_stack import free_port
from tests.support.connections import auvo_conn_json

RATE_LIMITED = (403, 429)  # Auvo's rate-limit answer, and the status some clients report (§6.1)


@dataclass(frozen=True)
class AuvoSandbox:
    base_url: str  # http://127.0.0.1:PORT (the API is under /v2)

    def conn_json(self) -> str:
        return auvo_conn_json(self.base_url)

    def configure(self, **changes: Any) -> None:
        """Set AuvoConfig fields on the running server (e.g. its rate limit, its switches)."""
        answer = requests.post(f"{self.base_url}/_sandbox/auvo/config", json=changes, timeout=30)
        answer.raise_for_status()

    def log(self) -> list[dict[str, Any]]:
        """Every request answered so far: method, path (no query), status, fault, at (wall clock)."""
        answer = requests.get(f"{self.base_url}/_sandbox/log", timeout=60)
        answer.raise_for_status()
        return [e for e in answer.json() if str(e["path"]).lower().startswith("/v2")]


@contextmanager
def auvo_sandbox(now: str, *options: str) -> Iterator[AuvoSandbox]:
    """``python -m sandbox`` serving Auvo only, clock pinned at ``now``; ``options``: ``KEY=VALUE``."""
    args = ["--no-etrac", "--auvo-port", "0", "--now", now]
    for option in options:
        args += ["--auvo-option", option]
    with sandbox_process(args, r"(http://\S+)/v2", "Auvo") as base_url:
        yield AuvoSandbox(base_url)


@contextmanager
def private_redis() -> Iterator[str | None]:
    """A throwaway ``redis-server`` on a free port (no persistence): its URL, or None when the
    machine has none. Private, so another session's keys and load never touch the budget."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        import redis

        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {port}") from None
                time.sleep(0.1)
        client.close()
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
