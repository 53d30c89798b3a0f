"""Helpers shared by the browser tests: Debian's Chromium driven by selenium, at the two
sizes a user meets (desktop, phone), and screenshots under ``var/screenshots/``.

Nothing here downloads a browser: the tests use ``/usr/bin/chromium`` and
``/usr/bin/chromedriver`` (Debian packages ``chromium`` and ``chromium-driver``, installed by
``.ci/run``); where they are missing the tests are skipped with the reason (never on CI).
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
"""Window sizes (CSS pixels) every page is tested at."""
WAIT_SECONDS = 20.0


def chromium_paths() -> tuple[str, str] | None:
    """``(browser, driver)`` binaries if both are installed."""
    browser = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
    return (browser, driver) if browser and driver else None


def start_chromium(size: str) -> WebDriver:
    """A headless Chromium at one of :data:`SIZES` (a phone size also gets a phone's touch
    and device-pixel emulation), with the page language Chinese."""
    paths = chromium_paths()
    assert paths is not None
    browser, driver = paths
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    width, height = SIZES[size]
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--lang=zh-CN", f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(arg)
    if size == "phone":
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0, "touch": True}})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(driver), options=options)
    drv.set_page_load_timeout(60)
    return drv


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], Any], timeout: float = WAIT_SECONDS) -> Any:
    """``WebDriverWait(driver, timeout).until(condition)``, trying again when the condition met
    an element that a page refreshing itself (job progress) has just replaced or not yet built."""
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,
                                                               NoSuchElementException)).until(condition)


def screenshot(driver: WebDriver, name: str, whole: bool = True) -> Path:
    """Save the whole page (``whole=False``: the viewport) as ``var/screenshots/<name>.png``.

    Taken through the DevTools protocol beyond the viewport, so the phone size (whose window
    is fixed by its device emulation) is captured whole too, at its device-pixel ratio."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"] if whole else metrics["cssLayoutViewport"]
    size = {"width": size.get("width", size.get("clientWidth")), "height": size.get("height", size.get("clientHeight"))}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def external_requests(driver: WebDriver, base_url: str) -> list[str]:
    """Every resource the page loaded (Resource Timing) from outside ``base_url``."""
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat([location.href])")
    return [n for n in names if not (n.startswith(base_url) or n.startswith("data:") or n.startswith("blob:")
                                     or n.startswith("about:"))]


def console_errors(driver: WebDriver) -> list[str]:
    """Severe messages in the browser console (a script error, a failed load)."""
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def unlabelled_inputs(driver: WebDriver) -> list[str]:
    """Visible form controls with no accessible name (label, aria-label or aria-labelledby)."""
    return driver.execute_script("""
        const out = [];
        for (const el of document.querySelectorAll('input, select, textarea')) {
          if (el.type === 'hidden' || el.offsetParent === null) continue;
          const named = (el.labels && el.labels.length) || el.getAttribute('aria-label')
                        || el.getAttribute('aria-labelledby') || el.getAttribute('title');
          if (!named) out.push(el.outerHTML.slice(0, 120));
        }
        return out;""")
