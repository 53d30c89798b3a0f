"""In a real browser, at desktop and phone size: an alert e-mail's unsubscribe link opens a
page that asks first (opening it deletes nothing), and its button unsubscribes; a forged link
says so. Nothing is loaded from outside the app."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from recommender.alerts import unsubscribe_link
from tests.api.api_testkit import LiveServer
from tests.browser.browser_kit import console_errors, external_requests, screenshot, wait_for
from tests.browser.conftest import needs_chromium
from tests.recommender.alerts_kit import FIRM


@needs_chromium
def test_the_unsubscribe_link_asks_then_unsubscribes(live: LiveServer, browser: tuple[str, WebDriver]) -> None:
    size, driver = browser
    with live.client() as public:
        made = public.post("/v1/subscriptions", json={"profile": FIRM, "webhook_url": "https://hooks.example.cn/x",
                                                      "consent": True})
        assert made.status_code == 201, made.text
        sub = made.json()
        link = unsubscribe_link(live.url, sub["id"], sub["secret"])

        driver.get(link)
        button = wait_for(driver, lambda d: d.find_element(By.ID, "unsubscribe"))
        heading = driver.find_element(By.TAG_NAME, "h1").text
        assert heading.startswith("退订政策提醒") and "CQ-001" in driver.find_element(By.ID, "main").text
        assert external_requests(driver, live.url) == [] and console_errors(driver) == []
        screenshot(driver, f"unsubscribe-confirm-{size}")
        shown = public.get(f"/v1/subscriptions/{sub['id']}", params={"token": sub["unsubscribe_token"]})
        assert shown.status_code == 200                       # opening the link deleted nothing

        button.click()
        wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "h1").text.startswith("已退订"))
        assert driver.find_element(By.CSS_SELECTOR, "[role=status]").text == "不会再发送提醒，保存的企业信息已删除。"
        assert external_requests(driver, live.url) == [] and console_errors(driver) == []
        screenshot(driver, f"unsubscribe-done-{size}")
        gone = public.get(f"/v1/subscriptions/{sub['id']}", params={"token": sub["unsubscribe_token"]})
        assert gone.status_code == 404

        driver.get(link)                                      # the same link again: nothing left to delete
        wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "h1").text.startswith("链接无效"))
        assert not driver.find_elements(By.ID, "unsubscribe")
