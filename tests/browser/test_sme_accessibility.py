"""The SME page by keyboard and screen reader: every input labelled, a wrong field marked
(aria-invalid, a Chinese message naming it) and focused, focus moved to the results, and
plausibility warnings that warn without blocking."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.api.api_testkit import LiveServer
from tests.browser.browser_kit import console_errors, screenshot, unlabelled_inputs, wait_for
from tests.browser.sme_kit import by_id, open_page, pick_industry, questions, shared_state, submit


def active_id(driver: WebDriver) -> str:
    return str(driver.execute_script("return document.activeElement.id"))


def test_errors_are_marked_named_in_chinese_and_focused(live: LiveServer, browser: tuple[str, WebDriver]) -> None:
    size, driver = browser
    open_page(driver, live.url + "/")
    by_id(driver, "f-revenue").send_keys("六千")
    by_id(driver, "check").click()
    wait_for(driver, lambda d: by_id(d, "form-errors").is_displayed())
    assert active_id(driver) == "f-region_code"                                  # the first invalid field
    assert by_id(driver, "f-region_code").get_attribute("aria-invalid") == "true"
    assert by_id(driver, "f-industry_code").get_attribute("aria-invalid") == "true"
    assert by_id(driver, "f-revenue").get_attribute("aria-invalid") == "true"
    assert by_id(driver, "form-errors").text.splitlines()[1:] == [
        "所在区县：请选择企业注册所在的区县",
        "所属行业：请输入行业关键词（如“汽车零部件”）并从列表中选择",
        "上年营业收入：请填写数字（单位：万元），例如 6000"]
    assert by_id(driver, "e-f-revenue").text == "上年营业收入：请填写数字（单位：万元），例如 6000"
    assert "e-f-revenue" in by_id(driver, "f-revenue").get_attribute("aria-describedby").split()
    assert not by_id(driver, "results").is_displayed()
    screenshot(driver, f"sme-7-errors-{size}")

    Select(by_id(driver, "f-region_code")).select_by_visible_text("渝北区")
    assert by_id(driver, "f-region_code").get_attribute("aria-invalid") is None   # cleared when corrected
    by_id(driver, "f-industry_code").send_keys("汽车零部件")                       # typed, not picked
    by_id(driver, "f-revenue").clear()
    by_id(driver, "f-revenue").send_keys("6000")
    by_id(driver, "f-credit_code").send_keys("91500112MA5U7A2B1X")               # 18 characters, wrong check
    by_id(driver, "check").click()
    wait_for(driver, lambda d: active_id(d) == "f-industry_code")
    assert by_id(driver, "e-f-industry_code").text == "所属行业：请从建议列表中选择一个行业"

    pick_industry(driver, "qclbj")                                                 # pinyin initials
    assert by_id(driver, "industry-picked").text == "已选择：汽车零部件及配件制造（行业代码 C3670）"
    by_id(driver, "check").click()                                                 # the server finds the check character
    wait_for(driver, lambda d: active_id(d) == "f-credit_code")
    assert by_id(driver, "f-credit_code").get_attribute("aria-invalid") == "true"
    assert by_id(driver, "e-f-credit_code").text.startswith("统一社会信用代码：填写有误")
    by_id(driver, "f-credit_code").clear()
    submit(driver, "check")
    assert active_id(driver) == "results-heading"
    assert by_id(driver, "f-credit_code").get_attribute("aria-invalid") is None
    assert unlabelled_inputs(driver) == []
    # the one 422 (the check character, which only the server verifies) is the only message
    assert [e for e in console_errors(driver) if "status of 422" not in e] == []


def test_suggestions_by_keyboard_and_warnings_that_do_not_block(live: LiveServer, browser: tuple[str, WebDriver]) -> None:
    size, driver = browser
    open_page(driver, live.url + "/")
    Select(by_id(driver, "f-region_code")).select_by_value("500112")
    box = by_id(driver, "f-industry_code")
    box.send_keys("软件开发")
    wait_for(driver, lambda d: d.find_elements(By.ID, "opt-1"))
    assert box.get_attribute("aria-expanded") == "true" and box.get_attribute("aria-activedescendant") == "opt-0"
    box.send_keys(Keys.ARROW_DOWN)
    assert box.get_attribute("aria-activedescendant") == "opt-1"
    box.send_keys(Keys.ENTER)
    assert by_id(driver, "industry-picked").text == "已选择：基础软件开发（行业代码 I6511）"
    assert box.get_attribute("aria-expanded") == "false"

    by_id(driver, "f-employees").send_keys("120")
    by_id(driver, "f-revenue").send_keys("60000000")                  # yuan typed into a 万元 box
    by_id(driver, "f-rd_staff").send_keys("500")
    warnings = by_id(driver, "warnings").text
    assert "每名职工的年营业收入约 500,000 万元，偏高" in warnings
    assert "研发人员（500 人）多于职工人数（120 人），请核对。" in warnings
    screenshot(driver, f"sme-8-warnings-{size}")
    by_id(driver, "f-revenue").clear()
    by_id(driver, "f-revenue").send_keys("6")                          # 6 万元 for 120 people: too low
    assert "每名职工的年营业收入只有约 ¥500，偏低" in by_id(driver, "warnings").text
    titles = {el.get_attribute("value"): el for el in driver.find_elements(By.CSS_SELECTOR, "input[name=f-certifications]")}
    titles["hnte"].click()
    titles["none"].click()                                             # "none of these" unticks a title
    assert not titles["hnte"].is_selected() and titles["none"].is_selected()
    submit(driver, "check")                                            # warnings never block
    assert active_id(driver) == "results-heading" and by_id(driver, "total").text
    answers = shared_state(driver.current_url)["a"]
    assert answers["certifications"] == [] and answers["revenue"] == 60_000.0      # none held: known, not unknown
    assert "certifications" not in questions(driver)                   # so titles are never asked again

    first, second = questions(driver)[:2]
    driver.find_element(By.CSS_SELECTOR, "#question-list .skip-question").click()  # skip one question: the next moves up
    assert questions(driver)[0] == second and first not in questions(driver)
    assert driver.execute_script("return document.activeElement.closest('[data-field]').dataset.field") == second
    assert shared_state(driver.current_url)["s"] == [first]
    by_id(driver, "skip-all").click()                                  # skip the rest: straight to the result
    assert by_id(driver, "no-questions").is_displayed() and active_id(driver) == "results-heading"
