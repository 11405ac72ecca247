"""The PostgreSQL server every benchmark uses (bench/README.md, "Reproducing")."""

from __future__ import annotations

import os

from tests.support.pg import PgUrl, server_url


def bench_server() -> PgUrl:
    """``SYNC_APIS_BENCH_DB_URL``, else the test suite's ``SYNC_APIS_TEST_DB_URL``, else the
    embedded server (started on first use, as for the tests)."""
    explicit = os.environ.get("SYNC_APIS_BENCH_DB_URL") or os.environ.get("SYNC_APIS_TEST_DB_URL")
    return PgUrl(explicit) if explicit else server_url()
