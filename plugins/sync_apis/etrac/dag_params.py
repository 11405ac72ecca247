"""etrac_daily's Params (DAG-facing; docs/dags/etrac_daily.md explains each)."""

from __future__ import annotations

from airflow.sdk import Param

from sync_apis.dag_defaults import retry_params
from sync_apis.etrac.chunking import DEFAULT_CHUNK_SIZE
from sync_apis.etrac.pacing import configured_requests_per_minute


def dag_params() -> dict[str, Param]:
    """Built each time the DAG file is parsed: defaults read from [sync_apis] follow the setting."""
    return {
        "plates": Param(
            [],
            type="array",
            items={"type": "string"},
            description="Plates to load (with or without hyphen); empty = every vehicle",
        ),
        "chunk_size": Param(
            DEFAULT_CHUNK_SIZE, type="integer", minimum=1, description="Plates per mapped history task"
        ),
        "requests_per_minute": Param(
            configured_requests_per_minute(),
            type="integer",
            minimum=0,
            description="API requests per minute per task (0 = no pacing; a 429 is waited out for its "
            "Retry-After either way)",
        ),
        # etrac.hook.DEFAULT_POLICY's values, spelled out: the hook module is too slow to import at
        # parse time. tests/integrity/test_dag_shape.py keeps the two equal.
        **retry_params("e-Track", backoff_base_s=1.0, read_timeout_s=60),
    }
