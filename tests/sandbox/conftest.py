"""Fixtures shared by the sandbox tests: Auvo servers started on demand with a pinned clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from sandbox.auvo import AuvoConfig, AuvoServer, make_server
from sandbox.auvo.client import SandboxClient
from sandbox.core import Clock
from tests.support.sandboxes import SANDBOX_NOW
from tests.support.start_auvo import SMALL_AUVO, StartAuvo


@pytest.fixture
def auvo() -> Iterator[StartAuvo]:
    """``auvo(now=SANDBOX_NOW, **config_overrides)`` starts a server; every one started is stopped after."""
    servers: list[AuvoServer] = []

    def start(now: datetime = SANDBOX_NOW, **overrides: Any) -> tuple[AuvoServer, SandboxClient]:
        server = make_server(AuvoConfig(**{**SMALL_AUVO, **overrides}), clock=Clock(now))
        server.start()
        servers.append(server)
        return server, SandboxClient(server)

    yield start
    for server in servers:
        server.stop()
