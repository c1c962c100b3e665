"""The reference as a client developer reads it, in headless Chromium: languages, layout,
search and Try-it, on the page a running sandbox serves.

Screenshots go to `$SANDBOX_TEST_ARTIFACTS/docs` when that is set (CI keeps them), else
to the test's temporary folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from selenium.webdriver.support.wait import WebDriverWait

pytestmark = pytest.mark.browser

VISIBLE_SAMPLES = """
return [...document.querySelectorAll('.code.request')].map(panel =>
  [...panel.querySelectorAll('pre.sample')]
    .filter(pre => pre.getClientRects().length > 0)
    .map(pre => pre.dataset.lang).join(','));
"""


@pytest.fixture
def shoot(tmp_path: Path, request: pytest.FixtureRequest):  # noqa: ANN201
    """save(driver, name): a screenshot of the window as `<test>-<name>.png`; its path."""
    root = os.environ.get("SANDBOX_TEST_ARTIFACTS")
    folder = Path(root) / "docs" if root else tmp_path
    folder.mkdir(parents=True, exist_ok=True)

    def save(driver, name: str) -> Path:  # noqa: ANN001
        path = folder / f"{request.node.name}-{name}.png"
        assert driver.save_screenshot(str(path))
        assert path.stat().st_size > 10_000
        return path

    return save


def click(driver, selector: str) -> None:  # noqa: ANN001
    """Scroll the first element `selector` finds to the middle of the window and click it."""
    element = driver.find_element("css selector", selector)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def severe_console_entries(driver) -> list[dict]:  # noqa: ANN001
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_the_language_switch_changes_every_sample_and_is_remembered(
    server: str,
    browser,  # noqa: ANN001
    shoot,  # noqa: ANN001
) -> None:
    browser.get(f"{server}/docs")
    shown = browser.execute_script(VISIBLE_SAMPLES)
    assert len(shown) > 76
    assert set(shown) == {"curl"}

    click(browser, '#createPayment .lang[data-lang="python"]')
    assert set(browser.execute_script(VISIBLE_SAMPLES)) == {"python"}
    assert "requests.post(" in browser.find_element("css selector", "#createPayment .code").text
    shoot(browser, "python")

    browser.refresh()
    assert set(browser.execute_script(VISIBLE_SAMPLES)) == {"python"}
    click(browser, '#listContacts .lang[data-lang="javascript"]')
    assert set(browser.execute_script(VISIBLE_SAMPLES)) == {"javascript"}
    assert severe_console_entries(browser) == []


# Each table and code block of the page, with what overflows: the element past its column's
# right edge, a block that scrolls sideways, or a cell whose content is wider than the cell.
OVERFLOWS = """
const column = el => el.closest('.prose, .samples, .tag, main');
const label = el => (el.closest('[id]') || {}).id + ' ' + el.tagName.toLowerCase() + ': '
  + el.textContent.trim().slice(0, 40);
const found = [];
const shown = [...document.querySelectorAll(
  'table, .table-wrap, .code pre, .code, .magic')].filter(el => el.getClientRects().length);
for (const el of shown) {
  const box = el.getBoundingClientRect(), limit = column(el).getBoundingClientRect();
  if (box.right > limit.right + 1) found.push('past its column: ' + label(el));
  if (el.scrollWidth > el.clientWidth + 1) found.push('scrolls sideways: ' + label(el));
}
for (const cell of document.querySelectorAll('td, th')) {
  if (cell.getClientRects().length && cell.scrollWidth > cell.clientWidth + 1)
    found.push('wider than its cell: ' + label(cell));
}
return {checked: shown.length, found: found};
"""


@pytest.mark.parametrize("width", [1024, 1400])
def test_no_table_or_code_block_overflows_its_column(
    server: str,
    browser,  # noqa: ANN001
    shoot,  # noqa: ANN001
    width: int,
) -> None:
    browser.set_window_size(width, 900)
    browser.get(f"{server}/docs")
    for language in ("curl", "python", "javascript"):
        click(browser, f'#createInvoice .lang[data-lang="{language}"]')
        result = browser.execute_script(OVERFLOWS)
        assert result["checked"] > 500
        assert result["found"] == [], f"{len(result['found'])} overflow at {width} px"
    browser.execute_script("document.getElementById('test-mode').scrollIntoView()")
    shoot(browser, "test-mode")


def test_the_test_mode_tables_use_the_full_width_at_1400_px(
    server: str,
    browser,  # noqa: ANN001
) -> None:
    browser.set_window_size(1400, 900)
    browser.get(f"{server}/docs")
    widths = browser.execute_script(
        "const main = document.querySelector('main').getBoundingClientRect().width;"
        "return [...document.querySelectorAll('#test-mode .table-wrap')]"
        ".map(wrap => wrap.getBoundingClientRect().width / main);"
    )
    assert widths and min(widths) > 0.85


def test_the_mobile_layout_fits_the_screen_and_its_menu_opens(
    server: str,
    browser,  # noqa: ANN001
    shoot,  # noqa: ANN001
) -> None:
    browser.set_window_size(400, 800)
    browser.get(f"{server}/docs")
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    sidebar = browser.find_element("id", "sidebar")
    assert sidebar.rect["x"] + sidebar.rect["width"] <= 0  # hidden behind the menu button
    browser.find_element("css selector", ".menu").click()
    WebDriverWait(browser, 5).until(lambda b: sidebar.rect["x"] >= 0)
    shoot(browser, "menu")


RESULTS = """
return [...document.querySelectorAll('#search-results li[role=option] a')].map(a =>
  [a.querySelector('.result-kind').textContent, a.querySelector('.result-title').textContent,
   a.getAttribute('href')]);
