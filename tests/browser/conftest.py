"""Fixtures for the browser tests: one live server for the module and a Chromium per size.

``browser`` is parametrised over :data:`~tests.browser.browser_kit.SIZES`, so a test that
takes it runs at desktop and phone size. Tests are skipped (with the reason) only where
Chromium and its driver are not installed; ``.ci/run`` installs them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from api.main import create_app
from tests.api.api_testkit import LiveServer, make_settings
from tests.browser.browser_kit import SIZES, chromium_paths, start_chromium

needs_chromium = pytest.mark.skipif(chromium_paths() is None,
                                    reason="Debian chromium + chromium-driver not installed")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app as deployed (bundled catalog, default model) on its own var/ and database."""
    with LiveServer(create_app(make_settings(tmp_path_factory.mktemp("var")))) as srv:
        yield srv


@pytest.fixture(scope="module", params=list(SIZES))
def browser(request: pytest.FixtureRequest) -> Iterator[tuple[str, WebDriver]]:
    """``(size name, driver)``: a headless Chromium at each size in turn."""
    if chromium_paths() is None:
        pytest.skip("Debian chromium + chromium-driver not installed")
    driver = start_chromium(request.param)
    try:
        yield request.param, driver
    finally:
        driver.quit()
