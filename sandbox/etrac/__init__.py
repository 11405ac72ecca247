"""Fake e-Track ("monitoramento") API with a deterministic fleet, for tests and ``make run``.

``make_server(EtracConfig(...), clock=Clock(...))`` returns a ``SandboxServer`` whose
``world`` is the ground truth and ``config`` the live switches; see etrac-api.md §6.
"""

from sandbox.etrac.config import DEFAULT_EMAIL, DEFAULT_KEY, ConfigError, EtracConfig
from sandbox.etrac.server import EtracServer, make_server
from sandbox.etrac.world import DaySummary, World, checksum_positions, normalize_plate, position_line

__all__ = [
    "DEFAULT_EMAIL",
    "DEFAULT_KEY",
    "ConfigError",
    "DaySummary",
    "EtracConfig",
    "EtracServer",
    "World",
    "checksum_positions",
    "make_server",
    "normalize_plate",
    "position_line",
]
