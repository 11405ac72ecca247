"""What the e-Track sync fetches, as data: one ``Stream`` per warehouse table.

The e-Track twin of ``auvo/streams.py``: a stream names its endpoint, its key, how it is kept
current and its columns, in COPY order, each with the *kind* of value it holds. A column is read
from the record's field of the same name, the way its kind says (``parse.row_builder``: text,
numbers, meters, flags, local times, durations, coordinates); a required column (the key, the
day) rejects the record when it is missing or unreadable. The stream's builder returns the row
*by column name*; ``Stream.row`` turns it into the COPY tuple in one place, with one C-level
``itemgetter`` call (e-Track sends ~1.5 M positions a day: no per-column Python there).

Adding an e-Track field: its ``Column`` here and its column in ``include/sql/e_track/002_tables.sql``
(a guarded ``ALTER TABLE``: docs/architecture.md, "Adding an e-Track field"), nothing else.
``tests/unit/test_stream_columns.py`` compares this table with the DDL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import Any, Literal

from sync_apis.etrac import parse
from sync_apis.warehouse import Table

SOURCE = "e_track"
SCHEMA = "e_track"

Kind = Literal[
    "plate", "text", "number", "counter", "flag", "moment", "duration", "latitude", "longitude",
    "extra", "raw", "added",
]  # fmt: skip


@dataclass(frozen=True)
class Column:
    name: str  # the warehouse column, and the record field it is read from
    # plate: normalised ("abc-1d23" -> "ABC1D23"); number: "42 km/h", "1.234,5"; counter: a
    # cumulative meter, where a dot groups thousands ("123.456 km"); moment: a local time;
    # latitude/longitude: out of range is no value; extra: the fields no column reads (and the
    # originals of unreadable values); raw: the record as sent; added: set by the sync.
    kind: Kind
    required: bool = False  # a missing or unreadable value rejects the record (else it is NULL)


def required(name: str, kind: Kind) -> Column:
    return Column(name, kind, required=True)


@dataclass(frozen=True)
class Stream:
    name: str  # stream id == table name in schema ``e_track``
    endpoint: str  # the API endpoint it is read from (etrac-api.md)
    kept_current: str  # how the table is kept current, in words
    key: tuple[str, ...]
    columns: tuple[Column, ...]  # loaded columns, key included, in COPY order
    ignored_fields: frozenset[str] = frozenset()  # fields the records carry that are not kept
    version_column: str | None = None

    def __post_init__(self) -> None:
        # A stream that cannot be built fails when the module is imported, not in a DAG run.
        problems = [p for p in map(parse.column_problem, self.columns) if p]
        by_name = {c.name: c for c in self.columns}
        problems += [f"key column {k!r} is not a required column" for k in self.key
                     if not (k in by_name and by_name[k].required)]  # fmt: skip
        if problems:
            raise ValueError(f"e_track.{self.name}: " + "; ".join(problems))

    @cached_property
    def all_columns(self) -> tuple[str, ...]:
        """The column names, in COPY order."""
        return tuple(c.name for c in self.columns)

    @cached_property
    def fields(self) -> frozenset[str]:
        """The record fields its columns read (all but the ``parse.NOT_READ`` kinds)."""
        return frozenset(c.name for c in self.columns if c.kind not in parse.NOT_READ)

    @cached_property
    def build(self) -> Callable[..., dict[str, Any]]:
        """``build(record, *, plate=None)`` -> the row by column name, its ``added`` columns aside;
        raises ``Rejected`` with the reason. ``plate``: the plate the records were asked for."""
        return parse.row_builder(self.columns, self.ignored_fields)

    @cached_property
    def table(self) -> Table:
        # The row builders of etrac/parse.py type every value (see ``Table.typed_rows``).
        return Table(
            SCHEMA,
            self.name,
            key=self.key,
            columns=self.all_columns,
            version_column=self.version_column,
            typed_rows=True,
        )

    @cached_property
    def row(self) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
        """A row by column name -> the COPY tuple (a missing column is a KeyError, not a shift)."""
        return itemgetter(*self.all_columns)

    @cached_property
    def key_of(self) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
        """The key of a COPY tuple (for sorting and counting distinct keys)."""
        return itemgetter(*(self.all_columns.index(k) for k in self.key))

    def position(self, column: str) -> int:
        """Where ``column`` sits in the COPY tuple."""
        return self.all_columns.index(column)


TERMINALS = Stream(
    name="terminals",
    endpoint="ultimas-posicoes",
    kept_current="every run's snapshot of the fleet; a vehicle's last fix only moves forward",
    key=("placa",),
    # Only the plate is required: a vehicle that never transmitted is still a vehicle.
    columns=(
        required("placa", "plate"),
        Column("descricao", "text"),
        Column("frota", "text"),
        Column("equipamento_serial", "text"),
        Column("data_transmissao", "moment"),
        Column("data_gravacao", "moment"),
        Column("latitude", "latitude"),
        Column("longitude", "longitude"),
        Column("logradouro", "text"),
        Column("raw", "raw"),
    ),
    # A run that fetched earlier but merges later (concurrent backfill runs) must not put a
    # vehicle's last fix back in time: the stored fix is replaced only by one at least as new.
    version_column="data_transmissao",
)

# ``origin`` says which endpoint vouches for a fix ('history' or 'latest'), and trips'
# ``reported_day`` which day's /resumoviagens answer reported a trip: they scope what a complete
# answer for a plate-day may remove (``etrac.sync.load_history``).
POSITIONS = Stream(
    name="positions",
    endpoint="ultimasposicoesterminal",
    kept_current=(
        "per plate and local day (history, the authority); the latest snapshot adds only new fixes; "
        "a plate-day's complete answer removes the fixes it no longer has"
    ),
    key=("placa", "data_transmissao", "latitude", "longitude"),
    columns=(
        required("placa", "plate"),  # history items may omit it: the plate asked for
        required("data_transmissao", "moment"),
        required("latitude", "latitude"),
        required("longitude", "longitude"),
        Column("logradouro", "text"),
        Column("velocidade", "number"),
        Column("ignicao", "flag"),
        Column("odometro", "counter"),
        Column("odometro_can", "counter"),
        Column("horimetro", "counter"),
        Column("bateria", "number"),
        Column("equipamento_serial", "text"),
        Column("data_gravacao", "moment"),
        Column("extra", "extra"),
        Column("origin", "added"),
    ),
    # The vehicle's fields, kept in terminals: not "unknown fields" for ``extra``. The legacy
    # adoption (include/sql/e_track/003_adopt_legacy_rows.sql) reads the same two tables' columns.
    ignored_fields=TERMINALS.fields,
)

TRIPS = Stream(
    name="trips",
    endpoint="resumoviagens",
    kept_current="per plate and local day; a plate-day's complete answer removes the trips it no longer has",
    key=("placa", "data_inicio_conducao"),
    columns=(
        required("placa", "plate"),
        required("data_inicio_conducao", "moment"),
        Column("data_fim_conducao", "moment"),
        Column("cliente", "text"),
        Column("cliente_fantasia", "text"),
        Column("descricao", "text"),
        Column("frota", "text"),
        Column("latitude_inicio_conducao", "latitude"),
        Column("longitude_inicio_conducao", "longitude"),
        Column("latitude_fim_conducao", "latitude"),
        Column("longitude_fim_conducao", "longitude"),
        Column("localizacao_inicio_conducao", "text"),
        Column("localizacao_fim_conducao", "text"),
        Column("odometro_inicio_conducao", "number"),
        Column("odometro_fim_conducao", "number"),
        Column("duracao_conducao", "duration"),
        Column("distancia_conducao", "number"),
        Column("condutor_nome", "text"),
        Column("condutor_identificacao", "text"),
        Column("raw", "raw"),
        Column("reported_day", "added"),
    ),
)

STREAMS: tuple[Stream, ...] = (TERMINALS, POSITIONS, TRIPS)
BY_NAME: dict[str, Stream] = {s.name: s for s in STREAMS}
