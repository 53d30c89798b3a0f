"""The policy sandbox page of the caseworker workspace in a real browser, at desktop and phone
size: sign in, a change with a path that does not exist is refused beside the field naming it,
the corrected reform runs to the end on a page that refreshes itself, its summary and report
read as the summary says, nothing is loaded from outside. Screenshots go to
``var/screenshots/caseworker-reform-<step>-<size>.png``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.api.api_testkit import KEYS, ROOT, LiveServer
from tests.browser.browser_kit import console_errors, external_requests, screenshot, unlabelled_inputs, wait_for

Browser = tuple[str, WebDriver]
LOWER_BAR = [{"policy_id": "cn-srdi-sme", "path": "criteria.rd_ratio.value", "value": 0.025}]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cn-srdi-sme case firm at revenue 50,000,000 with R&D just under, at and over 2.5 %."""
    case = yaml.safe_load((ROOT / "tests/cases/cn-srdi-sme.yaml").read_text(encoding="utf-8"))
    base = {k: (";".join(v) if isinstance(v, list) else v) for k, v in case["base"].items()}
    rows = [{**base, "firm_id": f"E-{name}", "revenue": 50_000_000, "rd_expense": rd}
            for name, rd in (("below", 1_249_999), ("at", 1_250_000), ("above", 1_250_001))]
    path = tmp_path_factory.mktemp("reform") / "名录.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _open(driver: WebDriver, live: LiveServer, path: str) -> None:
    driver.get(live.url + path)
    wait_for(driver, lambda d: d.execute_script("return document.readyState") == "complete")


def _checks(driver: WebDriver, live: LiveServer) -> None:
    assert unlabelled_inputs(driver) == []
    assert external_requests(driver, live.url) == []
    assert console_errors(driver) == []


def _submit(driver: WebDriver, registry: Path, changes: object) -> None:
    driver.find_element(By.ID, "file").send_keys(str(registry))
    driver.execute_script("document.getElementById('as_of').value = '2022-06-30'")
    box = driver.find_element(By.ID, "changes")
    box.clear()
    box.send_keys(json.dumps(changes))
    button = driver.find_element(By.ID, "start-reform")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()


def test_a_reform_is_refused_naming_the_path_then_runs_to_its_report(live: LiveServer, browser: Browser,
                                                                    registry: Path) -> None:
    size, driver = browser
    driver.delete_all_cookies()
    _open(driver, live, "/caseworker/reforms")
    driver.find_element(By.ID, "key").send_keys(KEYS["caseworker"])
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(driver, lambda d: d.current_url == live.url + "/caseworker/reforms")
    _checks(driver, live)

    _submit(driver, registry, [{**LOWER_BAR[0], "path": "criteria.rd_ratio.valu"}])
    error = wait_for(driver, lambda d: d.find_elements(By.ID, "changes-error"))[0]
    assert "policy cn-srdi-sme, at criteria.rd_ratio.valu: path does not exist" in error.text
    assert driver.find_element(By.ID, "changes").get_attribute("aria-invalid") == "true"
    _checks(driver, live)
    screenshot(driver, f"caseworker-reform-refused-{size}")

    _submit(driver, registry, LOWER_BAR)
    wait_for(driver, lambda d: "/caseworker/reforms/" in d.current_url)
    wait_for(driver, lambda d: d.find_element(By.ID, "reform").get_attribute("data-state") == "succeeded",
             timeout=90)                                                     # the page reloads itself
    assert "读取 3 行：评估 3 家，未受理 0 行" in driver.find_element(By.ID, "reform-counts").text
    cells = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "tr[data-policy='cn-srdi-sme'] td")]
    assert cells == ["cn-srdi-sme", "0 → 0", "0 → 2", "2", "0", "0.00 → 0.00"]
    _checks(driver, live)
    screenshot(driver, f"caseworker-reform-done-{size}")
    driver.find_element(By.ID, "reform-report").click()
    wait_for(driver, lambda d: "政策沙盘 Reform report" in d.find_element(By.TAG_NAME, "h1").text)
    assert external_requests(driver, live.url) == []
    screenshot(driver, f"caseworker-reform-report-{size}")
