"""Where a stream's rows live, for links from a run or a day to the table filtered to that day."""

from __future__ import annotations

from urllib.parse import urlencode

# (source, stream) -> (schema, table, the column that places a row on a day).
DAY_COLUMNS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("e_track", "positions"): ("e_track", "positions", "data_transmissao"),
    ("e_track", "trips"): ("e_track", "trips", "data_inicio_conducao"),
    ("e_track", "routes"): ("e_track", "routes", "rota_date"),
    ("e_track", "latest"): ("e_track", "terminals", "data_transmissao"),
    ("auvo", "tasks"): ("auvo", "tasks", "task_date"),
    ("auvo", "expenses"): ("auvo", "expenses", "date"),
}


def table_url(base: str, schema: str, table: str, **params: str) -> str:
    query = f"?{urlencode(params)}" if params else ""
    return f"{base}/tables/{schema}/{table}{query}"


def day_table_url(base: str, source: str, stream: str, day: str) -> str | None:
    """The stream's table filtered to the day, or the table itself when rows have no day column."""
    place = DAY_COLUMNS.get((source, stream))
    if place:
        schema, table, column = place
        return table_url(base, schema, table, **{f"f.{column}": day})
    if source in ("auvo", "e_track"):
        return table_url(base, source, stream)
    return None


def airflow_run_url(airflow_base: str, dag_id: str, run_id: str) -> str:
    from urllib.parse import quote

    return f"{airflow_base}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
