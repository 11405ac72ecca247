"""Fixtures of the integration tests (helpers they share live in tests/support/)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.seams import EtracLoader, apply_etrac_schema


@pytest.fixture
def etrac_env(etrac_sandbox: Any, warehouse_url: Any, connect_airflow: Any) -> dict[str, str]:
    """etrac_api and sync_apis_db pointed at the test's e-Track sandbox and warehouse."""
    return connect_airflow(warehouse=warehouse_url, etrac=etrac_sandbox)


@pytest.fixture
def loader(etrac_sandbox: Any, warehouse_url: Any, connect_airflow: Any) -> EtracLoader:
    """e-Track's load functions, one at a time, against the test's sandbox and warehouse."""
    connect_airflow(warehouse=warehouse_url, etrac=etrac_sandbox)
    apply_etrac_schema(warehouse_url.url)
    return EtracLoader(warehouse_url.url, etrac_sandbox)
