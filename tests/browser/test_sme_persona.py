"""The SME self-check end to end, at desktop and phone size: an auto-parts maker in 渝北区 who
knows neither code types words, 万元 and percentages, answers the follow-up questions until
none is left, and reads a grouped result in Chinese that agrees with the API."""

from __future__ import annotations

import re

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.api.api_testkit import LiveServer
from tests.browser.browser_kit import console_errors, external_requests, screenshot, unlabelled_inputs, wait_for
from tests.browser.sme_kit import (AS_OF, EXPECTED, by_id, answer_all, fill_basics, group_titles, open_page,
                                   shared_state, submit)


def test_the_auto_parts_maker_finishes_the_check(live: LiveServer, browser: tuple[str, WebDriver]) -> None:
    size, driver = browser
    open_page(driver, live.url + "/?as_of=" + AS_OF)       # a fixed evaluation date: windows stay as tested
    assert unlabelled_inputs(driver) == []
    screenshot(driver, f"sme-1-empty-{size}")

    fill_basics(driver)
    assert by_id(driver, "f-region_code").get_attribute("value") == "500112"      # from the credit code
    assert by_id(driver, "industry-picked").text == "已选择：汽车零部件及配件制造（行业代码 C3670）"
    assert by_id(driver, "o-f-revenue").text == "= 48,000,000 元"                 # 4800 万元, shown in yuan
    assert by_id(driver, "warnings").text == ""                                   # plausible figures: no warning
    screenshot(driver, f"sme-2-basics-{size}")

    submit(driver, "check")
    first_round = driver.find_elements(By.CSS_SELECTOR, "#question-list .question")
    assert first_round and unlabelled_inputs(driver) == []
    stakes = [el.find_element(By.CLASS_NAME, "stake").text for el in first_round]
    assert all(s.startswith("关系到") for s in stakes)                            # why each question is asked
    assert not re.search(r"[a-z]+_[a-z]+", by_id(driver, "questions").text)       # never a raw field name
    screenshot(driver, f"sme-3-first-result-{size}")

    asked = answer_all(driver)
    assert len(asked) >= 3 and asked[0][0] == "listed"              # the most valuable question first (¥3,150,000)
    assert by_id(driver, "no-questions").is_displayed() and not by_id(driver, "questions").is_displayed()

    # The page sent the firm in SPEC units: 万元 → yuan, % → fractions, words → codes.
    # (Only what a result asked for is asked: each answer is the persona's figure, converted.)
    answers = shared_state(driver.current_url)["a"]
    assert answers == {k: EXPECTED[k] for k in answers}
    assert set(answers) >= {"region_code", "industry_code", "credit_code", "employees", "revenue", "total_assets",
                            "rd_expense", "rd_staff", "certifications", "taxable_income", "high_tech_revenue_share"}

    # The result agrees with the API for the same profile.
    assert by_id(driver, "as-of").text.startswith(f"评估日期 {AS_OF}。")
    api = httpx.post(live.url + "/v1/match", params={"explain": "true", "top_k": 100, "as_of": AS_OF},
                     json={"firm_id": "self-check", **answers}, timeout=60).json()
    eligible = [m for m in api["matches"] if m["verdict"] == "eligible"]
    assert group_titles(driver, "g-eligible") == [m["title"].split(" / ")[0] for m in eligible]
    counted, unknown = len(api["total_breakdown"]["counted"]), len(api["total_breakdown"]["value_unknown"])
    total = f"{counted} 项政策合计约 ¥{round(api['total_estimated_benefit_per_year']):,}/年"
    assert by_id(driver, "total").text.startswith(total + (f"；另有 {unknown} 项金额未知" if unknown else ""))
    assert counted >= 3

    cards = driver.find_elements(By.CSS_SELECTOR, "#g-eligible article")
    for card in cards:
        text = card.text
        assert re.search(r"约 ¥[\d,]+|金额未知", text) and "申请时间" in text and "如何申请" in text
        assert re.search(r"申请截止 \d{4}-\d{2}-\d{2}（还剩 \d+ 天）|目前可申请，未设截止日期|已截止|起可申请", text)
        assert "eligible" not in text and "met" not in text.split()
    assert "发布部门" in cards[0].text and "怎么算" in cards[0].text
    assert any("申请截止 2027-12-31（还剩 914 天）" in c.text for c in cards)    # 小型微利: counted from the date
    verify = driver.find_elements(By.CSS_SELECTOR, "#g-verify article")
    assert verify and all("待核实" in v.text for v in verify)                   # shown as to verify, never as met
    heading = driver.find_element(By.CSS_SELECTOR, "#g-eligible h3").text
    assert heading.startswith("可以申请")
    assert api["catalog_version"] not in by_id(driver, "results").text and api["model_version"] not in by_id(driver, "results").text
    screenshot(driver, f"sme-4-final-result-{size}")

    assert external_requests(driver, live.url) == []
    assert console_errors(driver) == []
    wait_for(driver, lambda d: d.execute_script("return document.activeElement.id") == "results-heading")

    # The first form folded away into one line once there was a result; it opens again to edit.
    assert not by_id(driver, "basics-body").is_displayed()
    assert by_id(driver, "basics-summary").text == "渝北区 · 汽车零部件及配件制造 · 180 人 · 营业收入 4,800 万元"
    by_id(driver, "edit-basics").click()
    assert by_id(driver, "basics-body").is_displayed()
    assert driver.execute_script("return document.activeElement.id") == "f-credit_code"
