"""The e-Track sandbox in its own process, as the benchmarks' "API".

A separate process, not a thread of the measuring one: the fake API's own CPU (it generates
and encodes every answer) must not share an interpreter lock with the code being measured.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from bench.sandbox_process import sandbox_process

NOW = "2025-03-13T12:00:00"  # São Paulo local time: DAY is complete and within retention
DAY = date(2025, 3, 12)
SEED = 21
LOGIN, API_KEY = "sandbox@example.com", "1234567890123"
# The "dense day": a fix every 10-15 s while driving, 2-4 min parked (~1,475 per vehicle).
DENSE = ("--etrac-drive-fix-interval-s", "10,15", "--etrac-park-fix-interval-s", "120,240")


@dataclass(frozen=True)
class Sandbox:
    base_url: str  # http://127.0.0.1:PORT/monitoramento
    vehicles: int
    dense: bool

    def conn_json(self) -> str:
        """The etrac_api connection in Airflow's JSON form (scheme and path go into host)."""
        return json.dumps({"conn_type": "http", "host": self.base_url, "login": LOGIN, "password": API_KEY})


@contextmanager
def etrac_sandbox(vehicles: int, *, dense: bool = True, extra: tuple[str, ...] = ()) -> Iterator[Sandbox]:
    args = ["--no-auvo", "--etrac-port", "0", "--seed", str(SEED)]
    args += ["--vehicles", str(vehicles), "--now", NOW, *(DENSE if dense else ()), *extra]
    with sandbox_process(args, r"(http://\S+/monitoramento)", "e-Track") as base_url:
        yield Sandbox(base_url, vehicles, dense)