"""
IN_VIEW = """
const box = document.getElementById(arguments[0]).getBoundingClientRect();
return box.top >= 0 && box.bottom <= window.innerHeight;
"""


def test_search_finds_a_field_as_you_type_and_jumps_to_it(
    server: str,
    browser,  # noqa: ANN001
    shoot,  # noqa: ANN001
) -> None:
    from selenium.webdriver.common.keys import Keys

    browser.get(f"{server}/docs")
    body = browser.find_element("tag name", "body")
    body.send_keys("/")  # the keyboard way in
    assert browser.switch_to.active_element.get_attribute("id") == "search"
    browser.switch_to.active_element.send_keys("amount_refun")
    results = browser.execute_script(RESULTS)
    assert results[0][:2] == ["Field", "amount_refunded"]
    shoot(browser, "results")

    browser.switch_to.active_element.send_keys(Keys.ENTER)
    anchor = results[0][2].removeprefix("#")
    assert browser.execute_script("return location.hash") == results[0][2]
    WebDriverWait(browser, 5).until(lambda b: b.execute_script(IN_VIEW, anchor))
    row = browser.find_element("id", anchor)
    assert row.tag_name == "tr" and "amount_refunded" in row.text
    assert browser.find_element("id", "search-results").get_attribute("hidden")
    shoot(browser, "landed")
    assert severe_console_entries(browser) == []


@pytest.mark.parametrize(
    ("query", "kind", "title"),
    [
        ("refund", "Operation", "Create a refund"),
        ("insufficient funds", "Test value", "pm_card_chargeDeclinedInsufficientFunds"),
        ("rate_limit", "Error code", "rate_limit_exceeded"),
        ("paymentcreate", "Schema", "PaymentCreate"),
    ],
)
def test_the_static_build_searches_without_a_server(
    tmp_path: Path,
    browser,  # noqa: ANN001
    query: str,
    kind: str,
    title: str,
) -> None:
    from sandbox.cli import main

    assert main(["docs", "build", "-o", str(tmp_path / "built")]) == 0
    browser.get((tmp_path / "built" / "index.html").as_uri())
    box = browser.find_element("id", "search")
    box.send_keys(query)
    results = browser.execute_script(RESULTS)
    assert [kind, title] in [result[:2] for result in results[:5]]
    href = next(r[2] for r in results if r[:2] == [kind, title])
    assert browser.find_elements("id", href.removeprefix("#"))


def try_it(driver, operation_id: str) -> str:  # noqa: ANN001
    """Send an operation's Try-it form as it stands; the status line it shows."""
    panel = f"#{operation_id} details.try"
    if not driver.find_element("css selector", panel).get_attribute("open"):
        click(driver, f"{panel} > summary")
    click(driver, f"{panel} .try-send")
    status = driver.find_element("css selector", f"{panel} .try-status")
    WebDriverWait(driver, 10).until(lambda _: status.text.strip())
    return status.text


def test_try_it_sends_the_example_with_the_pasted_key_and_shows_the_answer(
    tmp_path: Path,
    browser,  # noqa: ANN001
    shoot,  # noqa: ANN001
) -> None:
    from tests.sandbox.served import banner_key, serving

    with serving(f"sqlite:///{tmp_path}/try.db") as (port, lines):
        key = banner_key(lines)
        browser.get(f"http://127.0.0.1:{port}/docs")
        click(browser, "#createContact details.try > summary")
        browser.find_element("css selector", "#createContact .try-key").send_keys(key)
        assert try_it(browser, "createContact").startswith("201 ")
        panel = browser.find_element("css selector", "#createContact details.try")
        created = json.loads(panel.find_element("css selector", ".try-response").text)
        assert created["id"].startswith("con_")
        headers = panel.find_element("css selector", ".try-headers").get_attribute("textContent")
        assert "x-request-id: req_" in headers and "x-ratelimit-remaining" in headers
        shoot(browser, "created")

        # The key is shared by every panel and kept for this tab only.
        storage = "return [sessionStorage.getItem('reference-key'), Object.values(localStorage)]"
        session, kept = browser.execute_script(storage)
        assert session == key and key not in kept
        field = '#getContact input[data-name="contact_id"]'
        browser.execute_script(
            f"document.querySelector('{field}').value = arguments[0]", created["id"]
        )
        assert try_it(browser, "getContact").startswith("200 ")
        fetched = browser.find_element("css selector", "#getContact .try-response").text
        assert json.loads(fetched)["id"] == created["id"]

        # An edited body is what is sent: a bad value comes back as the documented 422.
        body = browser.find_element("css selector", "#createOrder .try-body")
        browser.execute_script("arguments[0].value = '{\"amount\": -5}'", body)
        assert try_it(browser, "createOrder").startswith("422 ")
        assert "validation_error" in browser.find_element("css selector", "#createOrder").text
        # Chromium logs the 422 it was sent as a failed resource; nothing else may be logged.
        logged = severe_console_entries(browser)
        assert [entry for entry in logged if "status of 422" not in entry["message"]] == []


def test_the_static_build_has_no_try_it_panel(built) -> None:  # noqa: ANN001
    assert 'details class="try"' not in built.html
    assert 'class="try-send"' not in built.html
