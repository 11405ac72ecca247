"""How the loader sees an Auvo stream's table (``streams.py`` stays free of database imports:
the DAG file reads it at parse time). Used by the sync and by the legacy adoption alike."""

from __future__ import annotations

from sync_apis.auvo.streams import SCHEMA, Stream, column_for
from sync_apis.warehouse import Table


def table_of(stream: Stream) -> Table:
    # A stream whose cursor is a last-update stamp merges by it: an older version never wins.
    version = column_for(stream, stream.cursor_field) if stream.cursor_field else None
    return Table(
        SCHEMA, stream.table, (stream.key.name,), stream.all_columns, soft_delete=True, version_column=version
    )
