"""A fake Auvo v2 API (docs/auvo-api.md) over a deterministic, evolving world.

::

    from sandbox.auvo import AuvoConfig, make_server
    with make_server(AuvoConfig(seed=7), clock=Clock(now)) as server:
        api_root = server.base_url + "/v2"
        server.world.tasks_for_day(day)      # ground truth (see sandbox/auvo/world.py)
        server.config.field_names = "doc"    # flip a §8.5 switch between requests

Modules: ``config`` (every switch), ``server`` (routing and quirks), ``query`` (paramFilter,
paging, filters), ``auth`` (login, tokens), ``variants`` (field names, selectfields), ``world``
(state at now, mutations, ground truth) built from ``tasks``, ``customers``, ``snapshots``,
``expenses``; ``admin`` (routes under ``/_sandbox/auvo``).
"""

from __future__ import annotations

from sandbox.auvo.config import AuvoConfig
from sandbox.auvo.server import AuvoServer, make_server
from sandbox.auvo.world import AuvoWorld

__all__ = ["AuvoConfig", "AuvoServer", "AuvoWorld", "make_server"]
