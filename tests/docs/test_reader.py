"""The reference as a client developer reads it, in headless Chromium: languages, layout,
search and Try-it, on the page a running sandbox serves.

Screenshots go to `$SANDBOX_TEST_ARTIFACTS/docs` when that is set (CI keeps them), else
to the test's temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.docs.test_browser import browser, server  # noqa: F401  (the fixtures, shared)

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
    server: str,  # noqa: F811
    browser,  # noqa: ANN001, F811
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
