"""The SME self-check persona and the steps a browser test takes on the page.

The persona is the README's worked example: a small auto-parts maker in 渝北区 (first line of
``data/samples/firms.jsonl``). :data:`TYPED` is what its owner types, in the units people use
(万元, %, words); :data:`EXPECTED` is the same firm in SPEC §2 units, which the page must send.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from selenium.common.exceptions import (ElementNotInteractableException, NoSuchElementException,
                                        StaleElementReferenceException)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

from tests.browser.browser_kit import wait_for

CREDIT_CODE = "91500112MA5U7A2B1N"
AS_OF = "2025-06-30"
"""The evaluation date the tests pin (``/?as_of=``), so application windows do not move under them."""
BASICS: dict[str, str] = {"employees": "180", "revenue": "4800", "total_assets": "3600", "rd_expense": "288",
                          "rd_staff": "30"}
"""The first step as typed: people and 万元."""
TITLES_ZH = ["科技型中小企业", "创新型中小企业"]
TYPED: dict[str, str] = {
    "taxable_income": "240", "vat_credit_balance": "85", "rd_expense_3y": "750", "revenue_3y": "12500",
    "revenue_prev": "4000", "equity_financing_2y": "0", "ui_premium_paid": "18",
    "rd_domestic_share": "100", "high_tech_revenue_share": "65", "main_business_share": "92",
    "export_share": "12", "layoff_rate": "2",
    "tech_staff": "40", "invention_patents": "2", "class1_ip": "2", "class2_ip": "9", "insured_employees": "175",
    "graduates_hired": "6", "years_in_niche": "6",
    "listed": "false", "dishonest_record": "false", "major_incident_last_year": "false",
    "leases_state_property": "false", "tax_credit_rating": "A", "ownership": "private",
    "established_on": "2015-03-18",
}
"""Follow-up answers as typed (万元, %, counts; radio and select values)."""
EXPECTED: dict[str, Any] = {
    "region_code": "500112", "industry_code": "C3670", "credit_code": CREDIT_CODE,
    "employees": 180, "revenue": 48_000_000.0, "total_assets": 36_000_000.0, "rd_expense": 2_880_000.0,
    "rd_staff": 30, "certifications": ["tech_sme", "innovative_sme"],
    "taxable_income": 2_400_000.0, "vat_credit_balance": 850_000.0, "rd_expense_3y": 7_500_000.0,
    "revenue_3y": 125_000_000.0, "revenue_prev": 40_000_000.0, "equity_financing_2y": 0.0,
    "ui_premium_paid": 180_000.0, "rd_domestic_share": 1.0, "high_tech_revenue_share": 0.65,
    "main_business_share": 0.92, "export_share": 0.12, "layoff_rate": 0.02, "tech_staff": 40,
    "invention_patents": 2, "class1_ip": 2, "class2_ip": 9, "insured_employees": 175, "graduates_hired": 6,
    "years_in_niche": 6.0, "listed": False, "dishonest_record": False, "major_incident_last_year": False,
    "leases_state_property": False, "tax_credit_rating": "A", "ownership": "private",
    "established_on": "2015-03-18",
}
"""The persona in SPEC units: what the page must have sent once every question is answered."""


def by_id(driver: WebDriver, element_id: str) -> WebElement:
    return driver.find_element(By.ID, element_id)


def open_page(driver: WebDriver, url: str) -> None:
    """Load the page and wait until its script has built the form and a person could type
    into it (on a loaded machine the fields exist a moment before they can take input)."""
    driver.get(url)
    wait_for(driver, lambda d: d.execute_script("return document.readyState") == "complete"
             and d.find_elements(By.ID, "f-employees") and d.find_elements(By.ID, "f-revenue")
             and d.find_element(By.ID, "f-revenue").is_displayed() and d.find_element(By.ID, "f-revenue").is_enabled())


def pick_industry(driver: WebDriver, words: str) -> None:
    """Type ``words`` and pick the first suggestion, as a person does."""
    box = by_id(driver, "f-industry_code")
    box.clear()
    box.send_keys(words)

    def click_first(d: WebDriver) -> bool:
        # the list is rebuilt as each lookup answers: a suggestion shown a moment ago may be
        # gone or not yet clickable; try again until one takes the click
        try:
            option = d.find_element(By.ID, "opt-0")
            if not option.is_displayed():
                return False
            option.click()
            return True
        except (ElementNotInteractableException, StaleElementReferenceException, NoSuchElementException):
            return False

    wait_for(driver, click_first)
    wait_for(driver, lambda d: "已选择" in by_id(d, "industry-picked").text)


def fill_basics(driver: WebDriver) -> None:
    """The first step: credit code (fills the district), industry in words, figures in 万元, titles."""
    by_id(driver, "f-credit_code").send_keys(CREDIT_CODE)
    pick_industry(driver, "汽车零部件")
    for field, typed in BASICS.items():
        by_id(driver, f"f-{field}").send_keys(typed)
    for label in driver.find_elements(By.CSS_SELECTOR, "[data-field=certifications] label"):
        if label.text.strip() in TITLES_ZH:
            label.click()


def submit(driver: WebDriver, button_id: str) -> None:
    """Click and wait until the result is re-rendered (the heading takes the focus)."""
    driver.execute_script("document.getElementById('results').setAttribute('aria-busy', 'clicked');")
    by_id(driver, button_id).click()
    wait_for(driver, lambda d: d.execute_script(
        "return document.getElementById('results').getAttribute('aria-busy') === 'false'"
        " && document.activeElement.id === 'results-heading'"))


def answer(driver: WebDriver, field: str, typed: str) -> None:
    """Answer one follow-up question the way its widget asks for it."""
    box = driver.find_element(By.CSS_SELECTOR, f"#question-list [data-field={field}]")
    radios = box.find_elements(By.CSS_SELECTOR, "input[type=radio], input[type=checkbox]")
    selects = box.find_elements(By.TAG_NAME, "select")
    if radios:
        next(r for r in radios if r.get_attribute("value") == typed).click()
    elif selects:
        Select(selects[0]).select_by_value(typed)
    else:
        el = box.find_element(By.TAG_NAME, "input")
        if el.get_attribute("type") == "date":     # typing into a date box depends on the locale
            driver.execute_script("arguments[0].value = arguments[1];"
                                  "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", el, typed)
        else:
            el.send_keys(typed)


def questions(driver: WebDriver) -> list[str]:
    """The fields the follow-up questions shown ask about, in order."""
    return [el.get_attribute("data-field") for el in driver.find_elements(By.CSS_SELECTOR, "#question-list .question > .field")]


def answer_all(driver: WebDriver, rounds: int = 20) -> list[list[str]]:
    """Answer what the persona knows, skip the rest, until no question is left; the fields asked per round."""
    asked = []
    for _ in range(rounds):
        shown = questions(driver) if by_id(driver, "questions").is_displayed() else []
        if not shown:
            return asked
        asked.append(shown)
        for field in shown:
            if field in TYPED:
                answer(driver, field, TYPED[field])
        submit(driver, "answer")
    raise AssertionError(f"questions still asked after {rounds} rounds: {asked[-3:]}")


def shared_state(url: str) -> dict[str, Any]:
    """The answers a share link carries (``#a=`` + base64url JSON)."""
    token = url.split("#a=", 1)[1]
    return dict(json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")))


def share_link(answers: dict[str, Any], industry_name: str = "") -> str:
    """The fragment the page writes for ``answers`` (to open a result directly)."""
    raw = json.dumps({"a": answers, "s": [], "n": industry_name, "d": AS_OF}, ensure_ascii=False).encode("utf-8")
    return "#a=" + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def group_titles(driver: WebDriver, group: str) -> list[str]:
    """Chinese titles of the policies in one result group (``g-eligible``, ``g-verify``, …)."""
    return [el.text.split("\n")[0].strip() for el in driver.find_elements(By.CSS_SELECTOR, f"#{group} article h4")]
