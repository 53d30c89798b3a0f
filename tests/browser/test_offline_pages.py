"""In a real browser, /docs and /redoc render the API from assets the app serves (no CDN) and
request nothing from outside the app (the SME page's own checks are in test_sme_*.py). At
desktop size only: these pages are for developers, and rendering them costs ~25 s a size."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.api.api_testkit import LiveServer
from tests.browser.browser_kit import console_errors, external_requests, screenshot, start_chromium, wait_for
from tests.browser.conftest import needs_chromium


@needs_chromium
def test_api_docs_render_offline(live: LiveServer) -> None:
    size, driver = "desktop", start_chromium("desktop")
    try:
        check_docs(live, driver, size)
    finally:
        driver.quit()


def check_docs(live: LiveServer, driver: WebDriver, size: str) -> None:
    driver.get(live.url + "/docs")
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock-tag"))
    tags = [el.text.split("\n")[0] for el in driver.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock-tag")]
    assert "reference" in tags and "match" in tags
    assert external_requests(driver, live.url) == [] and console_errors(driver) == []
    screenshot(driver, f"docs-swagger-{size}", whole=False)

    driver.get(live.url + "/redoc")
    wait_for(driver, lambda d: "/v1/reference/industries" in d.find_element(By.TAG_NAME, "body").text
             or d.find_elements(By.CSS_SELECTOR, "[data-section-id]"))
    assert external_requests(driver, live.url) == [] and console_errors(driver) == []
    screenshot(driver, f"docs-redoc-{size}", whole=False)
