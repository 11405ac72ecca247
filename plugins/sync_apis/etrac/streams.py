"""What the e-Track sync fetches, as data: one ``Stream`` per warehouse table.

The e-Track twin of ``auvo/streams.py``: a stream names its endpoint, its key, the columns it
loads (in COPY order) and how it is kept current. The row builders of ``etrac/parse.py`` return
rows *by column name*; ``Stream.row`` turns such a dict into the COPY tuple in one place, with
one C-level ``itemgetter`` call (e-Track sends ~1.5 M positions a day: no per-column Python).

Adding an e-Track field: its column here, its key in the parse function's dict, its column in
``include/sql/e_track/``. ``tests/unit/test_stream_columns.py`` compares this table with the DDL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import Any

from sync_apis.etrac import parse
from sync_apis.warehouse import Table

SOURCE = "e_track"
SCHEMA = "e_track"


@dataclass(frozen=True)
class Stream:
    name: str  # stream id == table name in schema ``e_track``
    endpoint: str  # the API endpoint it is read from (etrac-api.md)
    kept_current: str  # how the table is kept current, in words
    key: tuple[str, ...]
    columns: tuple[str, ...]  # loaded columns, key included, in COPY order
    build: Callable[..., dict[str, Any]]  # record -> row by column name; raises ``Rejected``
    version_column: str | None = None

    @cached_property
    def table(self) -> Table:
        # The row builders of etrac/parse.py type every value (see ``Table.typed_rows``).
        return Table(
            SCHEMA,
            self.name,
            key=self.key,
            columns=self.columns,
            version_column=self.version_column,
            typed_rows=True,
        )

    @cached_property
    def row(self) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
        """A row by column name -> the COPY tuple (a missing column is a KeyError, not a shift)."""
        return itemgetter(*self.columns)

    @cached_property
    def key_of(self) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
        """The key of a COPY tuple (for sorting and counting distinct keys)."""
        return itemgetter(*(self.columns.index(k) for k in self.key))

    def position(self, column: str) -> int:
        """Where ``column`` sits in the COPY tuple."""
        return self.columns.index(column)


TERMINALS = Stream(
    name="terminals",
    endpoint="ultimas-posicoes",
    kept_current="every run's snapshot of the fleet; a vehicle's last fix only moves forward",
    key=("placa",),
    columns=(
        "placa",
        "descricao",
        "frota",
        "equipamento_serial",
        "data_transmissao",
        "data_gravacao",
        "latitude",
        "longitude",
        "logradouro",
        "raw",
    ),
    build=parse.terminal_row,
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
        "placa",
        "data_transmissao",
        "latitude",
        "longitude",
        "logradouro",
        "velocidade",
        "ignicao",
        "odometro",
        "odometro_can",
        "horimetro",
        "bateria",
        "equipamento_serial",
        "data_gravacao",
        "extra",
        "origin",
    ),
    build=parse.position_row,
)

TRIPS = Stream(
    name="trips",
    endpoint="resumoviagens",
    kept_current="per plate and local day; a plate-day's complete answer removes the trips it no longer has",
    key=("placa", "data_inicio_conducao"),
    columns=(
        "placa",
        "data_inicio_conducao",
        "data_fim_conducao",
        "cliente",
        "cliente_fantasia",
        "descricao",
        "frota",
        "latitude_inicio_conducao",
        "longitude_inicio_conducao",
        "latitude_fim_conducao",
        "longitude_fim_conducao",
        "localizacao_inicio_conducao",
        "localizacao_fim_conducao",
        "odometro_inicio_conducao",
        "odometro_fim_conducao",
        "duracao_conducao",
        "distancia_conducao",
        "condutor_nome",
        "condutor_identificacao",
        "raw",
        "reported_day",
    ),
    build=parse.trip_row,
)

STREAMS: tuple[Stream, ...] = (TERMINALS, POSITIONS, TRIPS)
BY_NAME: dict[str, Stream] = {s.name: s for s in STREAMS}
