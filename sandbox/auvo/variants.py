"""Field-name variants (auvo-api.md §6.3 item 4) and ``selectfields`` (§3.1).

The world produces the real-data names. With ``field_names="doc"`` the server renames them to
what the docs and the new portal show, so a client can be tested against both spellings:
users ``userID`` -> ``userId``; customers ``id`` -> ``customerId``, ``description`` -> ``name``,
``uriAttachments`` -> ``uriAnexos``; task attachment ``id`` int -> string.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_RENAMES: dict[str, dict[str, str]] = {
    "users": {"userID": "userId"},
    "customers": {"id": "customerId", "description": "name", "uriAttachments": "uriAnexos"},
}


def _rename(record: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    return {renames.get(k, k): v for k, v in record.items()}  # keeps the field order


def to_variant(kind: str, record: dict[str, Any], variant: str) -> dict[str, Any]:
    """``record`` (real-data names) in the requested variant; kinds: canonical API names."""
    if variant != "doc":
        return record
    if kind in _RENAMES:
        return _rename(record, _RENAMES[kind])
    if kind == "tasks" and record.get("attachments"):
        out = dict(record)
        out["attachments"] = [dict(a, id=str(a["id"])) for a in record["attachments"]]
        return out
    return record


def select_fields(records: Iterable[dict[str, Any]], csv: str | None) -> list[dict[str, Any]]:
    """Keep only the listed properties (case-insensitive names); empty/None keeps all (§3.1)."""
    wanted = {name.strip().lower() for name in (csv or "").split(",") if name.strip()}
    if not wanted:
        return list(records)
    return [{k: v for k, v in record.items() if k.lower() in wanted} for record in records]
