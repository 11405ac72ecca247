"""The real Airflow deployment of ``AirflowStack`` with CeleryExecutor and named Celery workers.

Redis is the broker: the one at 127.0.0.1:6379 when it answers, else a private ``redis-server``
on a free port. The queue name is unique per stack, so workers of another stack (or another
test run) on the same Redis never take these tasks. The Celery result backend is the stack's own
metadata database.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tests.support.airflow_stack import AIRFLOW, AirflowStack, free_port

SHARED_REDIS = ("127.0.0.1", 6379)


def redis_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class PrivateRedis:
    """A throwaway ``redis-server`` (no persistence) on a free port, stopped by its PID."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="sync-apis-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not redis_answers("127.0.0.1", self.port):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("the private redis-server did not start")
            time.sleep(0.2)
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        shutil.rmtree(self.dir, ignore_errors=True)


class CeleryStack(AirflowStack):
    """api-server, scheduler, dag-processor and one Celery worker per name, each its own process."""

    def __init__(self, pg_server: Any, broker_url: str, workers: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(pg_server, **kwargs)
        self.broker_url = broker_url
        self.workers = workers
        self.queue = f"sync-apis-{uuid.uuid4().hex[:8]}"

    def env(self) -> dict[str, str]:
        env = super().env()
        assert self.meta is not None
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{self.meta.sqlalchemy()}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.distributed.hostname.worker_hostname",
            }
        )
        return env

    def start(self) -> CeleryStack:
        super().start()
        for name in self.workers:
            env = {**self.env(), "SYNC_APIS_WORKER_NAME": name}
            log = open(self.home / f"worker-{name}.log", "wb")  # noqa: SIM115 - closed with the process
            self.procs[f"worker-{name}"] = subprocess.Popen(
                [AIRFLOW, "celery", "worker", "--celery-hostname", f"{name}@%h", "--queues", self.queue,
                 "--concurrency", "4", "--skip-serve-logs"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        return self

    def log_files(self) -> dict[str, Path]:
        workers = {f"worker {name}": self.home / f"worker-{name}.log" for name in self.workers}
        return {**super().log_files(), **workers}

    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.procs.items()}


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
