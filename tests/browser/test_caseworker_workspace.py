"""The caseworker workspace in a real browser, at desktop and phone size, as a caseworker at a
service centre uses it: sign in (a wrong key first), screen an uploaded CSV of the sample firms
with a hostile row and a bad row, sort and filter the table, download the Excel file and read
it back, run a bulk job to the end and download it, find firms for a policy, record an
outcome, browse policies, sign out.

Tests run in file order at each size (the ``browser`` fixture is per module and size) and the
sign-in carries over between them, as it does for a person. Every page is checked for
unlabelled inputs, loads from outside the app and console errors; screenshots go to
``var/screenshots/caseworker-<step>-<size>.png``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from recommender import load_reference
from api.main import create_app
from tests.api.api_testkit import KEYS, ROOT, SAMPLES, LiveServer, make_settings, registry_frame
from tests.browser.browser_kit import (console_errors, external_requests, screenshot, unlabelled_inputs,
                                       wait_for)

POLICY = "cn-tech-sme-evaluation"
POLICY_TITLE = "科技型中小企业评价"
AS_OF = "2022-06-30"
HOSTILE_NAME = '=HYPERLINK("http://evil.example/x","点此领取补贴")'
Browser = tuple[str, WebDriver]


def _profiles() -> list[dict[str, Any]]:
    return [json.loads(x) for x in SAMPLES.read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app as deployed, on its own var/ whose compiled trees are the checkout's
    (``make install`` compiles them): a job then starts at once instead of compiling first."""
    var = tmp_path_factory.mktemp("var")
    (ROOT / "var" / "compiled").mkdir(parents=True, exist_ok=True)
    (var / "compiled").symlink_to(ROOT / "var" / "compiled", target_is_directory=True)
    with LiveServer(create_app(make_settings(var))) as srv:
        yield srv


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The applicants' CSV (sample firms, a formula-like name, a negative revenue) and a registry."""
    folder = tmp_path_factory.mktemp("uploads")
    profiles = _profiles()
    hostile = {**profiles[0], "firm_id": "HOSTILE-1", "name": HOSTILE_NAME, "credit_code": None}
    bad = {**profiles[1], "firm_id": "BAD-1", "revenue": -5.0}
    paths = {"applicants": folder / "申报企业.csv", "registry": folder / "registry.csv"}
    registry_frame(profiles + [hostile, bad]).to_csv(paths["applicants"], index=False)
    registry_frame(profiles).to_csv(paths["registry"], index=False)
    return paths


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    """Where the browser saves a test's downloads (its own folder: names never collide)."""
    return tmp_path


def _checks(driver: WebDriver, live: LiveServer) -> None:
    """What every workspace page must satisfy."""
    assert unlabelled_inputs(driver) == []
    assert external_requests(driver, live.url) == []
    assert console_errors(driver) == []


def _open(driver: WebDriver, live: LiveServer, path: str) -> None:
    driver.get(live.url + path)
    wait_for(driver, lambda d: d.execute_script("return document.readyState") == "complete")


def _focused_id(driver: WebDriver) -> str:
    return str(driver.execute_script("return document.activeElement && document.activeElement.id"))


def _upload(driver: WebDriver, path: Path) -> None:
    driver.find_element(By.ID, "file").send_keys(str(path))


def _set_date(driver: WebDriver, element_id: str, value: str) -> None:
    driver.execute_script("document.getElementById(arguments[0]).value = arguments[1]", element_id, value)


def _download(driver: WebDriver, folder: Path, link_id: str | None = None, *, css: str | None = None) -> Path:
    """Click a download link and wait for the browser to finish writing the file."""
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})
    before = set(folder.iterdir())
    link = driver.find_element(By.ID, link_id) if link_id else driver.find_element(By.CSS_SELECTOR, css or "")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()

    def done(_: WebDriver) -> Path | None:
        new = [p for p in set(folder.iterdir()) - before if not p.name.endswith(".crdownload")]
        return new[0] if new and new[0].stat().st_size > 0 else None
    found: Path = wait_for(driver, done)
    return found


