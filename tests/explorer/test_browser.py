"""The explorer in a real browser: Debian's headless Chromium against ``streamlit run`` on the sample store.

Opens the home page (no developer toolbar), a shared search URL (``/recherche?q=…``) and a fiche from a result,
runs a match, opens a fiche deep link, the dashboard and the SPARQL console; checks that every request stays on
the explorer's own address (no CDN, no base-map style), that pages fit the window, and that a hostile title
from a source is shown as text (no ``javascript:`` link, no script run). Saves screenshots under ``artifacts/``
with the names of ``docs/guide/images/README.md``; with ``CAPITALIS_GUIDE_IMAGES=1`` they are copied there too.
Skips only when Chromium cannot be installed on this machine (``tools/install_chromium.sh``).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from explorer import fiche_url
from explorer.testing import (
    ROOT,
    artifacts_dir,
    browser,
    missing_browser,
    requested_urls,
    serve,
    wait_for_element,
    wait_for_text,
)
from tests.explorer.conftest import HOSTILE_IRI, HOSTILE_TITLE
from tests.explorer.sample_home import EMBEDDER

REASON = missing_browser()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"navigateur indisponible : {REASON}")
#: The screenshots the guide shows (docs/guide/images/README.md).
GUIDE_IMAGES = ROOT / "docs" / "guide" / "images"


@pytest.fixture(scope="module")
def driver():  # type: ignore[no-untyped-def]
    with browser() as d:
        yield d


@pytest.fixture(scope="module")
def site(sample_home: Path, driver: Any):  # type: ignore[no-untyped-def]
    with serve(sample_home, env={"CAPITALIS_EMBEDDER": EMBEDDER}) as base:
        yield base, driver


def _shot(driver: Any, name: str) -> None:
    """Save a screenshot in ``artifacts/``; copy it into the guide's images when asked."""
    path = artifacts_dir() / name
    driver.save_screenshot(str(path))
    if os.environ.get("CAPITALIS_GUIDE_IMAGES") and (GUIDE_IMAGES / "README.md").exists():
        shutil.copyfile(path, GUIDE_IMAGES / name)


def _only_local_requests(driver: Any, base: str) -> None:
    """Every request since the last check went to the explorer itself (or stayed in the page)."""
    foreign = [u for u in requested_urls(driver) if not u.startswith((base, "data:", "blob:", "about:"))]
    assert not foreign, f"requêtes hors de l'explorateur : {foreign[:5]}"


def _fits(driver: Any) -> None:
    """Nothing wider than the window: no horizontal scroll."""
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"la page déborde de {overflow} px"


