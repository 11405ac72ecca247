"""Send a test alert through the configured channels: ``python -m sync_apis.alerts``.

Run it where the tasks run (same Airflow configuration and connections). It prints one line per
channel and exits 0 only when every configured channel took the message: 1 when one failed,
2 when alerts are off.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from datetime import UTC, datetime


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    # Outside a task, Airflow 3 looks connections up in the environment and the secrets backends
    # only; as a server-side process it also reads those created in the UI (the metadata database).
    os.environ.setdefault("_AIRFLOW_PROCESS_CONTEXT", "server")

    from sync_apis.alerts import notify
    from sync_apis.alerts.message import PRODUCT, Alert

    alert = Alert(
        "warning",
        f"[{PRODUCT}] TEST alert from {socket.gethostname()}",
        (
            "If you can read this, sync-apis failure alerts reach you.",
            f"Sent: {datetime.now(UTC).isoformat(timespec='seconds')}",
        ),
    )
    outcomes = notify(alert)
    for channel, outcome in outcomes.items():
        print(f"{channel}: {outcome}")
    if not outcomes:
        print("alerts are off: no channel is configured ([sync_apis] alert_* keys)")
        return 2
    return 0 if all(outcome == "sent" for outcome in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
