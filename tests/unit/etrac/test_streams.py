"""The e-Track stream table is the one place a field is declared: its column builds the row."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sync_apis.etrac.streams import POSITIONS, TRIPS, Column, Stream, required
from sync_apis.rejected import Rejected

FIX = {
    "placa": "abc-1d23",
    "data_transmissao": "2025-03-10 08:00:00",
    "latitude": "-19.9",
    "longitude": "-43.9",
    "temperatura": "21,5",
}


def with_column(stream: Stream, column: Column) -> Stream:
    """``stream`` with ``column`` added before its ``added`` columns (what a developer would write)."""
    added = [c for c in stream.columns if c.kind == "added"]
    kept = tuple(c for c in stream.columns if c.kind != "added")
    return replace(stream, columns=(*kept, column, *added))


def test_a_new_field_is_one_column_in_the_stream() -> None:
    # Today the field is unknown: kept as sent under extra, not lost.
    assert POSITIONS.build(dict(FIX))["extra"] == {"temperatura": "21,5"}
    # Declared as a column, it is read by its kind and is no longer extra.
    positions = with_column(POSITIONS, Column("temperatura", "number"))
    row = positions.build(dict(FIX))
    assert row["temperatura"] == 21.5 and row["extra"] == {}
    assert positions.row({**row, "origin": "history"})[positions.position("temperatura")] == 21.5
    # An unreadable value is NULL, its original kept under extra._invalid; the fix still loads.
    row = positions.build({**FIX, "temperatura": "quente"})
    assert row["temperatura"] is None and row["extra"] == {"_invalid": {"temperatura": "quente"}}


def test_required_columns_reject_in_column_order_with_the_reason() -> None:
    with pytest.raises(Rejected, match=r"^missing placa$"):
        POSITIONS.build({"data_transmissao": None, "latitude": "-19.9", "longitude": "-43.9"})
    with pytest.raises(Rejected, match=r"^missing data_transmissao$"):
        POSITIONS.build({"latitude": "-19.9", "longitude": "-43.9"}, plate="ABC1D23")
    # The plate asked for stands in for a missing one (history items may omit it).
    assert POSITIONS.build({**FIX, "placa": None}, plate="xyz-9876")["placa"] == "XYZ9876"
    # A trip's end coordinates out of range are no value, not a rejection.
    trip = {"placa": "ABC1D23", "data_inicio_conducao": "10/03/2025 08:00:00", "latitude_fim_conducao": "91"}
    assert TRIPS.build(trip)["latitude_fim_conducao"] is None


@pytest.mark.parametrize(
    ("column", "problem"),
    [
        (Column("temperatura", "celsius"), "column 'temperatura': no kind 'celsius'"),  # type: ignore[arg-type]
        (required("logradouro", "text"), "column 'logradouro': no required kind 'text'"),
    ],
)
def test_a_column_that_cannot_be_built_fails_when_the_stream_is_declared(
    column: Column, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        with_column(POSITIONS, column)


def test_a_key_column_must_be_required() -> None:
    optional_time = tuple(
        Column(c.name, c.kind) if c.name == "data_transmissao" else c for c in POSITIONS.columns
    )
    with pytest.raises(ValueError, match="key column 'data_transmissao' is not a required column"):
        replace(POSITIONS, columns=optional_time)
