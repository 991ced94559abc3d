"""``/docs`` (Swagger UI) and ``/redoc`` render in headless Chromium with the network cut off: their assets come
from an installed package, not from a CDN. Skips only when Chromium cannot be installed here."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest

from explorer.testing import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS, artifacts_dir, missing_browser, requested_urls
from tests.api.conftest import Api

REASON = missing_browser()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"navigateur indisponible : {REASON}")

#: No name resolves and every connection that is not to the loopback goes to a closed port: no internet at all.
OFFLINE_FLAGS = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9")


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    # selenium is a test dependency (the dev extra), imported once the skip above has been decided
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service  # the same test dependency

    profile = tempfile.mkdtemp(prefix="capitalis-docs-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, *OFFLINE_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    chromium = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    # bounded: ReDoc lays out the whole document (every example of every route) on a busy CI machine
    chromium.set_page_load_timeout(120)
    chromium.set_script_timeout(60)
    try:
        yield chromium
    finally:
        chromium.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _count(driver: Any, css: str, at_least: int, timeout: float = 90.0) -> int:
    """How many elements match ``css`` once there are ``at_least`` of them (0 after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        n = int(driver.execute_script("return document.querySelectorAll(arguments[0]).length", css))
        if n >= at_least or time.monotonic() > deadline:
            return n
        time.sleep(0.1)


def test_swagger_ui_shows_the_operations_offline(api: Api, driver: Any) -> None:
    requested_urls(driver)  # forget what came before
    driver.get(f"{api.url}/docs")
    assert _count(driver, ".opblock", 20) >= 20, driver.page_source[-2000:]
    paths = driver.execute_script(
        "return Array.from(document.querySelectorAll('.opblock-summary-path')).map(e => e.dataset.path)"
    )
    assert {"/sparql", "/experiences", "/experiences/{id}"} <= set(paths)
    summaries = driver.execute_script(
        "return Array.from(document.querySelectorAll('.opblock-summary-description')).map(e => e.textContent)"
    )
    assert any(s.startswith("Recherche d") for s in summaries), summaries
    driver.save_screenshot(str(artifacts_dir() / "api-docs-offline.png"))
    assert _outside(api, driver) == []


def test_redoc_shows_the_operations_offline(api: Api, driver: Any) -> None:
    requested_urls(driver)
    driver.get(f"{api.url}/redoc")
    assert _count(driver, "[data-section-id^='operation/']", 20) >= 20, driver.page_source[-2000:]
    assert "Interroge le graphe en SPARQL" in driver.find_element("css selector", "body").text
    driver.save_screenshot(str(artifacts_dir() / "api-redoc-offline.png"))
    assert _outside(api, driver) == []


#: ReDoc's « powered by » logo: the page asks for it, the CSP (``img-src 'self' data:``) refuses it, nothing is missed.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _outside(api: Api, driver: Any) -> list[str]:
    """The requests the page made to anything but the server (the network is cut: they would have failed)."""
    return [u for u in requested_urls(driver) if u.startswith("http") and not u.startswith(api.url) and u != REDOC_LOGO]
