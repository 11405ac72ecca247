"""The SQL checks rendered as the DAGs render them (same macro, same bound parameters)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def render_check(path: str, day: date, run_id: str = "") -> tuple[str, dict[str, Any]]:
    """``include/sql/<path>`` and its bound parameters for a run whose data interval starts at
    ``day``'s local midnight: ``conn.execute(*render_check(path, day))``."""
    import jinja2

    from sync_apis.dag_defaults import MACROS, RUN_DAY_PARAMETERS
    from sync_apis.localday import local_midnight

    env = jinja2.Environment(  # noqa: S701 - renders SQL, not HTML
        loader=jinja2.FileSystemLoader(REPO / "include" / "sql"), undefined=jinja2.StrictUndefined
    )
    context: dict[str, Any] = {**MACROS, "data_interval_start": local_midnight(day), "run_id": run_id}
    parameters = {name: env.from_string(value).render(context) for name, value in RUN_DAY_PARAMETERS.items()}
    return env.get_template(path).render(context), parameters
