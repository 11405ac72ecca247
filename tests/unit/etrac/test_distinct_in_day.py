"""The per-plate count of distinct fixes in the local day, against instants compared in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from sync_apis import LOCAL_TZ
from sync_apis.etrac.streams import POSITIONS
from sync_apis.etrac.sync import distinct_in_day
from sync_apis.localday import day_bounds

AT = POSITIONS.position("data_transmissao")


def fixes_around(day: date) -> list[tuple[object, ...]]:
    """A fix every 5 minutes from 20:00 the day before to 04:00 the day after (local, midnights
    included), each twice (a duplicate key counts once), as COPY tuples built by column name."""
    first = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=1)
    rows = []
    for step in range(0, 32 * 60, 5):
        instant = first + timedelta(minutes=step)
        row = dict.fromkeys(POSITIONS.all_columns)
        row.update(
            placa="ABC1D23", data_transmissao=instant.astimezone(LOCAL_TZ), latitude=-23.5, longitude=-46.6
        )
        rows += [POSITIONS.row(row)] * 2
    return rows


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 3, 12),  # no DST since 2019
        date(2018, 11, 4),  # DST began: local midnight skipped, a 23-hour day
        date(2019, 2, 16),  # DST ended at the next midnight: 23:00-24:00 lived twice, a 25-hour day
        date(2019, 2, 17),  # the day after DST ended
    ],
)
def test_counts_the_fixes_whose_instant_is_in_the_local_day(day: date) -> None:
    rows = fixes_around(day)
    start, end = day_bounds(day)
    lo, hi = start.timestamp(), end.timestamp()
    expected = len({POSITIONS.key_of(r) for r in rows if lo <= r[AT].timestamp() < hi})
    assert expected > 100
    assert distinct_in_day(rows, AT, start, end) == expected
