"""e_track.terminals keeps each vehicle's newest last fix, whatever order runs merge in.

A run that fetched /ultimas-posicoes earlier but merges later (concurrent backfill runs) must
not put a vehicle's last fix back in time. The sandbox clock decides what "latest" is, so an
older answer is staged simply by moving the clock back between two loads.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest

from tests.support.sandboxes import SANDBOX_NOW
from tests.support.seams import EtracLoader

pytestmark = pytest.mark.timeout(120)


def terminals(url: str) -> dict[str, tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT placa, data_transmissao, latitude, longitude, data_gravacao FROM e_track.terminals"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


def truth(world: Any, at: Any) -> dict[str, tuple[Any, ...]]:
    out = {}
    for plate in world.plates():
        fix = world.latest(plate, until=at)
        out[plate] = (fix["data_transmissao"], fix["latitude"], fix["longitude"], fix["data_gravacao"])
    return out


def test_an_older_latest_answer_never_replaces_a_newer_last_fix(
    loader: EtracLoader,
    etrac_sandbox: Any,
) -> None:
    world = etrac_sandbox.world
    newer, older = SANDBOX_NOW, SANDBOX_NOW - timedelta(hours=5)
    assert truth(world, older) != truth(world, newer)  # else the test would prove nothing

    loader.latest()
    assert terminals(loader.url) == truth(world, newer)

    etrac_sandbox.clock.set(older)  # an answer fetched hours earlier, merged now
    summary = loader.latest()
    assert terminals(loader.url) == truth(world, newer)
    kept = sum(1 for p in world.plates() if truth(world, older)[p][0] < truth(world, newer)[p][0])
    assert f"terminals skipped older {kept:,}" in summary, summary
    status, _, updated, *_ = loader.sync_runs()["latest"]
    assert (status, updated) == ("success", 0)  # no terminal rewritten

    etrac_sandbox.clock.set(newer + timedelta(hours=1))  # a newer answer still moves them on
    loader.latest()
    assert terminals(loader.url) == truth(world, newer + timedelta(hours=1))
