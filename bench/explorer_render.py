"""Render time of each explorer page, measured in a real browser (Debian's headless Chromium).

The explorer runs as ``streamlit run`` on a store built from the samples (or ``--home``); each page is opened
by URL and timed from navigation to the moment its last element is visible and Streamlit is idle. "cold" is
the first visit after the server started (empty caches), "warm" the median and maximum of ``--repeat``
further visits, each in a new session. The baseline, measured the same way in the same run, is a one-line
Streamlit app: the cost of Streamlit itself (page, scripts, websocket) on this machine.

    .venv/bin/python bench/explorer_render.py [--home var/demo] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.testing import (  # noqa: E402
    EMBEDDER,
    browser,
    build_home,
    missing_browser,
    serve,
    wait_for_element,
    wait_for_text,
)

LIMIT_S = 2.0
EXP = "https://w3id.org/capitalis/id/experience/vi-1002"
COLL = "https://w3id.org/capitalis/id/collectivite/35238"


def _match(driver: Any, base: str) -> float:
    """The parrainage page, then a match for Acigné (typed as a user would): time until the sponsors show."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(base + "/parrainage")
    wait_for_text(driver, "Chercher des parrains")
    field = wait_for_element(driver, 'input[aria-label="Collectivité (nom ou code INSEE, SIREN)"]')
    field.send_keys("35001", Keys.ENTER)
    wait_for_element(driver, 'input[aria-label="Collectivité"]')
    area = wait_for_element(driver, 'textarea[aria-label="Décrivez votre besoin"]')
    area.send_keys("un portail famille pour la cantine", Keys.CONTROL, Keys.ENTER)
    time.sleep(0.5)
    button = next(b for b in driver.find_elements(By.TAG_NAME, "button") if "Chercher des parrains" in b.text)
    start = time.perf_counter()
    button.click()
    wait_for_text(driver, "Parrains pour", "Proposer un parrainage", "Enregistrer la proposition", timeout=60)
    return time.perf_counter() - start


def _page(path: str, *texts: str) -> Callable[[Any, str], float]:
    def run(driver: Any, base: str) -> float:
        start = time.perf_counter()
        driver.get(base + path)
        wait_for_text(driver, *texts, timeout=60)
        return time.perf_counter() - start

    return run


PAGES: list[tuple[str, Callable[[Any, str], float]]] = [
    ("Recherche (tout)", _page("/", "expérience(s)", "Filtres", "10. ")),
    ("Recherche « portail famille »", _page("/?q=portail+famille", "pour « portail famille »", "10. ")),
    (
        "Fiche d'une expérience",
        _page(
            f"/fiche?iri={quote(EXP, safe='')}",
            "Propriétés et provenance",
            "Enregistrements sources",
            "Expériences similaires",
            "Télécharger la fiche",
        ),
    ),
    (
        "Fiche d'une collectivité",
        _page(
            f"/fiche?iri={quote(COLL, safe='')}", "Propriétés et provenance", "Liens entrants", "Télécharger la fiche"
        ),
    ),
    ("Parrainage (formulaire)", _page("/parrainage", "Chercher des parrains")),
    ("Parrainage : un match (après clic)", _match),
    ("Tableau de bord", _page("/tableau-de-bord", "Lieux de médiation numérique pour 10 000", "Sources :")),
    ("SPARQL", _page("/sparql", "Console SPARQL", "Exécuter")),
]


def measure(base: str, runs: list[tuple[str, Callable[[Any, str], float]]], repeat: int) -> list[dict[str, Any]]:
    rows = []
    with browser() as driver:
        for name, run in runs:
            cold = run(driver, base)
            warm = [run(driver, base) for _ in range(repeat)]
            rows.append({"page": name, "cold": cold, "median": statistics.median(warm), "max": max(warm)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="CAPITALIS_HOME to serve (default: a fresh sample home)")
    parser.add_argument("--repeat", type=int, default=5, help="warm visits per page")
    args = parser.parse_args(argv)
    reason = missing_browser()
    if reason:
        print(f"navigateur indisponible : {reason}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home
        env: dict[str, str] = {}
        if home is None:
            started = time.perf_counter()
            home = build_home(Path(tmp) / "home")
            env["CAPITALIS_EMBEDDER"] = EMBEDDER
            print(f"sample home built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        baseline_app = Path(tmp) / "baseline.py"
        baseline_app.write_text(
            'import streamlit as st\nst.title("Capitalis")\nst.write("Bonjour.")\n', encoding="utf-8"
        )
        baseline = _baseline(baseline_app, home, args.repeat)
        with serve(home, env=env) as base:
            rows = measure(base, PAGES, args.repeat)
    print(f"\nExplorer render times in headless Chromium ({args.repeat} warm visits per page; limit {LIMIT_S:.0f} s)\n")
    print("| page | cold (s) | warm median (s) | warm max (s) | under 2 s (warm) |")
    print("|---|---:|---:|---:|---|")
    print(
        f"| baseline: one-line Streamlit app | {baseline['cold']:.2f} | {baseline['median']:.2f} | "
        f"{baseline['max']:.2f} | {'yes' if baseline['median'] < LIMIT_S else 'no'} |"
    )
    for r in rows:
        ok = "yes" if r["median"] < LIMIT_S else "NO"
        print(f"| {r['page']} | {r['cold']:.2f} | {r['median']:.2f} | {r['max']:.2f} | {ok} |")
    return 0 if all(r["median"] < LIMIT_S for r in rows) else 1


def _baseline(app: Path, home: Path, repeat: int) -> dict[str, Any]:
    """The one-line app served and timed like the explorer's pages."""
    with serve(home, app=app) as base:
        return measure(base, [("baseline", _page("/", "Bonjour."))], repeat)[0]


if __name__ == "__main__":
    raise SystemExit(main())
