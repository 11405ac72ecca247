"""The browser's FastAPI app: pages (HTML) and their JSON twins, all behind Airflow's login.

Every page route depends on ``auth.page_user`` (anonymous → Airflow's login and back) and every
JSON route on ``auth.api_user()`` (anonymous → 401). ``/static`` holds only CSS and JS, no data.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

import psycopg
from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from psycopg import sql

from sync_apis import sql_files
from sync_apis.browser import airflow_runs, catalog, db, fleet, health, query, vehicle
from sync_apis.browser.auth import LoginRequiredError, api_user, login_redirect, page_user
from sync_apis.browser.i18n import labels, language
from sync_apis.browser.links import airflow_run_url, day_table_url, table_url
from sync_apis.localday import LOCAL_TZ

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

_ERRORS: tuple[tuple[type[Exception], int], ...] = (
    (catalog.UnknownNameError, 404),
    (query.BadRequestError, 400),
    (psycopg.errors.QueryCanceled, 503),
    (psycopg.errors.DataError, 400),
    (psycopg.errors.InsufficientPrivilege, 403),
)


def _error_status(exc: Exception) -> int:
    for kind, code in _ERRORS:
        if isinstance(exc, kind):
            return code
    raise exc


def _error_text(exc: Exception) -> str:
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return f"the query took longer than {db.statement_timeout_ms()} ms and was stopped; narrow the filter"
    if isinstance(exc, psycopg.Error):
        # The server's first line names the bad value ("invalid input syntax for type ...").
        return (exc.diag.message_primary or str(exc)).splitlines()[0]
    return str(exc)


def airflow_base() -> str:
    from airflow.configuration import conf

    return urlparse(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")


def _base(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params.items())


def _render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    other = "en" if lang == "pt" else "pt"
    switch = {**_params(request), "lang": other}
    return templates.TemplateResponse(
        request,
        template,
        {
            "t": labels(lang),
            "lang": lang,
            "lang_switch": f"?{urlencode(switch)}",
            "base": _base(request),
            "airflow": airflow_base(),
            **context,
        },
        status_code=status_code,
    )


def _page(request: Request, template: str, build: Any) -> HTMLResponse:
    try:
        with db.read_only() as conn:
            context = build(conn)
    except Exception as exc:  # only the expected kinds; _error_status re-raises anything else
        code = _error_status(exc)
        return _render(request, "error.html", status_code=code, message=_error_text(exc))
    return _render(request, template, **context)


def _json(build: Any) -> JSONResponse:
    try:
        with db.read_only() as conn:
            return JSONResponse(jsonable_encoder(build(conn)))
    except Exception as exc:  # only the expected kinds; _error_status re-raises anything else
        return JSONResponse({"detail": _error_text(exc)}, status_code=_error_status(exc))


# --------------------------------------------------------------------------- data builders


def _streams(conn: psycopg.Connection[Any], params: dict[str, str]) -> tuple[date, list[health.StreamHealth]]:
    """The overview's streams as of ``as_of`` (default yesterday), failed Airflow runs marked."""
    as_of = _day_param(params, health.yesterday_local(), name="as_of")
    streams = health.stream_health(conn, as_of)
    runs = {(c.dag_id, c.run_id) for s in streams for c in s.strip if c.dag_id and c.run_id}
    return as_of, health.mark_failed_runs(streams, airflow_runs.run_states(runs))


def _overview(conn: psycopg.Connection[Any], base: str, params: dict[str, str]) -> dict[str, Any]:
    air = airflow_base()
    as_of, streams = _streams(conn, params)

    def run_url(dag_id: str, run_id: str) -> str:
        return airflow_run_url(air, dag_id, run_id)

    return {"streams": streams, "yesterday": as_of, "run_url": run_url, "short": health.short_text}


def _overview_json(conn: psycopg.Connection[Any], params: dict[str, str]) -> dict[str, Any]:
    air = airflow_base()
    as_of, streams = _streams(conn, params)
    out = []
    for s in streams:
        out.append(
            {
                "source": s.source,
                "stream": s.stream,
                "last_success_day": s.last_success_day,
                "lag_days": s.lag_days,
                "last_run": s.last_run,
                "days": [
                    {
                        "day": c.day,
                        "status": c.status,
                        "rows": c.rows,
                        "warning": c.warning,
                        "error": c.error,
                        "run_url": (
                            airflow_run_url(air, c.dag_id, c.run_id) if c.run_id and c.dag_id else None
                        ),
                    }
                    for c in s.strip
                ],
            }
        )
    return {"yesterday": as_of, "streams": out}


