"""The measured workloads of the e-Track day benchmark, each run in a fresh interpreter.

``python -m bench.etrac_workers KIND ARGS_JSON`` runs one workload and prints one JSON line:
its seconds (imports excluded), positions received and peak RSS (``ru_maxrss``), so every
figure comes from a process that did nothing else — as an Airflow task process does.

- ``ours``: the real task code of ``etrac_daily`` (sync_apis.etrac.sync: load_latest,
  plan_plates, load_history per chunk with a fresh hook as each mapped task has, load_routes)
  against the sandbox and a PostgreSQL warehouse;
- ``source``: the same requests with plain ``requests`` + ``json.loads``, nothing stored.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def ours(
    db_url: str,
    day: str,
    chunk_size: int,
    requests_per_minute: float | None,
    max_chunks: int | None,
    plates: list[str] | None,
) -> dict[str, Any]:
    """The DAG's tasks in order, one after the other (history parallelism 1), unpaced unless told.

    With ``plates``: only the history task(s) for those plates (no latest, plan or routes), as
    one mapped history task process does.
    """
    import psycopg

    from sync_apis.etrac import sync
    from sync_apis.etrac.chunking import chunked
    from sync_apis.etrac.hook import EtracHook
    from sync_apis.http import HttpPolicy
    from sync_apis.warehouse import RunInfo

    the_day = date.fromisoformat(day)
    rss_imports = peak_rss_mb()

    def run(stream: str, task: str, map_index: int = -1) -> RunInfo:
        return RunInfo("e_track", stream, the_day, "bench", "etrac_daily", task, map_index=map_index)

    def hook() -> EtracHook:
        # etrac.dag_tasks.hook_for_run() minus its Variable lookup of the connection id (no Airflow DB here).
        return EtracHook("etrac_api", policy=HttpPolicy(requests_per_minute=requests_per_minute))

    started = time.perf_counter()
    # Autocommit, as warehouse_connection() hands out: the plan's read between two loads.
    with psycopg.connect(db_url, autocommit=True) as conn:
        if plates is None:
            latest = hook()
            sync.load_latest(conn, latest, run("latest", "latest"))
            latest.close()
        chunks = chunked(plates or sync.plan_plates(conn, None), chunk_size)
        whole_day = plates is None and (max_chunks is None or max_chunks >= len(chunks))
        chunks = chunks[:max_chunks] if max_chunks else chunks
        history_started = time.perf_counter()
        requests = 0
        for index, plates in enumerate(chunks):
            history = hook()
            sync.load_history(
                conn,
                history,
                run("positions", "history", index),
                run("trips", "history", index),
                the_day,
                plates,
            )
            requests += history.client.stats.requests
            history.close()
        history_s = time.perf_counter() - history_started
        if whole_day:
            sync.load_routes(conn, run("routes", "routes"), the_day)
        seconds = time.perf_counter() - started
        received = conn.execute(
            "SELECT coalesce(sum(rows_received), 0) FROM sync_meta.sync_runs "
            "WHERE run_id = 'bench' AND stream = 'positions'"
        ).fetchone()
    return {
        "seconds": seconds,
        "history_s": history_s,
        "positions": int(received[0]) if received else 0,
        "plates": sum(len(c) for c in chunks),
        "history_requests": requests,
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_imports_mb": rss_imports,
    }


def source(base_url: str, login: str, password: str, day: str) -> dict[str, Any]:
    """The source ceiling: the same requests (latest, then history + trips per plate), decoded, dropped."""
    import requests

    the_day = date.fromisoformat(day)
    started = time.perf_counter()
    positions = trips = calls = 0
    with requests.Session() as session:
        session.auth = (login, password)
        answer = json.loads(session.post(f"{base_url}/ultimas-posicoes", timeout=60).content)
        plates = sorted({item["placa"] for item in answer["retorno"]})
        calls += 1
        for plate in plates:
            body = {"placa": plate, "data": the_day.strftime("%d/%m/%Y")}
            history = json.loads(
                session.post(f"{base_url}/ultimasposicoesterminal", json=body, timeout=60).content
            )
            body = {"placa": plate, "data": the_day.strftime("%d-%m-%Y")}
            answer = json.loads(session.post(f"{base_url}/resumoviagens", json=body, timeout=60).content)
            positions += len(history.get("posicoes") or [])
            trips += len(answer.get("retorno") or [])
            calls += 2
    return {
        "seconds": time.perf_counter() - started,
        "positions": positions,
        "trips": trips,
        "requests": calls,
        "peak_rss_mb": peak_rss_mb(),
    }


WORKERS: dict[str, Callable[..., dict[str, Any]]] = {"ours": ours, "source": source}


def main() -> None:
    sys.path[:0] = [str(REPO), str(REPO / "plugins")]
    kind, args = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(WORKERS[kind](**args)), flush=True)


if __name__ == "__main__":
    main()
