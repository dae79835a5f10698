"""The newcomer: start the platform as `make run` does, sign in with a real browser, look around.

Runs only with the embedded SQLite default (`--db sqlite`): it starts `digigov up` exactly as
a newcomer would, with its own data home. Needs Debian's chromium and chromium-driver.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
STARTUP_SECONDS = 300  # a first `digigov up` ingests 18 open-data files and imports 622 policy documents
SHOTS = Path(tempfile.gettempdir()) / "digigov-shots"


@dataclass(frozen=True)
class Platform:
    url: str
    password: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _wait_until_up(process: subprocess.Popen[bytes], health: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not _answers(health):
        if process.poll() is not None:
            pytest.fail(f"`digigov up` exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        if time.monotonic() > deadline:
            pytest.fail(f"{health} did not answer within {STARTUP_SECONDS} s:\n{log.read_text(errors='replace')}")
        time.sleep(0.25)


@pytest.fixture
def platform(db_kind: str, tmp_path: Path) -> Iterator[Platform]:
    """`digigov up` in a fresh data home on a free port, stopped after the test."""
    if db_kind != "sqlite":
        pytest.skip("the newcomer test runs the embedded SQLite default once, in the SQLite half")
    command = Path(sys.executable).parent / "digigov"
    assert command.exists(), f"{command} is missing; install the project with `pip install -e .`"
    home, port = tmp_path / "home", _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("DIGIGOV_")}
    env |= {"DIGIGOV_HOME": str(home), "DIGIGOV_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "digigov-up.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(command), "up"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(process, f"{url}/api/v1/health", log)
        yield Platform(url, (home / "demo-password.txt").read_text().strip())
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile, speaking Chinese like the platform's users."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found; install them with `apt-get install chromium chromium-driver`")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"):
        options.add_argument(flag)
    options.add_argument("--disable-dev-shm-usage")
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.add_argument("--window-size=1366,900")
    options.add_argument("--lang=zh-CN")
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver: WebDriver, name: str) -> None:
    """A full-page screenshot, taken without resizing the window (which would move what we click next)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 4000), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    (SHOTS / name).write_bytes(base64.b64decode(shot["data"]))


def _wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    # Elements go stale or missing while a page is replaced; keep waiting through that.
    return WebDriverWait(driver, 20, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def _left_the_login_page(driver: WebDriver) -> bool:
    """The home page has loaded, or the sign-in form shows an error."""
    arrived = "欢迎" in driver.find_element(By.TAG_NAME, "h1").text
    return arrived or bool(driver.find_elements(By.CSS_SELECTOR, ".flash.error"))


def test_newcomer_signs_in_and_sees_the_audit_log(platform: Platform, browser: WebDriver) -> None:
    browser.get(f"{platform.url}/login")
    _shot(browser, "login.png")
    browser.find_element(By.ID, "username").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys(platform.password)
    browser.find_element(By.ID, "login-button").click()

    try:
        _wait(browser).until(_left_the_login_page)
    except TimeoutException:
        pytest.fail(f"no home page after signing in; at {browser.current_url}:\n{browser.page_source}")
    heading = browser.find_element(By.TAG_NAME, "h1")
    assert "欢迎" in heading.text and "平台管理员" in heading.text, browser.page_source
    assert browser.current_url.rstrip("/") == platform.url
    _shot(browser, "home.png")

    browser.get(f"{platform.url}/audit")
    rows = _wait(browser).until(ec.presence_of_all_elements_located((By.CSS_SELECTOR, "#events tbody tr")))
    cells = [[td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in rows]
    assert cells[0][2:5] == ["admin", "浙江省大数据发展管理局", "identity.login_succeeded"], cells[0]
    _shot(browser, "audit.png")

    # The filter swaps only the results (htmx) and keeps the filter in the address bar.
    old_results = browser.find_element(By.ID, "results")
    Select(browser.find_element(By.ID, "kind")).select_by_value("identity.user_created")
    browser.find_element(By.CSS_SELECTOR, "#audit-filter button[type=submit]").click()
    _wait(browser).until(ec.staleness_of(old_results))
    kinds = {td.text for td in browser.find_elements(By.CSS_SELECTOR, "#events tbody tr td:nth-child(5)")}
    assert kinds == {"identity.user_created"}
    assert "kind=identity.user_created" in browser.current_url

    browser.find_element(By.ID, "verify-button").click()
    result = _wait(browser).until(ec.presence_of_element_located((By.ID, "verify-result")))
    assert result.text.startswith("审计链完整：共 ") and result.text.endswith(" 条事件")
    _shot(browser, "audit-verified.png")

    for page, name, expected in [
        ("/admin/departments", "departments.png", "杭州市西湖区市场监督管理局"),
        ("/admin/users", "users.png", "部门数据管理员"),
    ]:
        browser.get(f"{platform.url}{page}")
        table = _wait(browser).until(ec.presence_of_element_located((By.TAG_NAME, "table")))
        assert expected in table.text
        _shot(browser, name)
