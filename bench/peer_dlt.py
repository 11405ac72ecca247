"""The generic peer: dlt pulling the same e-Track endpoints into the same PostgreSQL, merge on the key.

Runs in the bench venv (``.local/bench-venv``, requirements-bench.txt), not in the project's:
``python bench/peer_dlt.py ARGS_JSON`` prints one JSON line (seconds of ``pipeline.run``, rows).
dlt's default settings throughout; only its anonymous telemetry is switched off (the machine has
no internet and a blocked call would be counted as dlt's time).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import dlt
import requests

POSITION_KEY = ("placa", "data_transmissao", "latitude", "longitude")
TRIP_KEY = ("placa", "data_inicio_conducao")


def etrac_source(base_url: str, login: str, password: str, day: date) -> Any:
    session = requests.Session()
    session.auth = (login, password)

    def post(path: str, body: Any = None) -> Any:
        response = session.post(f"{base_url}/{path}", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    plates = sorted({item["placa"] for item in post("ultimas-posicoes")["retorno"]})

    @dlt.resource(name="positions", write_disposition="merge", primary_key=POSITION_KEY)
    def positions() -> Any:
        for plate in plates:
            yield post("ultimasposicoesterminal", {"placa": plate, "data": day.strftime("%d/%m/%Y")})[
                "posicoes"
            ]

    @dlt.resource(name="trips", write_disposition="merge", primary_key=TRIP_KEY)
    def trips() -> Any:
        for plate in plates:
            yield [
                {"placa": plate, **trip}
                for trip in post("resumoviagens", {"placa": plate, "data": day.strftime("%d-%m-%Y")})[
                    "retorno"
                ]
            ]

    return positions, trips


def credentials(url: str) -> dict[str, Any]:
    """dlt's Postgres credentials for a libpq URL. dlt requires a host even where the URL gives a
    socket directory in ``?host=`` (the embedded server, when the machine has no PostgreSQL),
    and refuses a credential without a password, which a trust-auth server never asks for."""
    parts = urlsplit(url)
    socket_dir = parse_qs(parts.query).get("host")
    found = {
        "database": parts.path.lstrip("/") or "postgres",
        "username": parts.username or "postgres",
        "password": parts.password or "unused",
        "host": parts.hostname or "localhost",
        "port": parts.port or 5432,
    }
    if socket_dir:
        # libpq takes a socket directory from the query, over the (placeholder) host.
        found["query"] = {"host": socket_dir[0]}
    return found


def main() -> None:
    args = json.loads(sys.argv[1])
    day = date.fromisoformat(args["day"])
    with tempfile.TemporaryDirectory(prefix="bench-dlt-") as workdir:
        pipeline = dlt.pipeline(
            pipeline_name="etrac_bench",
            destination=dlt.destinations.postgres(credentials=credentials(args["db_url"])),
            dataset_name="dlt_etrac",
            pipelines_dir=workdir,
        )
        started = time.perf_counter()
        resources = etrac_source(args["base_url"], args["login"], args["password"], day)
        pipeline.run(resources)
        seconds = time.perf_counter() - started
        with pipeline.sql_client() as client:
            stored = client.execute_sql("SELECT count(*) FROM positions")[0][0]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "positions_stored": int(stored),
                "version": dlt.__version__,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
