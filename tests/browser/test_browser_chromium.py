"""The browser as a person uses it: headless Chromium, a real api-server, Airflow's login form.

Chromium (Debian ``chromium`` + ``chromium-driver``, installed by .ci/run) is driven by Selenium.
The api-server runs on the session's Airflow metadata database, where ``loaded_warehouse``'s
``dag.test()`` runs live, so the run tab opens on real runs. The simple auth manager has a user
with a password (not "all admins"): the test logs in through the form like anyone would, then
opens each page inside the Airflow shell (``/plugin/<url_route>``, an iframe) and compares what
it shows with SQL. Screenshots go to ``test-artifacts/browser/`` (git-ignored).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.support.airflow_stack import REPO, AirflowStack
from tests.support.pg import PgUrl

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SHOTS = REPO / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
USER, PASSWORD = "admin", "chromium-test-password"


class ApiServerOnly(AirflowStack):
    """Just the api-server, on an existing metadata database (not a copy, not dropped at the end)."""

    SERVICES = ("api-server",)

    def __init__(self, pg_server: PgUrl, meta: PgUrl, extra_env: dict[str, str]) -> None:
        super().__init__(pg_server, extra_env=extra_env)
        self._existing_meta = meta

    def _database(self) -> PgUrl:
        return self._existing_meta

    def stop(self) -> None:
        self.meta = None  # the session's database: its fixture drops it
        super().stop()


@pytest.fixture(scope="module")
def server(
    pg_server: PgUrl, airflow_db: PgUrl, loaded_warehouse: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServerOnly]:
    home = tmp_path_factory.mktemp("browser-auth")
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}))
    env = {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW_CONN_SYNC_APIS_DB": loaded_warehouse.url.airflow_conn_json(),
        # Tiles cannot load on this offline machine; the map must draw anyway.
        "AIRFLOW__SYNC_APIS__MAP_TILES_URL": "http://127.0.0.1:9/{z}/{x}/{y}.png",
    }
    with ApiServerOnly(pg_server, airflow_db, env) as stack:
        yield stack


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1500,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


# Each map label: its text, whether it shows, and its box on the screen.
LABEL_BOXES = """
return [...document.querySelectorAll('#map .leaflet-tooltip')].map((el) => {
  const r = el.getBoundingClientRect();
  return {text: el.textContent, shown: getComputedStyle(el).visibility !== 'hidden',
          box: [r.left, r.top, r.right, r.bottom]};
});
"""


def _covered(labels: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The pairs of shown labels whose boxes overlap."""
    shown = [label for label in labels if label["shown"]]
    return [
        (a["text"], b["text"])
        for i, a in enumerate(shown)
        for b in shown[i + 1 :]
        if a["box"][0] < b["box"][2] and b["box"][0] < a["box"][2]
        and a["box"][1] < b["box"][3] and b["box"][1] < a["box"][3]
    ]  # fmt: skip


def _wait(condition: Any, timeout: float = 30, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # the element may not exist yet; retry until the deadline
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}: {last}")


