"""What each stream column kind is in the DDL, as ``information_schema.columns.data_type`` says it:
the tests that compare the stream tables with the schema files read it from here."""

from __future__ import annotations

AUVO_TYPES = {
    "bigint": "bigint",
    "int": "integer",
    "text": "text",
    "bool": "boolean",
    "float": "double precision",
    "numeric": "numeric",
    "money": "numeric",
    "timestamptz": "timestamp with time zone",
}

# ``added`` columns (set by the sync, not read from a record) have their own types.
ETRAC_TYPES = {
    "plate": "text",
    "text": "text",
    "number": "double precision",
    "counter": "double precision",
    "flag": "boolean",
    "moment": "timestamp with time zone",
    "duration": "interval",
    "latitude": "double precision",
    "longitude": "double precision",
    "extra": "jsonb",
    "raw": "jsonb",
}
