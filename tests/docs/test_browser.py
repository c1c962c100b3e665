"""The reference in a real browser: headless Chromium loads /docs from a running sandbox.

Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them
the test is skipped, saying why, except under CI (`CI` set), where it fails.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1440,1000",
)


def ensure_chromium() -> None:
    """Skip when chromium or its driver is missing; fail under CI, whose `.ci/run` installs them."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    reason = f"{CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install chromium chromium-driver"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A sandbox served over HTTP on a free loopback port; yields its root URL."""
    from werkzeug.serving import make_server

    from sandbox.config import SandboxConfig
    from sandbox.http.app import create_app

    config = SandboxConfig(database_url=f"sqlite:///{tmp_path}/s.db", webhook_worker=False)
    http = make_server("127.0.0.1", 0, create_app(config), threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path: Path):  # noqa: ANN201 - selenium is imported only when Chromium exists
    ensure_chromium()
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def network_events(driver, since_url: str) -> list[dict]:  # noqa: ANN001
    """The DevTools network events from the request for `since_url` on.

    Earlier events belong to the browser's own start page, not to what we test.
    """
    events = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
    events = [event for event in events if event["method"].startswith("Network.")]
    starts = [
        index
        for index, event in enumerate(events)
        if event["method"] == "Network.requestWillBeSent"
        and event["params"]["request"]["url"] == since_url
    ]
    assert starts, f"no request for {since_url} was logged"
    return events[starts[0] :]


def test_docs_load_without_errors(server: str, browser, tmp_path: Path) -> None:  # noqa: ANN001
    from selenium.webdriver.support.wait import WebDriverWait

    url = f"{server}/docs"
    browser.get(url)
    assert browser.execute_script("return document.readyState") == "complete"
    assert browser.title == "Platform API reference"

    # The sidebar is live: following a link scrolls there and marks it as the current one.
    browser.find_element("css selector", '.sidebar a[href="#createPayment"]').click()
    assert browser.execute_script("return location.hash") == "#createPayment"
    # The page marks the link once it has scrolled there: wait for that, up to 5 s.
    active = '.sidebar a.active[href="#createPayment"]'
    WebDriverWait(browser, 5).until(lambda b: b.find_elements("css selector", active))
    curl = browser.find_element("id", "createPayment").text
    assert f'curl -X POST "{server}/api/v1/payments"' in curl

    screenshot = tmp_path / "docs.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000

    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
    events = network_events(browser, url)
    failed = [e["params"] for e in events if e["method"] == "Network.loadingFailed"]
    assert failed == []
    responses = [
        e["params"]["response"] for e in events if e["method"] == "Network.responseReceived"
    ]
    assert [(r["url"], r["status"]) for r in responses if r["status"] >= 400] == []
    requested = [
        e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"
    ]
    assert [url for url in requested if not url.startswith((server, "data:"))] == []
