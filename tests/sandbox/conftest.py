"""Fixtures shared by the sandbox tests: Auvo servers started on demand with a pinned clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from sandbox.auvo import AuvoConfig, AuvoServer, make_server
from sandbox.auvo.client import SandboxClient
from sandbox.core import SAO_PAULO, Clock

NOW = datetime(2025, 3, 13, 12, 0, tzinfo=SAO_PAULO)
# A small world without a rate limit: tests that want one turn it on explicitly.
SMALL_AUVO: dict[str, Any] = {"seed": 7, "tasks_per_day": 12, "customers": 25, "rate_limit_per_minute": None}

StartAuvo = Callable[..., tuple[AuvoServer, SandboxClient]]


@pytest.fixture
def auvo() -> Iterator[StartAuvo]:
    """``auvo(now=NOW, **config_overrides)`` starts a server; every one started is stopped after."""
    servers: list[AuvoServer] = []

    def start(now: datetime = NOW, **overrides: Any) -> tuple[AuvoServer, SandboxClient]:
        server = make_server(AuvoConfig(**{**SMALL_AUVO, **overrides}), clock=Clock(now))
        server.start()
        servers.append(server)
        return server, SandboxClient(server)

    yield start
    for server in servers:
        server.stop()