def _tables(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    return {
        "tables": [{"schema": s, "table": t, "estimated_rows": n} for s, t, n in catalog.list_tables(conn)]
    }


def _table_page(
    conn: psycopg.Connection[Any], schema: str, table: str, params: dict[str, str]
) -> dict[str, Any]:
    info = catalog.table_info(conn, schema, table)
    view = query.View.from_params(info, params)
    page = query.fetch_page(conn, view)
    without_cursor = urlencode({k: v for k, v in params.items() if k != "after"})
    return {"info": info, "view": view, "page": page, "query_without_cursor": without_cursor}


def _record(conn: psycopg.Connection[Any], schema: str, table: str, params: dict[str, str]) -> dict[str, Any]:
    info = catalog.table_info(conn, schema, table)
    key = {k[2:]: v for k, v in params.items() if k.startswith("k.")}
    for name in key:
        if name != "ctid":
            info.column(name)
    record = query.fetch_record(conn, info, key)
    if record is None:
        raise catalog.UnknownNameError(f"no row of {info.qualified} with that key")
    return {"info": info, "record": record}


def _run(conn: psycopg.Connection[Any], base: str, dag_id: str, run_id: str) -> dict[str, Any]:
    rows = health.run_rows(conn, dag_id, run_id)
    rejections = health.run_rejections(conn, run_id)
    links = []
    seen = set()
    for r in rows:
        day = r["day"].isoformat() if r["day"] else None
        if day is None or (r["source"], r["stream"], day) in seen:
            continue
        seen.add((r["source"], r["stream"], day))
        url = day_table_url(base, r["source"], r["stream"], day)
        if url:
            links.append({"label": f"{r['source']}.{r['stream']} · {day}", "url": url})
    for meta_table in ("sync_runs", "rejected_records"):
        url = table_url(base, "sync_meta", meta_table, **{"f.run_id": run_id})
        links.append({"label": f"sync_meta.{meta_table}", "url": url})
    return {"dag_id": dag_id, "run_id": run_id, "rows": rows, "rejections": rejections, "links": links}


DEFAULT_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def tiles_url() -> str:
    from airflow.configuration import conf

    return str(conf.get("sync_apis", "map_tiles_url", fallback=DEFAULT_TILES_URL) or DEFAULT_TILES_URL)


def _vehicle(conn: psycopg.Connection[Any], params: dict[str, str]) -> dict[str, Any]:
    known = vehicle.plates(conn)
    plate = params.get("placa") or (known[0] if known else "")
    if plate not in known:
        raise catalog.UnknownNameError(f"no vehicle with plate {plate!r}")
    last = conn.execute(sql_files.query("browser/vehicle_last_route_day"), {"plate": plate}).fetchone()
    day = _day_param(params, last[0] if last and last[0] else health.yesterday_local())
    return vehicle.vehicle_day(conn, plate, day) | {"plates": known}


def _day_param(params: dict[str, str], default: date, name: str = "day") -> date:
    text = params.get(name)
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise query.BadRequestError(f"{name} must be a date, YYYY-MM-DD") from None


def _auvo_day(conn: psycopg.Connection[Any], params: dict[str, str], lang: str) -> dict[str, Any]:
    last = conn.execute(sql_files.query("browser/auvo_last_task_time")).fetchone()
    default = last[0].astimezone(LOCAL_TZ).date() if last and last[0] else health.yesterday_local()
    day = _day_param(params, default)
    return {"day": day, "tasks": fleet.day_tasks(conn, day, lang)}


def _task(conn: psycopg.Connection[Any], task_id: int, lang: str) -> dict[str, Any]:
    detail = fleet.task_detail(conn, task_id, lang)
    if detail is None:
        raise catalog.UnknownNameError(f"no Auvo task {task_id}")
    return detail


def _fleet_points(vehicles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"lat": v["latitude"], "lon": v["longitude"], "label": v["placa"], "stale": v["stale"]}
        for v in vehicles
    ]


# --------------------------------------------------------------------------- the app


def _csv_stream(schema: str, table: str, params: dict[str, str]) -> Iterator[str]:
    with db.read_only() as conn:
        info = catalog.table_info(conn, schema, table)
        view = query.View.from_params(info, params)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for n, row in enumerate(query.iter_export(conn, view)):
            writer.writerow([json.dumps(v) if isinstance(v, (dict, list)) else v for v in row])
            if n % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()


