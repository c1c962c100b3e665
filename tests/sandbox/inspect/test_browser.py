"""The inspector in headless Chromium, on a real `sandbox serve` (with its delivery process):
a key opens its company, plain HTTP traffic appears live, a request opens to its headers
and bodies, Resend makes a new attempt at a local receiver, the clock moves a day.

Needs Debian's `chromium` and `chromium-driver`: skipped without them, failed under CI.
Screenshots go to `$SANDBOX_TEST_ARTIFACTS/inspect` when that is set, else to the test's
temporary folder.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser import clean_requests

from ..conftest import BASE
from ..receivers import Receiver
from ..served import banner_key, serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def served(sqlite_url: str) -> Iterator[tuple[str, str]]:
    """A `sandbox serve` on a copy of the seeded database: (its root URL, a starter key)."""
    with serving(sqlite_url) as (port, lines):
        yield f"http://127.0.0.1:{port}", banner_key(lines, "starter")


@pytest.fixture
def shoot(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """save(driver, name): a screenshot of the window as `<test>-<name>.png`; its path."""
    root = os.environ.get("SANDBOX_TEST_ARTIFACTS")
    folder = Path(root) / "inspect" if root else tmp_path
    folder.mkdir(parents=True, exist_ok=True)

    def save(driver: Any, name: str) -> Path:
        path = folder / f"{request.node.name}-{name}.png"
        assert driver.save_screenshot(str(path))
        assert path.stat().st_size > 10_000
        return path

    return save


def wait_for(
    condition: Callable[[], Any], seconds: float = 15, what: str = "", page: Any = None
) -> Any:
    """The first truthy value of `condition()`, polled for up to `seconds`; on timeout the
    error says what `page` (a driver) showed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    shown = page.execute_script("return document.body.innerText") if page is not None else ""
    raise AssertionError(f"waited {seconds} s for {what or condition}; the page showed:\n{shown}")


def css(driver: Any, selector: str) -> list[Any]:
    return driver.find_elements("css selector", selector)


def read(driver: Any, selector: str, attribute: str | None = None) -> str | None:
    """The text (or `attribute`) of the first element `selector` finds now, None if none:
    read in one script, since polled fragments replace their elements."""
    return driver.execute_script(  # type: ignore[no-any-return]
        "const e = document.querySelector(arguments[0]);"
        "return e ? (arguments[1] ? e.getAttribute(arguments[1]) : e.innerText) : null;",
        selector,
        attribute,
    )


# In one script, since the polled lists replace their rows every two seconds.
CLICK = """
const element = document.querySelector(arguments[0]);
if (!element) return false;
element.scrollIntoView({block: 'center'});
element.click();
return true;
"""
CHOOSE = """
const select = document.querySelector(arguments[0]);
select.value = arguments[1];
select.dispatchEvent(new Event('change', {bubbles: true}));
"""
ATTEMPTS = """
const section = document.querySelector(arguments[0]);
return section ? section.querySelectorAll('tr.attempt').length : -1;
"""


def click(driver: Any, selector: str) -> None:
    """Click the first element `selector` finds, once there is one."""
    wait_for(lambda: driver.execute_script(CLICK, selector), what=selector, page=driver)


def delivery_attempts(driver: Any, webhook_id: str) -> int:
    """The attempts the open event shows for its delivery to `webhook_id` (-1: none shown)."""
    section = f'#event-detail section.delivery[data-webhook-id="{webhook_id}"]'
    return int(driver.execute_script(ATTEMPTS, section))