def test_a_wrong_key_is_refused_then_the_right_one_signs_in(live: LiveServer, browser: Browser) -> None:
    size, driver = browser
    driver.delete_all_cookies()
    _open(driver, live, "/caseworker/screen")
    assert driver.current_url.startswith(live.url + "/caseworker/login")       # not signed in: the form
    driver.find_element(By.ID, "key").send_keys("dev-wrong-key")
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    error = wait_for(driver, lambda d: d.find_elements(By.ID, "login-error"))[0]
    assert "密钥无效" in error.text
    assert driver.get_cookie("cw_session") is None
    assert driver.find_element(By.ID, "key").get_attribute("aria-invalid") == "true"
    assert _focused_id(driver) == "key"
    _checks(driver, live)
    screenshot(driver, f"caseworker-login-error-{size}")
    driver.find_element(By.ID, "key").send_keys(KEYS["caseworker"])
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(driver, lambda d: d.current_url == live.url + "/caseworker/screen")   # back where it was going
    cookie = driver.get_cookie("cw_session")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert driver.execute_script("return document.cookie").find("cw_session") == -1  # scripts cannot read it
    _checks(driver, live)


def test_a_screening_form_without_a_file_marks_the_field(live: LiveServer, browser: Browser) -> None:
    _, driver = browser
    _open(driver, live, "/caseworker/screen")
    Select(driver.find_element(By.ID, "policy_id")).select_by_value(POLICY)
    driver.find_element(By.ID, "run").click()
    wait_for(driver, lambda d: d.find_elements(By.ID, "file-error"))
    assert driver.find_element(By.ID, "file").get_attribute("aria-invalid") == "true"
    assert driver.find_element(By.ID, "policy_id").get_attribute("aria-invalid") is None
    assert "请选择要上传的 CSV 或 XLSX 文件" in driver.find_element(By.ID, "file-error").text
    assert _focused_id(driver) == "file"
    _checks(driver, live)


def _visible_rows(driver: WebDriver) -> list[Any]:
    return [r for r in driver.find_elements(By.CSS_SELECTOR, "#results tbody tr") if r.is_displayed()]


