"""The reference in a real browser: headless Chromium loads /docs from a running sandbox.

Skipped without Chromium, failed under CI (see tests/browser.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import clean_requests

pytestmark = pytest.mark.browser


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

    clean_requests(browser, url, server)