def test_the_inspector_follows_the_companys_traffic(
    browser: Any,  # first: without Chromium, no sandbox is started
    served: tuple[str, str],
    shoot: Callable[[Any, str], Path],
) -> None:
    root, key = served
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"
    company = api.get(f"{root}{BASE}/account", timeout=10).json()["company_name"]

    url = f"{root}/inspect"
    browser.get(url)
    assert browser.title == "Sandbox inspector"
    assert css(browser, "#app")[0].is_displayed() is False
    browser.find_element("id", "key-input").send_keys(key)
    click(browser, "#key-form button[type=submit]")
    wait_for(lambda: read(browser, "#company-name") == company, what="the account", page=browser)
    assert browser.execute_script("return sessionStorage.getItem('sandboxInspectorKey')") == key
    assert browser.get_cookies() == []
    browser.execute_script("window.notReloaded = true")

    # A plain HTTP request shows up in the list without a reload, and opens to its exchange.
    created = api.post(f"{root}{BASE}/crm/contacts", json={"first_name": "Dora"}, timeout=10)
    assert created.status_code == 201
    row = f'#requests tr[data-request-id="{created.headers["X-Request-Id"]}"]'
    wait_for(lambda: css(browser, row), what="the request in the list", page=browser)
    assert browser.execute_script("return window.notReloaded") is True
    click(browser, row)
    wait_for(
        lambda: css(browser, "#request-detail .response-body"),
        what="the request's detail",
        page=browser,
    )
    detail = read(browser, "#request-detail") or ""
    assert '"first_name": "Dora"' in detail
    assert created.json()["id"] in detail
    assert "Content-Type" in detail or "content-type" in detail.lower()
    assert key not in detail
    shoot(browser, "request")

    # Resend: a new attempt at a local receiver, shown under the event's delivery.
    with Receiver(statuses=(500, 200)) as receiver:
        hook = api.post(
            f"{root}{BASE}/webhooks",
            json={"url": receiver.url, "events": ["contact.created"]},
            timeout=10,
        ).json()
        receiver.secret = hook["secret"]
        api.post(f"{root}{BASE}/crm/contacts", json={"first_name": "Eli"}, timeout=10)
        wait_for(lambda: receiver.received, what="the first delivery", page=browser)
        click(browser, '.tab[data-tab="events"]')
        click(browser, "#events tr.row")
        wait_for(
            lambda: delivery_attempts(browser, hook["id"]) == 1, what="one attempt", page=browser
        )
        click(browser, f'section.delivery[data-webhook-id="{hook["id"]}"] button.resend')
        wait_for(lambda: len(receiver.received) == 2, what="the resent delivery", page=browser)
        wait_for(
            lambda: delivery_attempts(browser, hook["id"]) == 2, what="two attempts", page=browser
        )
        assert receiver.received[1].signature_ok
        shoot(browser, "resend")

    # The clock's +1 day button moves the company's clock a day.
    before = api.get(f"{root}{BASE}/sandbox/clock", timeout=10).json()
    shown = read(browser, "#clock-now", "datetime")
    assert shown
    click(browser, '#clock button[data-step="day"]')
    wait_for(
        lambda: read(browser, "#clock-now", "datetime") not in (shown, None),
        what="the clock to move",
        page=browser,
    )
    after = api.get(f"{root}{BASE}/sandbox/clock", timeout=10).json()
    assert after["offset_seconds"] - before["offset_seconds"] == 86400
    shoot(browser, "clock")

    # The business selector: the lists then show the chosen business's records.
    account = api.get(f"{root}{BASE}/account", timeout=10).json()
    other = next(b for b in account["businesses"] if not b["primary"])
    theirs = api.get(
        f"{root}{BASE}/orders", headers={"X-Business-Id": other["id"]}, timeout=10
    ).json()["items"]
    click(browser, '.tab[data-tab="orders"]')
    browser.execute_script(CHOOSE, "#business", other["id"])
    wait_for(
        lambda: read(browser, "#orders tr.row", "data-id") == theirs[0]["id"],
        what="the other business's orders",
        page=browser,
    )
    assert read(browser, "#business option:checked", "value") == other["id"]
    shoot(browser, "business")

    click(browser, "#key-forget")
    stored = browser.execute_script("return Object.keys(sessionStorage)")
    assert [name for name in stored if name.startswith("sandboxInspector")] == []
    assert read(browser, "#orders") == ""
    assert css(browser, "#app")[0].is_displayed() is False

    requested = clean_requests(browser, url, root)
    assert any("/inspect/requests" in u for u in requested)