def test_screening_an_upload_sorts_filters_and_downloads(live: LiveServer, browser: Browser, files: dict[str, Path],
                                                         downloads: Path) -> None:
    size, driver = browser
    _open(driver, live, "/caseworker/screen")
    Select(driver.find_element(By.ID, "policy_id")).select_by_value(POLICY)
    _set_date(driver, "as_of", AS_OF)
    _upload(driver, files["applicants"])
    driver.find_element(By.ID, "run").click()
    wait_for(driver, lambda d: d.find_elements(By.ID, "result-heading"))
    assert _focused_id(driver) == "result-heading"                                  # focus moved to the results
    profiles = _profiles()
    rows = driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")
    assert len(rows) == len(profiles) + 1                                           # the hostile row is screened
    page = driver.find_element(By.ID, "results").text
    assert profiles[0]["name"] in page and profiles[0]["credit_code"] in page and "渝北区" in page
    assert HOSTILE_NAME in page                                                     # shown as text, escaped
    assert driver.find_elements(By.CSS_SELECTOR, "#results a[href^='http']") == []
    rejects = driver.find_element(By.ID, "rejects").text
    assert "BAD-1" in rejects and "revenue" in rejects and "must be >= 0" in rejects
    _checks(driver, live)
    screenshot(driver, f"caseworker-screen-results-{size}")

    # Sort by value: ascending, then descending (rows reorder, aria-sort says so).
    value_head = driver.find_elements(By.CSS_SELECTOR, "#results thead th")[4]
    button = value_head.find_element(By.TAG_NAME, "button")
    driver.execute_script("arguments[0].click()", button)
    assert value_head.get_attribute("aria-sort") == "ascending"

    def values() -> list[float]:
        return [float(r.find_elements(By.TAG_NAME, "td")[4].get_attribute("data-value") or 0)
                for r in driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")]
    assert values() == sorted(values())
    driver.execute_script("arguments[0].click()", button)
    assert value_head.get_attribute("aria-sort") == "descending" and values() == sorted(values(), reverse=True)

    # Filter: by verdict, then by words.
    Select(driver.find_element(By.ID, "filter-verdict")).select_by_value("ineligible")
    shown = _visible_rows(driver)
    assert shown and all(r.get_attribute("data-verdict") == "ineligible" for r in shown)
    assert driver.find_element(By.CSS_SELECTOR, "[data-shown]").text == f"显示 {len(shown)} / {len(rows)}"
    Select(driver.find_element(By.ID, "filter-verdict")).select_by_value("")
    driver.find_element(By.ID, "filter-text").send_keys("渝北区")
    yubei = [p for p in profiles if p["region_code"] == "500112"]
    assert len(_visible_rows(driver)) == len(yubei) + 1                             # the hostile row is CQ-001's copy
    driver.execute_script("document.getElementById('filter-verdict').scrollIntoView()")
    screenshot(driver, f"caseworker-screen-filtered-{size}")
    driver.find_element(By.ID, "filter-text").clear()
    driver.execute_script("document.getElementById('filter-text').dispatchEvent(new Event('input'))")

    path = _download(driver, downloads, "download-xlsx")
    assert path.name == f"screening-{POLICY}-{AS_OF}.xlsx"
    _check_workbook(path, profiles)
    _checks(driver, live)


def _check_workbook(path: Path, profiles: list[dict[str, Any]]) -> None:
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["说明 Cover", "名单 List", "未受理 Rejected"]
    for ws in wb.worksheets:                                                        # no formula anywhere
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    cover = {r[0]: r[1] for r in wb["说明 Cover"].iter_rows(values_only=True)}
    assert cover["政策 Policy"] == POLICY_TITLE and cover["政策编号 Policy id"] == POLICY
    assert cover["评估日期 Evaluation date"] == AS_OF
    assert cover["依据与条款 References"].startswith("国科发政〔2017〕115号")
    assert len(cover["政策目录版本 Catalog version"]) == 16
    assert cover["名单 List"].startswith("申报筛查结果")

    listed = wb["名单 List"]
    assert listed.freeze_panes == "B3" and listed.auto_filter.ref == f"A2:L{len(profiles) + 3}"
    header_zh, header_en, *rows = list(listed.iter_rows(values_only=True))
    assert header_zh[:5] == ("企业名称", "统一社会信用代码", "所在区县", "企业编号", "结论")
    assert header_en == ("name", "credit_code", "district", "firm_id", "verdict", "score", "estimated_benefit",
                         "failed_criteria", "unknown_criteria", "missing_fields", "verify_yourself", "policy_id")
    assert listed.column_dimensions["A"].width == 34
    regions = load_reference().region_names
    got = {r[3]: r for r in rows}
    assert set(got) == {p["firm_id"] for p in profiles} | {"HOSTILE-1"}
    for p in profiles:
        assert got[p["firm_id"]][:3] == (p.get("name"), p.get("credit_code"), regions[p["region_code"]])
    assert got["HOSTILE-1"][0] == "'" + HOSTILE_NAME                               # neutralised, still readable
    assert got["HOSTILE-1"][1] is None and got["HOSTILE-1"][2] == "渝北区"
    for r in rows:
        verdict = r[4]
        assert verdict in ("符合 eligible", "待补充 undetermined", "不符合 ineligible")
        if verdict == "符合 eligible":
            assert r[7] is None                                                     # no "failed" alternatives
        if verdict != "不符合 ineligible":                                          # verify yourself, with its clause
            assert "第六条(三)" in r[10]
        else:
            assert r[7]                                                             # what failed
    rejected = list(wb["未受理 Rejected"].iter_rows(values_only=True))
    assert rejected[:2] == [("行号", "企业编号", "字段", "原因"), ("row", "firm_id", "field", "reason")]
    assert rejected[2:] == [(len(profiles) + 2, "BAD-1", "revenue", "must be >= 0")]


def test_a_bulk_job_runs_to_the_end_and_downloads(live: LiveServer, browser: Browser, files: dict[str, Path],
                                                  downloads: Path) -> None:
    size, driver = browser
    _open(driver, live, "/caseworker/jobs")
    _upload(driver, files["registry"])
    _set_date(driver, "as_of", AS_OF)
    top_k = driver.find_element(By.ID, "top_k")
    top_k.clear()
    top_k.send_keys("3")
    driver.find_element(By.ID, "start-job").click()
    wait_for(driver, lambda d: "new=" in d.current_url)
    assert _focused_id(driver) == "jobs-heading"
    row = wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#jobs-table tbody tr"))[0]
    job_id = row.get_attribute("data-job")
    wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, f"tr[data-job='{job_id}']")
             .get_attribute("data-state") == "succeeded", timeout=90)             # the page refreshes itself
    n = len(_profiles())
    wait_for(driver, lambda d: f"读取 {n} 行：匹配 {n} 家，未受理 0 行"
             in d.find_element(By.CSS_SELECTOR, f"tr[data-job='{job_id}']").text)
    _checks(driver, live)
    screenshot(driver, f"caseworker-jobs-done-{size}")
    path = _download(driver, downloads, css=f"tr[data-job='{job_id}'] a.dl-result")
    assert path.name == "registry-result.csv"
    result = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert {r["firm_id"] for r in result} == {p["firm_id"] for p in _profiles()}
    assert max(int(r["rank"]) for r in result) <= 3


