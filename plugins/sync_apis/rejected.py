"""The one way a record is refused: the row builders of both sources raise ``Rejected``.

Kept apart from the parsers and the loader so both can import it without importing each other.
"""

from __future__ import annotations

from typing import Any


class Rejected(ValueError):  # noqa: N818 - a verdict on a record, not a program error
    """A record that cannot become a row; ``reason`` goes to sync_meta.rejected_records.

    ``raw``: what to keep of the record, when the builder knows better than the loop (which
    otherwise keeps the record as received).
    """

    def __init__(self, reason: str, raw: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw
