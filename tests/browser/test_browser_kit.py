"""The browser kit itself: Chromium starts at both sizes, loads a page the app serves, and the
kit's checks see what they claim to (an external request, an unlabelled input)."""

from __future__ import annotations

from selenium.webdriver.remote.webdriver import WebDriver

from tests.api.api_testkit import LiveServer
from tests.browser.browser_kit import SIZES, external_requests, screenshot, unlabelled_inputs, wait_for


def test_the_browser_opens_the_app_at_its_size(live: LiveServer, browser: tuple[str, WebDriver]) -> None:
    size, driver = browser
    driver.get(live.url + "/static/common.css")          # served by the app, like every asset
    wait_for(driver, lambda d: ":root" in d.page_source)
    driver.execute_script("""document.head.innerHTML = '<meta name="viewport" content="width=device-width">';""")
    assert driver.execute_script("return window.innerWidth") == SIZES[size][0]
    assert external_requests(driver, live.url) == []
    assert screenshot(driver, f"kit-healthz-{size}").stat().st_size > 0


def test_the_checks_see_external_loads_and_unlabelled_inputs(live: LiveServer, browser: tuple[str, WebDriver]) -> None:
    _, driver = browser
    driver.get(live.url + "/healthz")
    driver.execute_script("""
        document.body.innerHTML = '<label for="a">A</label><input id="a"><input id="b">';""")
    assert len(unlabelled_inputs(driver)) == 1 and 'id="b"' in unlabelled_inputs(driver)[0]
    driver.execute_script("performance.mark('x'); const i = new Image(); i.src = 'http://127.0.0.2:9/x.png';")
    wait_for(driver, lambda d: external_requests(d, live.url), timeout=10)
    assert external_requests(driver, live.url) == ["http://127.0.0.2:9/x.png"]
