"""Vehicle day: the figures, trips, stops and line the page gets, against SQL and the fixes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.browser_routes import PREFIX

pytestmark = pytest.mark.timeout(300)
SP = ZoneInfo("America/Sao_Paulo")


def test_simplify_keeps_stops_and_ends_within_budget() -> None:
    from sync_apis.browser.vehicle import simplify

    keep = {17, 4_000, 4_321, 9_998}
    chosen = simplify(10_000, keep, max_points=2000)
    assert len(chosen) <= 2000 and keep <= set(chosen) and {0, 9_999} <= set(chosen)
    assert chosen == sorted(set(chosen))
    assert simplify(50, keep=set()) == list(range(50))


def test_vehicle_day_matches_sql(client: Any, token: str, loaded_warehouse: Any) -> None:
    wh = loaded_warehouse
    auth = {"Authorization": f"Bearer {token}"}
    start = datetime(wh.day.year, wh.day.month, wh.day.day, tzinfo=SP)
    end = start + timedelta(days=1)
    for (plate,) in wh.q("SELECT placa FROM e_track.routes WHERE rota_date = %s ORDER BY placa", wh.day):
        got = client.get(
            f"{PREFIX}/api/vehicle", params={"placa": plate, "day": wh.day.isoformat()}, headers=auth
        )
        assert got.status_code == 200, got.text
        v = got.json()
        (points, km, vmax) = wh.q(
            "SELECT point_count, distance_km, max_speed FROM e_track.routes "
            "WHERE placa = %s AND rota_date = %s",
            plate,
            wh.day,
        )[0]
        assert (v["figures"]["points"], v["figures"]["distance_km"], v["figures"]["max_speed"]) == (
            points,
            km,
            vmax,
        )
        fixes = wh.q(
            "SELECT data_transmissao, latitude, longitude, velocidade, ignicao FROM e_track.positions "
            "WHERE placa = %s AND data_transmissao >= %s AND data_transmissao < %s ORDER BY data_transmissao",
            plate,
            start,
            end,
        )
        assert v["points_total"] == len(fixes)
        assert len(v["line"]) == min(len(fixes), 2000)
        assert v["line"][0][:2] == [fixes[0][1], fixes[0][2]] and v["line"][-1][:2] == [
            fixes[-1][1],
            fixes[-1][2],
        ]
        (trips,) = wh.q(
            "SELECT count(*) FROM e_track.trips WHERE placa = %s AND data_inicio_conducao >= %s "
            "AND data_inicio_conducao < %s",
            plate,
            start,
            end,
        )[0]
        assert len(v["trips"]) == trips
        # Each stop: at least 5 minutes, and every fix inside it stopped (ignition off or speed 0).
        for stop in v["stops"]:
            a, b = datetime.fromisoformat(stop["start"]), datetime.fromisoformat(stop["end"])
            assert (b - a) >= timedelta(minutes=5)
            inside = [f for f in fixes if a <= f[0] <= b]
            assert inside and all(f[4] is False or (f[3] or 0) == 0 for f in inside), (plate, stop)
        page = client.get(
            f"{PREFIX}/vehicle", params={"placa": plate, "day": wh.day.isoformat()}, headers=auth
        ).text
        assert f'<td class="num" id="fig-points">{points}</td>' in page
        assert f"<option selected>{plate}</option>" in page
        assert "/static/leaflet/leaflet.js" in page and "unpkg" not in page and "cdn" not in page.lower()


def test_leaflet_is_vendored_with_its_license() -> None:
    from sync_apis.browser.app import HERE

    folder = HERE / "static" / "leaflet"
    assert (
        "BSD 2-Clause License" in (folder / "LICENSE").read_text()
        or "Redistribution" in (folder / "LICENSE").read_text()
    )
    assert (folder / "leaflet.js").read_text().startswith("/* @preserve\n * Leaflet 1.9.4")