def _shot(driver: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.switch_to.default_content()
    driver.save_screenshot(str(path))
    return path


def _into_plugin_frame(driver: Any, src_part: str) -> None:
    from selenium.webdriver.common.by import By

    def frame() -> Any:
        for f in driver.find_elements(By.TAG_NAME, "iframe"):
            if src_part in (f.get_attribute("src") or ""):
                return f
        return None

    driver.switch_to.default_content()
    driver.switch_to.frame(_wait(frame, what=f"iframe with {src_part}"))


def _open_in_shell(driver: Any, base: str, path: str) -> None:
    """Open a browser page inside the Airflow shell's iframe, as following a link in it would."""
    driver.get(f"{base}/plugin/sync-apis")
    _into_plugin_frame(driver, "/sync-apis/")
    _wait(lambda: driver.execute_script("return document.readyState") == "complete", what="nav page")
    driver.execute_script("window.location.href = arguments[0]", path)
    _wait(lambda: path.split("?")[0] in driver.execute_script("return window.location.pathname"), what=path)
    _wait(lambda: driver.execute_script("return document.readyState") == "complete", what=path)


def test_a_user_logs_in_and_sees_the_warehouse(
    server: ApiServerOnly, driver: Any, loaded_warehouse: Any
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    wh = loaded_warehouse
    base = f"http://127.0.0.1:{server.port}"

    # 1. Anonymous: the nav page sends the browser to Airflow's login form, and back after it.
    driver.get(f"{base}/sync-apis/")
    user_box = _wait(lambda: driver.find_element(By.NAME, "username"), what="the login form")
    user_box.send_keys(USER)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    _shot(driver, "01-login")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(
        lambda: "/sync-apis/" in driver.current_url and driver.find_elements(By.ID, "health"), what="overview"
    )

    # 2. Overview inside the Airflow shell, via the nav entry's route.
    driver.get(f"{base}/plugin/sync-apis")
    _into_plugin_frame(driver, "/sync-apis/")
    table = _wait(lambda: driver.find_element(By.ID, "health"), what="health table")
    for source, stream, received in wh.q(
        "SELECT source, stream, sum(rows_received) FROM sync_meta.sync_runs GROUP BY source, stream, run_id"
    ):
        row = table.find_element(By.CSS_SELECTOR, f'tr[data-source="{source}"][data-stream="{stream}"]')
        assert row.find_element(By.CSS_SELECTOR, "td.received").text == str(received)
        assert row.find_element(By.CSS_SELECTOR, "td.last-day").text == wh.day.isoformat()
    # As of the day after the sandbox day, its cell is green and opens its Airflow run in the shell.
    as_of = (wh.day + timedelta(days=1)).isoformat()
    _open_in_shell(driver, base, f"/sync-apis/?as_of={as_of}")
    cell = _wait(
        lambda: driver.find_element(
            By.CSS_SELECTOR, f'tr[data-stream="positions"] a.day.success[data-day="{wh.day.isoformat()}"]'
        ),
        what="the loaded day in the strip",
    )
    (rows,) = wh.q(
        "SELECT sum(rows_received) FROM sync_meta.sync_runs WHERE stream = 'positions' AND day = %s", wh.day
    )[0]
    assert cell.get_attribute("data-rows") == str(rows)
    _shot(driver, "02-overview")  # (leaves the iframe)
    _into_plugin_frame(driver, "/sync-apis/")
    driver.find_element(
        By.CSS_SELECTOR, f'tr[data-stream="positions"] a.day.success[data-day="{wh.day.isoformat()}"]'
    ).click()
    driver.switch_to.default_content()
    run_path = f"/dags/etrac_daily/runs/{quote(wh.runs['etrac_daily'], safe='')}"
    _wait(lambda: run_path in driver.current_url, what="the Airflow run page in the shell")

    # 3. A table page: positions of one plate on the day, count and plates shown as SQL says.
    (plate,) = wh.q("SELECT min(placa) FROM e_track.routes")[0]
    (count,) = wh.q("SELECT count(*) FROM e_track.positions WHERE placa = %s", plate)[0]
    _open_in_shell(
        driver, base, f"/sync-apis/tables/e_track/positions?f.placa={quote(plate)}&sort=velocidade&dir=desc"
    )
    assert _wait(lambda: driver.find_element(By.CSS_SELECTOR, "#count .exact")).text == str(count)
    cells = driver.find_elements(By.CSS_SELECTOR, '#rows td[data-col="placa"]')
    assert cells and {c.text for c in cells} == {plate}
    speeds = [float(c.text) for c in driver.find_elements(By.CSS_SELECTOR, '#rows td[data-col="velocidade"]')]
    (top,) = wh.q("SELECT max(velocidade) FROM e_track.positions WHERE placa = %s", plate)[0]
    assert speeds[0] == top and speeds == sorted(speeds, reverse=True)
    _shot(driver, "03-table-positions")

    # 4. The run tab of each DAG's run, inside the run's page in the Airflow shell.
    for dag_id, run_id in wh.runs.items():
        driver.get(f"{base}/dags/{dag_id}/runs/{quote(run_id, safe='')}/plugin/sync-apis-run")
        _into_plugin_frame(driver, "/sync-apis/run")
        _wait(lambda: driver.find_elements(By.ID, "run-rows"), what=f"run tab of {dag_id}")
        shown = {c.text for c in driver.find_elements(By.CSS_SELECTOR, '#run-rows td[data-col="task_id"]')}
        tasks = {
            t for (t,) in wh.q("SELECT DISTINCT task_id FROM sync_meta.sync_runs WHERE run_id = %s", run_id)
        }
        assert shown == tasks, (dag_id, shown, tasks)
        _shot(driver, f"04-run-tab-{dag_id}")

    # 5. Vehicle day, tiles unreachable: the route, stops and scale bar still draw.
    _open_in_shell(driver, base, f"/sync-apis/vehicle?placa={quote(plate)}&day={wh.day.isoformat()}")
    _wait(lambda: driver.find_element(By.ID, "map").get_attribute("data-drawn"), what="map drawn")
    (points,) = wh.q(
        "SELECT point_count FROM e_track.routes WHERE placa = %s AND rota_date = %s", plate, wh.day
    )[0]
    assert driver.find_element(By.ID, "fig-points").text == str(points)
    assert driver.find_elements(By.CSS_SELECTOR, "#map .leaflet-control-scale-line")
    assert driver.find_elements(By.CSS_SELECTOR, "#map path.leaflet-interactive, #map canvas")
    _shot(driver, "05-vehicle-day-offline")

    # 6. Fleet now: every terminal listed, each with a marker on the (tile-less) map.
    _open_in_shell(driver, base, "/sync-apis/fleet")
    terminals = wh.q("SELECT placa, latitude IS NOT NULL FROM e_track.terminals ORDER BY placa")
    _wait(lambda: driver.find_element(By.ID, "map").get_attribute("data-drawn"), what="fleet map drawn")
    listed = [r.get_attribute("data-plate") for r in driver.find_elements(By.CSS_SELECTOR, "#fleet tbody tr")]
    assert listed == [p for p, _ in terminals]
    assert driver.find_element(By.ID, "map").get_attribute("data-drawn") == str(
        sum(1 for _, has in terminals if has)
    )
    # The list beside the map fits its panel: no status cut off behind a sideways scroll bar.
    side = driver.find_element(By.CSS_SELECTOR, ".side")
    widths = driver.execute_script("return [arguments[0].scrollWidth, arguments[0].clientWidth]", side)
    assert widths[0] <= widths[1], f"the fleet list is {widths[0]} px wide in a {widths[1]} px panel"
    # Every vehicle on the map has its label; where labels would cover each other, only one shows.
    labels = driver.execute_script(LABEL_BOXES)
    assert sorted(label["text"] for label in labels) == sorted(p for p, has in terminals if has)
    assert any(label["shown"] for label in labels)
    covered = _covered(labels)
    assert covered == [], f"labels drawn over each other: {covered}"
    _shot(driver, "06-fleet-now")
    # A hidden label shows while its marker is hovered (the marker sits just left of its label),
    # and the one it would cover steps aside meanwhile.
    _into_plugin_frame(driver, "/sync-apis/")
    the_map = driver.find_element(By.ID, "map")
    m_left, m_top, m_right, m_bottom = driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]", the_map
    )
    # The sandbox's fleet has two vehicles close enough (BYF9M59, SGJ5774) for this to be tested.
    hidden = next(label for label in labels if not label["shown"])
    left, top, _, bottom = hidden["box"]
    # Selenium offsets are from the element's centre.
    x, y = left - 10 - (m_left + m_right) / 2, (top + bottom) / 2 - (m_top + m_bottom) / 2
    ActionChains(driver).move_to_element_with_offset(the_map, int(x), int(y)).perform()
    _wait(
        lambda: {b["text"]: b["shown"] for b in driver.execute_script(LABEL_BOXES)}[hidden["text"]],
        timeout=5,
        what=f"the label {hidden['text']} on hover",
    )
    covered = _covered(driver.execute_script(LABEL_BOXES))
    assert covered == [], f"labels drawn over each other while {hidden['text']} is hovered: {covered}"
    _shot(driver, "06b-fleet-now-hover")

    # 7. Auvo day: the day's task ids, then one task's page through its link.
    _open_in_shell(driver, base, f"/sync-apis/auvo?day={wh.day.isoformat()}")
    start = f"{wh.day.isoformat()} 00:00-03:00"
    expected = [
        str(t)
        for (t,) in wh.q(
            "SELECT task_id FROM auvo.tasks WHERE task_date >= %s::timestamptz "
            "AND task_date < %s::timestamptz + interval '1 day' ORDER BY task_date, task_id",
            start,
            start,
        )
    ]
    shown = [r.get_attribute("data-task") for r in driver.find_elements(By.CSS_SELECTOR, "#tasks tbody tr")]
    assert shown == expected and shown
    _shot(driver, "07-auvo-day")
    driver.switch_to.default_content()
    _into_plugin_frame(driver, "/sync-apis/")
    driver.find_element(By.CSS_SELECTOR, f'#tasks tr[data-task="{expected[0]}"] a').click()
    status = _wait(lambda: driver.find_element(By.ID, "task-status"), what="task page")
    (code,) = wh.q("SELECT task_status FROM auvo.tasks WHERE task_id = %s", int(expected[0]))[0]
    pt = {1: "Aberta", 2: "Em deslocamento", 3: "Check-in", 4: "Check-out", 5: "Finalizada", 6: "Pausada"}
    en = {1: "Opened", 2: "In displacement", 3: "Checked in", 4: "Checked out", 5: "Finished", 6: "Paused"}
    # Headless Chromium asks for English (Accept-Language); either language is the right status.
    assert status.text in (pt[code], en[code])
    _shot(driver, "08-auvo-task")
