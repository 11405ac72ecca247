"""What Airflow says about the runs behind the overview's days.

A day whose rows all loaded can still belong to a failed DAG run — a data check failed after
the load, or someone marked the run failed. The strip shows such a day red, so the run's state
is read from Airflow's metadata database (the api-server's own session), by (dag_id, run_id).
"""

from __future__ import annotations

from collections.abc import Iterable


def run_states(runs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    wanted = sorted(set(runs))
    if not wanted:
        return {}
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select, tuple_

    with create_session() as session:
        rows = session.execute(
            select(DagRun.dag_id, DagRun.run_id, DagRun.state).where(
                tuple_(DagRun.dag_id, DagRun.run_id).in_(wanted)
            )
        ).all()
    return {(d, r): str(s) for d, r, s in rows}
