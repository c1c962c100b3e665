"""Headless Chromium for the browser tests: where it is, how it starts, what a page did.

Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them a
browser test is skipped, saying why, except under CI (`CI` set), where it fails. The
`browser` fixture itself is in tests/conftest.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

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


def network_events(driver: Any, since_url: str) -> list[dict[str, Any]]:
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


def clean_requests(driver: Any, since_url: str, origin: str) -> list[str]:
    """The URLs the page requested from `since_url` on, after asserting that the console
    logged no error, no request failed or answered 400 or more, and none left `origin`."""
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
    events = network_events(driver, since_url)
    failed = [e["params"] for e in events if e["method"] == "Network.loadingFailed"]
    assert failed == []
    responses = [
        e["params"]["response"] for e in events if e["method"] == "Network.responseReceived"
    ]
    assert [(r["url"], r["status"]) for r in responses if r["status"] >= 400] == []
    requested = [
        e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"
    ]
    assert [url for url in requested if not url.startswith((origin, "data:"))] == []
    return requested
