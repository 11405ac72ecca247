"""The sandbox worlds and pinned clock the suite tests against.

    with small_etrac_server() as etrac, small_auvo_server(rate_limit_per_minute=None) as auvo:
        ...

The servers are built, not started (a ``with`` block starts and stops them; a test may first move
the clock). The sandbox is imported on first use, not when a conftest imports this module.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.auvo import AuvoServer
    from sandbox.etrac import EtracServer

SANDBOX_NOW = datetime.fromisoformat("2025-03-13T12:00:00-03:00")
"""Tests pin the sandbox clock here, so days 2025-03-10..12 are complete history."""

BROWSER_DAY = date(2025, 3, 3)
"""The day the browser tests load with ``dag.test()`` and then read for the whole session.

Reserved for them: ``dag.test()`` deletes any run of the same DAG with the same logical date, and
the in-process Airflow database is shared by every test of an xdist worker, so another module's
``dag.test()`` of this day would delete the runs the browser links to (and marks failed)."""

SMALL_ETRAC_WORLD: dict[str, Any] = {"seed": 7, "vehicles": 5, "drive_fix_interval_s": (90, 240)}
"""Five vehicles with a coarser fix cadence: a few thousand positions per day, seconds to load."""

SMALL_AUVO_WORLD: dict[str, Any] = {"seed": 7, "history_days": 14}
"""Two weeks of history with ~20 tasks a day and the default reference data."""


def small_etrac_server(now: datetime = SANDBOX_NOW, **world: Any) -> EtracServer:
    """The small e-Track world on a clock pinned at ``now``; ``world`` overrides its settings."""
    from sandbox.core import Clock
    from sandbox.etrac import EtracConfig, make_server

    return make_server(EtracConfig(**{**SMALL_ETRAC_WORLD, **world}), clock=Clock(now))


def small_auvo_server(now: datetime = SANDBOX_NOW, **world: Any) -> AuvoServer:
    """The small Auvo world on a clock pinned at ``now``; ``world`` overrides its settings."""
    from sandbox.auvo import AuvoConfig, make_server
    from sandbox.core import Clock

    return make_server(AuvoConfig(**{**SMALL_AUVO_WORLD, **world}), clock=Clock(now))
