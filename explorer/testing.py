"""Run the explorer as a real server and drive it with Debian's headless Chromium (tests and bench).

``build_home(home)`` imports the four sample sources into a fresh home (the referential for the territories
they use only, the search index with the ``hash`` embedder: no model), in about ten seconds.
``serve(home)`` starts ``streamlit run`` on a free port of 127.0.0.1 and waits for its health check;
``browser()`` opens Chromium through Selenium with Debian's ``/usr/bin/chromedriver`` (no driver download),
with the flags that keep it off the network. ``missing_browser()`` says why a browser cannot run here.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from explorer.server import APP, start
from ingest import samples
from ingest.samples import import_samples, load_referential_subset
from kg.context import Context
from kg.settings import Settings
from search import update_index

ROOT = Path(__file__).resolve().parents[1]
EMBEDDER = "hash"
FILES = (samples.WORKBOOK, samples.LABELS, samples.OTEN, samples.NETPUBLIC)


def build_home(home: Path) -> Path:
    """Import the samples into ``home/store`` and build the search index; returns ``home``."""
    with Context.open(Settings(home=home, embedder=EMBEDDER)) as context:
        import_samples(context.store, FILES)
        load_referential_subset(context.store, epci_of_communes=True)
        update_index(context)
    return home


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALLER = Path(__file__).resolve().parents[1] / "tools" / "install_chromium.sh"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1800",
)


def missing_browser(install: bool = True) -> str | None:
    """``None`` when Chromium, its driver and Selenium are usable; else the reason (after trying to install)."""
    if install and not (CHROMIUM.exists() and CHROMEDRIVER.exists()) and INSTALLER.exists():
        subprocess.run(["bash", str(INSTALLER)], check=False, timeout=900)
    if not CHROMIUM.exists():
        return f"{CHROMIUM} absent et non installable ici (tools/install_chromium.sh : apt-get install chromium)"
    if not CHROMEDRIVER.exists():
        return f"{CHROMEDRIVER} absent et non installable ici (apt-get install chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium n'est pas installé (pip install -e '.[dev]')"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(
    home: Path,
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 90.0,
    app: Path = APP,
) -> Iterator[str]:
    """``app`` (default: the explorer) serving ``home`` on 127.0.0.1; yields its base URL and stops it afterwards."""
    port = port or free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 (kept open for the life of the server, closed below)
    process = start("127.0.0.1", port, home, app=app, env=env or {}, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"l'explorateur s'est arrêté : {log.read().decode(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"l'explorateur ne répond pas sur {base} après {timeout:.0f} s")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextmanager
def browser(width: int = 1400, height: int = 1800) -> Iterator[Any]:
    """A headless Chromium driven by Selenium, with a fresh profile removed afterwards; its network requests
    are logged (:func:`requested_urls`)."""
    # selenium is a test dependency (the dev extra): the explorer itself runs without it
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service  # the same test dependency

    profile = tempfile.mkdtemp(prefix="capitalis-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


_WAIT_JS = """
const [texts, timeout, done] = arguments;
const start = performance.now();
function idle() {
  return !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]');
}
function check() {
  const body = document.body ? document.body.innerText : '';
  if (texts.every(t => body.includes(t)) && idle()) { done(null); return; }
  if (performance.now() - start > timeout) {
    done(texts.filter(t => !body.includes(t)).concat(['||', body.slice(-1500)]));
    return;
  }
  requestAnimationFrame(check);
}
check();
"""


def wait_for_text(driver: Any, *texts: str, timeout: float = 30.0) -> float:
    """Wait until every text is visible on the page and Streamlit is idle; returns the seconds waited.

    The check runs inside the page at every animation frame (no WebDriver round trip per poll).
    """
    start = time.perf_counter()
    driver.set_script_timeout(timeout + 5)
    missing = driver.execute_async_script(_WAIT_JS, list(texts), timeout * 1000)
    if missing:
        cut = missing.index("||")
        raise TimeoutError(f"textes absents après {timeout:.0f} s : {missing[:cut]}; page : {missing[cut + 1]}")
    return time.perf_counter() - start


def wait_for_element(driver: Any, css: str, timeout: float = 30.0, *, text: str | None = None) -> Any:
    """The first element matching ``css`` (and whose text holds ``text``, when given), once it exists. While
    Streamlit redraws a page its elements can be replaced between a wait for a text and a lookup (seen once in
    CI on a busy machine): a lookup that meets a replaced element tries again."""
    from selenium.common.exceptions import StaleElementReferenceException  # a test dependency, as in browser()
    from selenium.webdriver.common.by import By  # a test dependency, as in browser()

    deadline = time.perf_counter() + timeout
    while True:
        try:
            found = [e for e in driver.find_elements(By.CSS_SELECTOR, css) if text is None or text in e.text]
        except StaleElementReferenceException:
            found = []
        if found:
            return found[0]
        if time.perf_counter() > deadline:
            what = f"{css!r}" + (f" « {text} »" if text is not None else "")
            shown = driver.find_element(By.TAG_NAME, "body").text[-1500:]
            raise TimeoutError(f"aucun élément {what} après {timeout:.0f} s ; page : {shown}")
        time.sleep(0.05)


def requested_urls(driver: Any) -> list[str]:
    """Every URL the page asked for since the last call (Chromium's performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def artifacts_dir() -> Path:
    path = Path(os.environ.get("CAPITALIS_ARTIFACTS", ROOT / "artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
