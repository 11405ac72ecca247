"""``[core] hostname_callable`` for the distributed test: each Celery worker names itself.

Both workers run on this one machine, where ``socket.getfqdn()`` is the same for both; the task
instance's ``hostname`` column must say which worker ran it.
"""

from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    return os.environ.get("SYNC_APIS_WORKER_NAME") or socket.getfqdn()