def test_home_page_without_developer_toolbar(site: tuple[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    base, driver = site
    requested_urls(driver)  # forget what came before
    driver.get(base + "/")
    wait_for_text(driver, "Capitalis, l'observatoire", "Dernières expériences", "Lieux de médiation", "Exemples")
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMainMenu"]')
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stAppDeployButton"]')
    assert "Deploy" not in driver.find_element(By.TAG_NAME, "body").text
    cut = driver.execute_script(
        """return [...document.querySelectorAll('[data-testid="stPageLink-NavLink"] *')]
             .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""
    )
    assert not cut, f"liens coupés : {cut}"
    _fits(driver)
    _shot(driver, "explorer-accueil.png")
    _only_local_requests(driver, base)


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
    return wait_for_element(driver, "button", text=text)


def test_shared_search_url_then_open_a_fiche(site: tuple[str, Any]) -> None:
    """``/recherche?q=…&axe=1`` opens that search (no "Page not found"); the filter chip is whole; the map of the
    carriers is drawn without any request outside the explorer."""
    from selenium.webdriver.common.by import By

    base, driver = site
    requested_urls(driver)
    driver.get(base + "/recherche?q=" + quote("portail famille") + "&axe=1")
    wait_for_text(driver, "Recherche d'expériences", "pour « portail famille »", "Données d'exemple")
    assert "Page not found" not in driver.find_element(By.TAG_NAME, "body").text
    chip = _button(driver, "✕ Axe")
    assert chip.text == "✕ Axe : 1. Démocratie et services publics"
    assert driver.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth + 1", chip)
    _button(driver, "Carte des porteurs").click()
    wait_for_text(driver, "porteur(s) localisé(s)")
    wait_for_element(driver, "canvas")
    time.sleep(1.5)  # let deck.gl load what it would load
    _fits(driver)
    _only_local_requests(driver, base)
    driver.get(base + "/recherche?q=" + quote("portail famille"))
    wait_for_text(driver, "pour « portail famille »", "Portail famille nouvelle génération")
    marks = driver.find_elements(By.TAG_NAME, "mark")
    assert any(m.text.lower() == "portail" for m in marks)
    _fits(driver)
    _shot(driver, "explorer-recherche.png")
    link = wait_for_element(driver, "a[href*='fiche?iri=']", text="Portail famille nouvelle génération")
    link.click()
    wait_for_text(driver, "Propriétés et provenance", "Voisinage dans le graphe", "Enregistrements sources")
    assert "fiche?iri=" in driver.current_url
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Portail famille nouvelle génération")
    _fits(driver)
    _shot(driver, "explorer-fiche.png")


def test_fiche_deep_link(site: tuple[str, Any]) -> None:
    base, driver = site
    driver.get(fiche_url("https://w3id.org/capitalis/id/collectivite/35238", base))
    wait_for_text(driver, "Rennes", "Liens entrants", "Données d'exemple")
    _shot(driver, "explorer-fiche-collectivite.png")


def test_match(site: tuple[str, Any]) -> None:
    base, driver = site
    driver.get(base + "/parrainage")
    wait_for_text(driver, "Trouver un parrain")
    _type(driver, "Collectivité (nom ou code INSEE, SIREN)", "Acigné")
    wait_for_element(driver, 'input[aria-label="Collectivité"]')
    _type(driver, "Décrivez votre besoin", "un portail famille pour la cantine", textarea=True)
    _button(driver, "Chercher des parrains").click()
    wait_for_text(driver, "Parrains pour Acigné", "Saint-Priest a mené 1 expérience pertinente", timeout=60)
    _shot(driver, "explorer-parrainage.png")


def test_dashboard_and_sparql(site: tuple[str, Any]) -> None:
    base, driver = site
    driver.get(base + "/tableau-de-bord")
    wait_for_text(driver, "Expériences par région", "Lieux de médiation numérique pour 10 000 habitants")
    _fits(driver)
    _shot(driver, "explorer-tableau-de-bord.png")
    driver.get(base + "/sparql")
    wait_for_text(driver, "Console SPARQL", "Aperçu", "PREFIX cap:")
    _button(driver, "Exécuter").click()
    wait_for_text(driver, "10 ligne(s)")
    _fits(driver)
    _shot(driver, "explorer-sparql.png")


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


def test_a_hostile_title_is_shown_as_text_and_runs_nothing(hostile_home: Path, driver: Any) -> None:
    """A source titled ``[clic](javascript:alert(1)) <img src=x onerror=alert(2)> …``: the fiche and the search
    show those characters; no link has a ``javascript:`` address, no image is made, no alert opens."""
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    with serve(hostile_home, env={"CAPITALIS_EMBEDDER": EMBEDDER}) as base:
        for url, wanted in (
            (fiche_url(HOSTILE_IRI, base), "Propriétés et provenance"),
            (base + "/recherche?q=clic", "pour « clic »"),
        ):
            driver.get(url)
            wait_for_text(driver, wanted, "[clic](javascript:alert(1))")
            hrefs = [a.get_attribute("href") or "" for a in driver.find_elements(By.TAG_NAME, "a")]
            assert not [h for h in hrefs if h.lower().startswith("javascript")]
            assert not driver.find_elements(By.CSS_SELECTOR, "img[src='x'], img[onerror]")
            assert not driver.find_elements(By.XPATH, "//strong[text()='gras']")
            with pytest.raises(NoAlertPresentException):
                driver.switch_to.alert.text  # noqa: B018 (reading it is the check)
        driver.get(fiche_url(HOSTILE_IRI, base))
        wait_for_text(driver, "Propriétés et provenance")
        assert driver.find_element(By.TAG_NAME, "h1").text == HOSTILE_TITLE
