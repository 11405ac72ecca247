"""The SQL checks rendered as the DAGs render them (same macros), for one local day."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def render_check(path: str, day: date) -> str:
    """``include/sql/<path>`` for a run whose data interval starts at ``day``'s local midnight."""
    import jinja2

    from sync_apis.dag_defaults import MACROS
    from sync_apis.localday import local_midnight

    env = jinja2.Environment(  # noqa: S701 - renders SQL, not HTML
        loader=jinja2.FileSystemLoader(REPO / "include" / "sql"), undefined=jinja2.StrictUndefined
    )
    context: dict[str, Any] = {**MACROS, "data_interval_start": local_midnight(day)}
    return env.get_template(path).render(context)