def test_finding_firms_for_a_policy(live: LiveServer, browser: Browser, files: dict[str, Path], downloads: Path) -> None:
    size, driver = browser
    _open(driver, live, f"/caseworker/find-firms?policy_id={POLICY}")
    assert Select(driver.find_element(By.ID, "policy_id")).first_selected_option.get_attribute("value") == POLICY
    _set_date(driver, "as_of", AS_OF)
    _upload(driver, files["registry"])
    driver.find_element(By.ID, "run").click()
    heading = wait_for(driver, lambda d: d.find_elements(By.ID, "result-heading"))[0]
    rows = driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")
    assert heading.text.startswith(f"找到 {len(rows)} 家企业")
    assert rows and {r.get_attribute("data-verdict") for r in rows} <= {"eligible", "undetermined"}
    _checks(driver, live)
    screenshot(driver, f"caseworker-find-firms-{size}")
    path = _download(driver, downloads, "download-xlsx")
    wb = openpyxl.load_workbook(path)
    cover = {r[0]: r[1] for r in wb["说明 Cover"].iter_rows(values_only=True)}
    assert cover["名单 List"].startswith("免申即享") and cover["评估日期 Evaluation date"] == AS_OF
    assert len(list(wb["名单 List"].iter_rows())) == 2 + len(rows)


def test_browsing_policies(live: LiveServer, browser: Browser) -> None:
    size, driver = browser
    _open(driver, live, "/caseworker/policies")
    driver.find_element(By.ID, "q").send_keys("科技型中小企业")
    driver.find_element(By.CSS_SELECTOR, ".cw-search button[type=submit]").click()
    wait_for(driver, lambda d: "q=" in d.current_url)
    assert _focused_id(driver) == "hits-heading"
    titles = [a.text for a in driver.find_elements(By.CSS_SELECTOR, ".policy-list a")]
    assert POLICY_TITLE in titles
    _checks(driver, live)
    screenshot(driver, f"caseworker-policies-{size}")
    driver.find_element(By.LINK_TEXT, POLICY_TITLE).click()
    wait_for(driver, lambda d: d.current_url.endswith(f"/caseworker/policies/{POLICY}"))
    text = driver.find_element(By.TAG_NAME, "article").text
    assert "申报条件" in text and "第六条(三)" in text and "需自行核实" in text and "国科发政〔2017〕115号" in text
    _checks(driver, live)
    screenshot(driver, f"caseworker-policy-{size}")


def test_recording_an_outcome_lists_it(live: LiveServer, browser: Browser) -> None:
    size, driver = browser
    _open(driver, live, "/caseworker/outcomes")
    driver.find_element(By.ID, "record").click()                                  # nothing filled in
    wait_for(driver, lambda d: d.find_elements(By.ID, "firm_id-error"))
    invalid = [e.get_attribute("id") for e in driver.find_elements(By.CSS_SELECTOR, "[aria-invalid='true']")]
    assert invalid == ["firm_id", "policy_id", "event_date", "outcome"]
    assert _focused_id(driver) == "firm_id"
    firm = f"CQ-001-{size}"
    driver.find_element(By.ID, "firm_id").send_keys(firm)
    Select(driver.find_element(By.ID, "policy_id")).select_by_value(POLICY)
    _set_date(driver, "event_date", "2022-07-15")
    Select(driver.find_element(By.ID, "outcome")).select_by_value("approved")
    driver.find_element(By.ID, "record").click()
    wait_for(driver, lambda d: d.find_elements(By.ID, "done"))
    assert driver.find_element(By.ID, "done").text.startswith("已记录")
    first = driver.find_element(By.CSS_SELECTOR, "#recent tbody tr").text
    assert firm in first and POLICY_TITLE in first and "2022-07-15" in first and "已获批" in first
    assert _focused_id(driver) == "recent-heading"
    _checks(driver, live)
    screenshot(driver, f"caseworker-outcomes-{size}")


def test_signing_out_ends_the_session(live: LiveServer, browser: Browser) -> None:
    size, driver = browser
    _open(driver, live, "/caseworker")
    driver.find_element(By.ID, "logout").click()
    wait_for(driver, lambda d: "/caseworker/login" in d.current_url)
    assert "您已退出登录" in driver.find_element(By.TAG_NAME, "main").text
    assert driver.get_cookie("cw_session") is None
    _checks(driver, live)
    screenshot(driver, f"caseworker-signed-out-{size}")
    for path in ("/caseworker/screen", "/caseworker/jobs", "/caseworker/outcomes"):
        _open(driver, live, path)
        assert driver.current_url.startswith(live.url + "/caseworker/login?next=")
