"""A steward uploads a file in a real browser: the progress bar moves, then the report shows.

The app runs under uvicorn on loopback, in a thread, on its own SQLite database and data home
(the browser needs committed rows, which the rolled-back test session cannot give it); it runs
once, in the SQLite half. The browser's upload is throttled through DevTools so that a few
megabytes take a few seconds and the progress bar has time to move. Needs Debian's chromium
and chromium-driver. Screenshots go to /tmp/shots/upload-*.png.
"""

from __future__ import annotations

import base64
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from digigov.app import create_app
from digigov.catalog import service as catalog
from digigov.catalog.schemas import ResourceCreate
from digigov.core import migrate
from digigov.core.config import Settings
from digigov.core.db import make_engine, unit_of_work
from digigov.demo import load_demo, load_reference_data
from tests.catalog.test_service import dept
from tests.conftest import DEMO_PASSWORD, actor_named

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SHOTS = Path(tempfile.gettempdir()) / "shots"
RESOURCE = "hz-upload-progress"
UPLOAD_BYTES_PER_SECOND = 2 * 1024 * 1024
STARTUP_SECONDS = 30

# Every text the status line shows and whether the button was disabled then, in order: a
# MutationObserver sees each change, however briefly it stays on screen.
RECORD_STATUS = """
window.uploadSeen = [];
new MutationObserver(function (records) {
  records.forEach(function (record) {
    record.addedNodes.forEach(function (node) {
      if (node.nodeType === Node.TEXT_NODE && node.parentNode && node.parentNode.id === "upload-text") {
        var button = document.getElementById("upload-button");
        window.uploadSeen.push([node.data, Boolean(button && button.disabled)]);
      }
    });
  });
}).observe(document.body, {childList: true, subtree: true});
"""