def create_app() -> FastAPI:
    app = FastAPI(title="sync-apis data browser", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_exception_handler(LoginRequiredError, login_redirect)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    page = [Depends(page_user)]
    api = [api_user()]

    @app.get("/", dependencies=page, response_class=HTMLResponse)
    def overview(request: Request) -> HTMLResponse:
        return _page(request, "overview.html", lambda c: _overview(c, _base(request), _params(request)))

    @app.get("/api/health", dependencies=api)
    def overview_json(request: Request) -> JSONResponse:
        return _json(lambda c: _overview_json(c, _params(request)))

    @app.get("/tables", dependencies=page, response_class=HTMLResponse)
    def tables(request: Request) -> HTMLResponse:
        return _page(request, "tables.html", _tables)

    @app.get("/api/tables", dependencies=api)
    def tables_json() -> JSONResponse:
        return _json(_tables)

    @app.get("/tables/{schema}/{table}", dependencies=page, response_class=HTMLResponse)
    def table_page(request: Request, schema: str, table: str) -> HTMLResponse:
        return _page(request, "table.html", lambda c: _table_page(c, schema, table, _params(request)))

    @app.get("/api/tables/{schema}/{table}", dependencies=api)
    def table_json(request: Request, schema: str, table: str) -> JSONResponse:
        def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
            ctx = _table_page(conn, schema, table, _params(request))
            page = ctx["page"]
            return {
                "table": f"{schema}.{table}",
                "columns": page.columns,
                "rows": page.rows,
                "next": page.next_cursor,
                "count": page.count,
                "count_is_estimate": page.count_is_estimate,
                "count_is_lower_bound": page.count_is_lower_bound,
            }

        return _json(build)

    @app.get("/tables/{schema}/{table}/record", dependencies=page, response_class=HTMLResponse)
    def record_page(request: Request, schema: str, table: str) -> HTMLResponse:
        return _page(request, "record.html", lambda c: _record(c, schema, table, _params(request)))

    @app.get("/api/tables/{schema}/{table}/record", dependencies=api)
    def record_json(request: Request, schema: str, table: str) -> JSONResponse:
        return _json(lambda c: _record(c, schema, table, _params(request))["record"])

    @app.get("/tables/{schema}/{table}/csv", dependencies=page)
    def table_csv(request: Request, schema: str, table: str) -> Response:
        params = _params(request)
        # Validate before streaming: once the body has started, an error can no longer be a 4xx.
        try:
            with db.read_only() as conn:
                view = query.View.from_params(catalog.table_info(conn, schema, table), params)
                probe, values = view.export_query()
                # LIMIT 0 still binds every value: a bad one fails here, as a 400.
                conn.execute(sql.SQL("{} LIMIT 0").format(probe), values)
        except Exception as exc:  # only the expected kinds; _error_status re-raises anything else
            return JSONResponse({"detail": _error_text(exc)}, status_code=_error_status(exc))
        return StreamingResponse(
            _csv_stream(schema, table, params),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{schema}.{table}.csv"'},
        )

    @app.get("/run", dependencies=page, response_class=HTMLResponse)
    def run_page(request: Request, dag_id: str, run_id: str) -> HTMLResponse:
        return _page(request, "run.html", lambda c: _run(c, _base(request), dag_id, run_id))

    @app.get("/api/run", dependencies=api)
    def run_json(request: Request, dag_id: str, run_id: str) -> JSONResponse:
        return _json(lambda c: _run(c, _base(request), dag_id, run_id))

    @app.get("/vehicle", dependencies=page, response_class=HTMLResponse)
    def vehicle_page(request: Request) -> HTMLResponse:
        def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
            v = _vehicle(conn, _params(request))
            plates = v.pop("plates")
            return {"v": v, "v_json": jsonable_encoder(v), "plates": plates, "tiles_url": tiles_url()}

        return _page(request, "vehicle.html", build)

    @app.get("/api/vehicle", dependencies=api)
    def vehicle_json(request: Request) -> JSONResponse:
        return _json(lambda c: {k: v for k, v in _vehicle(c, _params(request)).items() if k != "plates"})

    @app.get("/fleet", dependencies=page, response_class=HTMLResponse)
    def fleet_page(request: Request) -> HTMLResponse:
        def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
            vehicles = fleet.fleet(conn)
            return {
                "vehicles": vehicles,
                "points": jsonable_encoder(_fleet_points(vehicles)),
                "tiles_url": tiles_url(),
            }

        return _page(request, "fleet.html", build)

    @app.get("/api/fleet", dependencies=api)
    def fleet_json() -> JSONResponse:
        return _json(lambda c: {"vehicles": fleet.fleet(c)})

    @app.get("/auvo", dependencies=page, response_class=HTMLResponse)
    def auvo_page(request: Request) -> HTMLResponse:
        return _page(request, "auvo_day.html", lambda c: _auvo_day(c, _params(request), language(request)))

    @app.get("/api/auvo", dependencies=api)
    def auvo_json(request: Request) -> JSONResponse:
        return _json(lambda c: _auvo_day(c, _params(request), language(request)))

    @app.get("/auvo/task/{task_id}", dependencies=page, response_class=HTMLResponse)
    def task_page(request: Request, task_id: int) -> HTMLResponse:
        def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
            d = _task(conn, task_id, language(request))
            c = d["customer"]
            points = (
                []
                if c is None
                else [{"lat": c["latitude"], "lon": c["longitude"], "label": c["description"]}]
            )
            return {"d": d, "points": points, "tiles_url": tiles_url()}

        return _page(request, "task.html", build)

    @app.get("/api/auvo/task/{task_id}", dependencies=api)
    def task_json(request: Request, task_id: int) -> JSONResponse:
        return _json(lambda c: _task(c, task_id, language(request)))

    return app
