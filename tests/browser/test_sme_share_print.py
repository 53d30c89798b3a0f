"""The SME result leaves the page whole: a share link (answers in the URL fragment, nothing
stored on the server) reproduces it in a fresh browser, and the print view shows the result
without the form."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.api.api_testkit import LiveServer
from tests.browser.browser_kit import console_errors, external_requests, screenshot, start_chromium, wait_for
from tests.browser.sme_kit import EXPECTED, by_id, group_titles, share_link, shared_state

ANSWERS = {k: EXPECTED[k] for k in ("region_code", "industry_code", "employees", "revenue", "total_assets",
                                     "rd_expense", "rd_staff", "certifications", "taxable_income",
                                     "vat_credit_balance", "tax_credit_rating")}


def open_result(driver: WebDriver, url: str) -> None:
    driver.get(url)
    wait_for(driver, lambda d: d.execute_script(
        "const r = document.getElementById('results');"
        "return !r.hidden && r.getAttribute('aria-busy') === 'false'"))


def result_view(driver: WebDriver) -> tuple[str, list[str], list[str]]:
    return by_id(driver, "total").text, group_titles(driver, "g-eligible"), group_titles(driver, "g-verify")


def test_a_share_link_reproduces_the_result_in_a_fresh_browser(live: LiveServer, browser: tuple[str, WebDriver]) -> None:
    size, driver = browser
    open_result(driver, live.url + "/" + share_link(ANSWERS, "汽车零部件及配件制造"))
    assert by_id(driver, "f-revenue").get_attribute("value") == "4800"           # read back into the form, in 万元
    assert by_id(driver, "f-industry_code").get_attribute("value") == "汽车零部件及配件制造"
    view = result_view(driver)
    assert view[1] and "项政策合计约 ¥" in view[0]

    by_id(driver, "share").click()
    wait_for(driver, lambda d: d.find_elements(By.ID, "share-link"))
    link = by_id(driver, "share-link").get_attribute("href")
    assert shared_state(link)["a"] == ANSWERS and "4800" not in link.split("#")[0]   # the figures only after '#'

    fresh = start_chromium(size)
    try:
        open_result(fresh, link)
        assert result_view(fresh) == view
        assert by_id(fresh, "f-region_code").get_attribute("value") == "500112"
        assert external_requests(fresh, live.url) == [] and console_errors(fresh) == []
        screenshot(fresh, f"sme-5-shared-link-{size}")
    finally:
        fresh.quit()


def test_print_shows_the_result_without_the_form(live: LiveServer, browser: tuple[str, WebDriver]) -> None:
    size, driver = browser
    open_result(driver, live.url + "/" + share_link(ANSWERS))
    driver.execute_script("window.printed = 0; window.print = () => { window.printed += 1; };")
    by_id(driver, "print").click()
    assert driver.execute_script("return window.printed") == 1                 # the browser's print (and PDF) dialog
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    driver.execute_script("window.dispatchEvent(new Event('beforeprint'));")
    try:
        assert not by_id(driver, "basics").is_displayed() and not by_id(driver, "print").is_displayed()
        assert not driver.find_element(By.CSS_SELECTOR, "header.site").is_displayed()
        assert by_id(driver, "total").is_displayed() and group_titles(driver, "g-eligible")
        refs = driver.find_elements(By.CSS_SELECTOR, "#g-eligible details")
        assert refs and all(d.get_attribute("open") is not None for d in refs)    # references printed open
        screenshot(driver, f"sme-6-print-{size}")
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
