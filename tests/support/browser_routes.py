"""Every data route of the browser with parameters that make it return data, from one place.

Tests iterate over this list; ``test_every_route_is_listed`` fails when the app gains a route
that is not here, so a new route cannot skip the auth and injection tests. ``PREFIX`` is where
the plugin mounts the browser under the Airflow root, for every browser test's URLs.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "/sync-apis"


@dataclass(frozen=True)
class Route:
    path: str
    """The app's route path (as FastAPI lists it)."""
    url: str
    """A concrete URL under the Airflow root that returns data for the loaded warehouse."""
    html: bool


def routes(dag_id: str, run_id: str) -> list[Route]:
    from urllib.parse import urlencode

    run = urlencode({"dag_id": dag_id, "run_id": run_id})
    pos = "/tables/e_track/positions"
    user = "/tables/auvo/users/record?k.user_id=@USER@"
    return [
        Route("/", f"{PREFIX}/", True),
        Route("/api/health", f"{PREFIX}/api/health", False),
        Route("/tables", f"{PREFIX}/tables", True),
        Route("/api/tables", f"{PREFIX}/api/tables", False),
        Route("/tables/{schema}/{table}", f"{PREFIX}{pos}?f.velocidade=>=0", True),
        Route("/api/tables/{schema}/{table}", f"{PREFIX}/api{pos}?f.velocidade=>=0", False),
        Route("/tables/{schema}/{table}/record", f"{PREFIX}{user}", True),
        Route(
            "/api/tables/{schema}/{table}/record",
            f"{PREFIX}/api{user}",
            False,
        ),
        Route("/tables/{schema}/{table}/csv", f"{PREFIX}{pos}/csv?q=a", True),
        Route("/vehicle", f"{PREFIX}/vehicle?placa=@PLATE@&day=@DAY@", True),
        Route("/api/vehicle", f"{PREFIX}/api/vehicle?placa=@PLATE@&day=@DAY@", False),
        Route("/fleet", f"{PREFIX}/fleet", True),
        Route("/api/fleet", f"{PREFIX}/api/fleet", False),
        Route("/auvo", f"{PREFIX}/auvo?day=@DAY@", True),
        Route("/api/auvo", f"{PREFIX}/api/auvo?day=@DAY@", False),
        Route("/auvo/task/{task_id}", f"{PREFIX}/auvo/task/@TASK@", True),
        Route("/api/auvo/task/{task_id}", f"{PREFIX}/api/auvo/task/@TASK@", False),
        Route("/run", f"{PREFIX}/run?{run}", True),
        Route("/api/run", f"{PREFIX}/api/run?{run}", False),
    ]