@dataclass(frozen=True)
class Platform:
    url: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def platform(db_kind: str, tmp_path: Path) -> Iterator[Platform]:
    """The app on a free loopback port, with the demo users and a draft resource of the steward's."""
    if db_kind != "sqlite":
        pytest.skip("the upload browser test serves its own SQLite database; it runs once, in the SQLite half")
    engine = make_engine(f"sqlite:///{tmp_path / 'upload.db'}")
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        load_reference_data(session)
        load_demo(session, password=DEMO_PASSWORD)
        body = {"code": RESOURCE, "title": "市场主体名录（上传进度测试）", "department_id": dept(session, "HZ-SJJ")}
        catalog.create_resource(session, actor_named(session, "steward"), ResourceCreate.model_validate(body))
    app = create_app(Settings(home=tmp_path / "home", demo=True), engine=engine)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"uvicorn did not start on 127.0.0.1:{port} within {STARTUP_SECONDS} s")
        time.sleep(0.05)
    try:
        yield Platform(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        engine.dispose()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile, speaking Chinese like the platform's users."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not found; install them with `apt-get install chromium chromium-driver`")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"):
        options.add_argument(flag)
    options.add_argument("--disable-dev-shm-usage")
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.add_argument("--window-size=1366,900")
    options.add_argument("--lang=zh-CN")
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    # Native controls (the file chooser's button) follow the UI language; with Debian's
    # chromium-l10n installed they read 选择文件 as a Chinese user's browser does.
    env = dict(os.environ, LANGUAGE="zh_CN")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER), env=env), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver: WebDriver, name: str) -> None:
    """A full-page screenshot, taken without resizing the window."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 4000), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    (SHOTS / name).write_bytes(base64.b64decode(shot["data"]))


def _wait(driver: WebDriver, seconds: float = 60) -> WebDriverWait[WebDriver]:
    # Elements go stale or missing while htmx swaps the page; keep waiting through that.
    return WebDriverWait(driver, seconds, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def _sign_in_as_steward(driver: WebDriver, url: str) -> None:
    driver.get(f"{url}/login")
    driver.find_element(By.ID, "username").send_keys("steward")
    driver.find_element(By.ID, "password").send_keys(DEMO_PASSWORD)
    driver.find_element(By.ID, "login-button").click()
    _wait(driver).until(lambda d: "欢迎" in d.find_element(By.TAG_NAME, "h1").text)


def _throttle_uploads(driver: WebDriver) -> None:
    driver.execute_cdp_cmd("Network.enable", {})
    conditions = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": UPLOAD_BYTES_PER_SECOND}
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", conditions)


def _write_csv(path: Path, megabytes: int) -> Path:
    """A register of a few megabytes: enough rows that sending them takes a while."""
    lines = ["统一社会信用代码,名称,注册资本（万元）,成立日期"]
    row = 0
    size = 0
    while size < megabytes * 1024 * 1024:
        line = f"91330100MA{row:08d},杭州示例企业第{row}号有限公司,{row % 9000 + 10}.5,2021-{row % 12 + 1:02d}-15"
        lines.append(line)
        size += len(line.encode()) + 1
        row += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _upload(driver: WebDriver, file: Path) -> None:
    driver.execute_script(RECORD_STATUS)
    driver.find_element(By.CSS_SELECTOR, "#upload-form input[type=file]").send_keys(str(file))
    driver.find_element(By.ID, "upload-button").click()


def _status(driver: WebDriver) -> dict[str, Any]:
    return dict(
        driver.execute_script(
            "var bar = document.getElementById('upload-progress');"
            "return {shown: !document.getElementById('upload-status').hidden,"
            " value: bar.hasAttribute('value') ? bar.value : null,"
            " text: document.getElementById('upload-text').textContent,"
            " disabled: document.getElementById('upload-button').disabled};"
        )
    )


def _mid_upload(driver: WebDriver) -> bool:
    status = _status(driver)
    return bool(status["shown"] and status["value"] and 0 < status["value"] < 100)


def test_steward_sees_upload_progress_then_the_report(platform: Platform, browser: WebDriver, tmp_path: Path) -> None:
    _sign_in_as_steward(browser, platform.url)
    page = f"{platform.url}/catalog/{RESOURCE}/data"
    browser.get(page)
    assert "还没有数据版本" in browser.page_source
    _throttle_uploads(browser)
    _upload(browser, _write_csv(tmp_path / "市场主体名录.csv", megabytes=6))

    _wait(browser).until(_mid_upload)
    status = _status(browser)
    assert status["disabled"], "the button must be disabled while the file goes up"
    assert status["text"].startswith("已上传 ") and " MB / " in status["text"] and status["text"].endswith("%）")
    _shot(browser, "upload-progress.png")

    _wait(browser, 120).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".flash.ok"))
    assert browser.find_element(By.CSS_SELECTOR, ".flash.ok").text == "已导入为第 1 版。"
    assert "第 1 版导入报告" in browser.find_element(By.ID, "data-page").text
    assert browser.current_url == f"{page}?done=1"
    peak = int(browser.find_element(By.ID, "data-page").get_attribute("data-upload-peak") or 0)
    assert peak > 0
    seen = browser.execute_script("return window.uploadSeen")
    texts = [text for text, _ in seen]
    moving = [t for t in texts if t.startswith("已上传 ") and not t.endswith("（100%）")]
    assert len(moving) >= 2, texts
    assert ["正在读取、校验并保存为新版本…", True] in seen, seen
    assert texts.index("正在读取、校验并保存为新版本…") > texts.index(moving[-1])
    assert not _status(browser)["shown"] and not _status(browser)["disabled"]
    _shot(browser, "upload-report.png")


def test_a_refused_upload_shows_why_and_resets_the_form(platform: Platform, browser: WebDriver, tmp_path: Path) -> None:
    _sign_in_as_steward(browser, platform.url)
    browser.get(f"{platform.url}/catalog/{RESOURCE}/data")
    empty = tmp_path / "空文件.csv"
    empty.write_bytes(b"")
    _upload(browser, empty)

    error = _wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, "#data-page > .flash.error"))
    assert "空" in error.text
    assert error.location["y"] < browser.find_element(By.ID, "upload-form").location["y"]
    assert browser.current_url == f"{platform.url}/catalog/{RESOURCE}/data"
    status = _status(browser)
    assert not status["shown"] and status["value"] == 0 and not status["disabled"]
    assert "还没有数据版本" in browser.find_element(By.ID, "data-page").text
    _shot(browser, "upload-refused.png")


def test_an_answer_that_is_not_the_page_is_summarised_above_the_form(
    platform: Platform, browser: WebDriver, tmp_path: Path
) -> None:
    _sign_in_as_steward(browser, platform.url)
    browser.get(f"{platform.url}/catalog/{RESOURCE}/data")
    browser.execute_script("document.querySelector('#upload-form input[name=csrf]').value = 'stale';")
    _upload(browser, _write_csv(tmp_path / "名录.csv", megabytes=1))

    failure = _wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, ".upload-failure"))
    assert failure.text == "导入失败（HTTP 403）：表单安全令牌缺失或已过期，请刷新页面后重试。"
    assert failure.location["y"] < browser.find_element(By.ID, "upload-form").location["y"]
    status = _status(browser)
    assert not status["shown"] and not status["disabled"]
    assert "还没有数据版本" in browser.find_element(By.ID, "data-page").text
    _shot(browser, "upload-stale-token.png")
