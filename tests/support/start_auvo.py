"""The Auvo servers the sandbox tests start through their ``auvo`` fixture (tests/sandbox/conftest.py).

The fixture stays in the conftest; what a test needs to name lives here: ``StartAuvo``, the
fixture's type for annotations, and the small world every server starts from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.auvo import AuvoServer
from sandbox.auvo.client import SandboxClient

SMALL_AUVO: dict[str, Any] = {"seed": 7, "tasks_per_day": 12, "customers": 25, "rate_limit_per_minute": None}
"""A small world without a rate limit: tests that want one turn it on explicitly."""

StartAuvo = Callable[..., tuple[AuvoServer, SandboxClient]]
"""``auvo(now=SANDBOX_NOW, **config_overrides)``: a started server and a client for it."""
