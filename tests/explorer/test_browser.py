"""The explorer in a real browser: Debian's headless Chromium against ``streamlit run`` on the sample store.

Runs a search, opens a fiche from a result, runs a match, opens a fiche deep link and a SPARQL example;
asserts on visible text and saves screenshots under ``artifacts/``. Skips only when Chromium cannot be
installed on this machine (``tools/install_chromium.sh``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from explorer import fiche_url
from explorer.testing import artifacts_dir, browser, missing_browser, serve, wait_for_element, wait_for_text
from tests.explorer.sample_home import EMBEDDER

REASON = missing_browser()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"navigateur indisponible : {REASON}")


@pytest.fixture(scope="module")
def site(sample_home: Path):  # type: ignore[no-untyped-def]
    with serve(sample_home, env={"CAPITALIS_EMBEDDER": EMBEDDER}) as base, browser() as driver:
        yield base, driver


def _type(driver: Any, label: str, text: str, *, textarea: bool = False, timeout: float = 30.0) -> None:
    """Type into a field and submit it. While Streamlit reruns the page a widget can be replaced or briefly
    not interactable (seen on a busy machine): try again until ``timeout``."""
    from selenium.common.exceptions import ElementNotInteractableException, StaleElementReferenceException
    from selenium.webdriver.common.keys import Keys

    tag = "textarea" if textarea else "input"
    deadline = time.perf_counter() + timeout
    while True:
        field = wait_for_element(driver, f'{tag}[aria-label="{label}"]', timeout)
        try:
            field.clear()
            field.send_keys(text)
            field.send_keys(Keys.CONTROL, Keys.ENTER) if textarea else field.send_keys(Keys.ENTER)
            return
        except (ElementNotInteractableException, StaleElementReferenceException):
            if time.perf_counter() > deadline:
                raise
            time.sleep(0.2)


def _button(driver: Any, text: str) -> Any:
    from selenium.webdriver.common.by import By

    return next(b for b in driver.find_elements(By.TAG_NAME, "button") if text in b.text)


def test_search_then_open_a_fiche(site: tuple[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    base, driver = site
    driver.get(base + "/")
    wait_for_text(driver, "Recherche d'expériences", "Données d'exemple")
    _type(driver, "Que cherchez-vous ?", "portail famille")
    wait_for_text(driver, "pour « portail famille »", "Portail famille nouvelle génération")
    marks = driver.find_elements(By.TAG_NAME, "mark")
    assert any(m.text.lower() == "portail" for m in marks)
    driver.save_screenshot(str(artifacts_dir() / "explorer-recherche.png"))
    link = next(
        a
        for a in driver.find_elements(By.CSS_SELECTOR, "a[href*='fiche?iri=']")
        if "Portail famille nouvelle génération" in a.text
    )
    link.click()
    wait_for_text(driver, "Propriétés et provenance", "Voisinage dans le graphe", "Enregistrements sources")
    assert "fiche?iri=" in driver.current_url
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Portail famille nouvelle génération")
    driver.save_screenshot(str(artifacts_dir() / "explorer-fiche.png"))


def test_fiche_deep_link(site: tuple[str, Any]) -> None:
    base, driver = site
    driver.get(fiche_url("https://w3id.org/capitalis/id/collectivite/35238", base))
    wait_for_text(driver, "Rennes", "Liens entrants", "Données d'exemple")
    driver.save_screenshot(str(artifacts_dir() / "explorer-fiche-collectivite.png"))


def test_match(site: tuple[str, Any]) -> None:
    base, driver = site
    driver.get(base + "/parrainage")
    wait_for_text(driver, "Trouver un parrain")
    _type(driver, "Collectivité (nom ou code INSEE, SIREN)", "Acigné")
    wait_for_element(driver, 'input[aria-label="Collectivité"]')
    _type(driver, "Décrivez votre besoin", "un portail famille pour la cantine", textarea=True)
    _button(driver, "Chercher des parrains").click()
    wait_for_text(driver, "Parrains pour Acigné", "Saint-Priest a mené 1 expérience pertinente", timeout=60)
    driver.save_screenshot(str(artifacts_dir() / "explorer-parrainage.png"))


def test_dashboard_and_sparql(site: tuple[str, Any]) -> None:
    base, driver = site
    driver.get(base + "/tableau-de-bord")
    wait_for_text(driver, "Expériences par région", "Lieux de médiation numérique pour 10 000 habitants")
    driver.save_screenshot(str(artifacts_dir() / "explorer-tableau-de-bord.png"))
    driver.get(base + "/sparql")
    wait_for_text(driver, "Console SPARQL")
    driver.save_screenshot(str(artifacts_dir() / "explorer-sparql.png"))


def test_click_on_a_graph_node_opens_its_fiche(site: tuple[str, Any]) -> None:
    """Find an experience node (its colour) in the neighbourhood graph of Rennes, click it, land on its fiche."""
    import io

    from PIL import Image
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from explorer.ui import KIND_COLOURS

    base, driver = site
    driver.get(fiche_url("https://w3id.org/capitalis/id/collectivite/35238", base))
    wait_for_text(driver, "Voisinage dans le graphe", "Liens entrants")
    deadline = time.monotonic() + 30
    while not [c for c in driver.find_elements(By.CSS_SELECTOR, "canvas") if c.size["height"] >= 400]:
        assert time.monotonic() < deadline, "the neighbourhood graph was not drawn"
        time.sleep(0.1)
    time.sleep(0.5)  # let ECharts paint the nodes
    canvas = next(c for c in driver.find_elements(By.CSS_SELECTOR, "canvas") if c.size["height"] >= 400)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    image = Image.open(io.BytesIO(canvas.screenshot_as_png)).convert("RGB")
    scale_x, scale_y = canvas.size["width"] / image.width, canvas.size["height"] / image.height
    target = tuple(int(KIND_COLOURS["experience"][i : i + 2], 16) for i in (1, 3, 5))
    hits = [
        (x, y)
        for y in range(int(60 / scale_y), image.height, 2)  # below the legend
        for x in range(0, image.width, 2)
        if sum(abs(a - b) for a, b in zip(image.getpixel((x, y)), target, strict=True)) < 12
    ]
    assert hits, "no experience node drawn in the graph"
    x0, y0 = hits[0]
    blob = [(x, y) for x, y in hits if abs(x - x0) < 16 and abs(y - y0) < 16]
    x = sum(p[0] for p in blob) / len(blob) * scale_x - canvas.size["width"] / 2
    y = sum(p[1] for p in blob) / len(blob) * scale_y - canvas.size["height"] / 2
    ActionChains(driver).move_to_element_with_offset(canvas, int(x), int(y)).click().perform()
    deadline = time.monotonic() + 20
    while "experience" not in driver.current_url and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "experience" in driver.current_url

    def title() -> str:
        try:
            return driver.find_element(By.TAG_NAME, "h1").text
        except Exception:  # replaced while read
            return "Rennes"

    while title() == "Rennes" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert title() != "Rennes"
    wait_for_text(driver, "Propriétés et provenance", "Enregistrements sources")
    driver.save_screenshot(str(artifacts_dir() / "explorer-fiche-depuis-le-graphe.png"))
