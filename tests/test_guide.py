"""The user guide (docs/guide, MkDocs Material): it builds strictly, offline, in French; its ten SPARQL queries run.

1. ``mkdocs build --strict`` into a temporary directory: a broken link or anchor, a page missing from the navigation,
   a query file the page includes but that does not exist, fail the build.
2. Every ``docs/guide/requetes/*.rq`` passes the public endpoint's check (``kg.sparql.check_query``) and returns at
   least one row (or triple) on a real store built from the samples, through the store's ``query_serialized`` with the
   public limits (the default graph is the union of the public graphs, as at ``/sparql``).
3. ``api.routes.guide`` serves the built site at ``/guide``, and a French problem when it is not built.

Skips, saying why, only when MkDocs Material is not installed (it is a development dependency).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from kg.settings import Settings
from kg.sparql import check_query
from kg.store import OxigraphStore, open_store

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None,
    reason="MkDocs Material n'est pas installé (pip install mkdocs-material==9.8.1, extra dev) : guide non testé",
)

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guide"
QUERIES = sorted((GUIDE / "requetes").glob("*.rq"))
PAGES = [
    "index.html",
    "premiers-pas/index.html",
    "recherche/index.html",
    "fiches/index.html",
    "parrainage/index.html",
    "contributions/index.html",
    "sparql/index.html",
    "donnees/index.html",
    "cli/index.html",
    "glossaire/index.html",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The guide built with ``mkdocs build --strict`` into a temporary directory."""
    out = tmp_path_factory.mktemp("guide") / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(out)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, f"mkdocs build --strict a échoué :\n{result.stdout}\n{result.stderr}"
    return out


def test_every_page_is_built_in_french(site: Path) -> None:
    for page in PAGES:
        html = (site / page).read_text(encoding="utf-8")
        assert '<html lang="fr"' in html, page
        assert "Pour les chercheurs" in html, f"{page} : la navigation n'est pas celle du guide"
    assert (site / "404.html").is_file()


def test_the_site_fetches_nothing_from_elsewhere(site: Path) -> None:
    """No web fonts, no CDN: every stylesheet, script and image the pages load comes from the site itself."""
    external = re.compile(r"<(?:link|script|img|iframe|source)\b[^>]*\b(?:href|src)=[\"'](?:https?:)?//", re.I)
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not external.search(html), f"{page.relative_to(site)} charge une ressource extérieure"
        assert "fonts.googleapis" not in html and "fonts.gstatic" not in html
    config = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["config"]
    assert config["lang"] == ["fr"]
    assert list(site.glob("assets/javascripts/lunr/min/lunr.fr.min.js")), "le radicaliseur français n'est pas livré"


def test_the_sparql_page_includes_the_ten_query_files(site: Path) -> None:
    assert len(QUERIES) == 10, [q.name for q in QUERIES]
    source = (GUIDE / "sparql.md").read_text(encoding="utf-8")
    html = (site / "sparql" / "index.html").read_text(encoding="utf-8")
    assert "--8&lt;--" not in html and "--8<--" not in html, "une inclusion n'a pas été remplacée"
    for query in QUERIES:
        assert f'--8<-- "requetes/{query.name}"' in source, f"{query.name} n'est pas inclus dans sparql.md"
        assert (site / "requetes" / query.name).is_file(), f"{query.name} n'est pas téléchargeable"
        # the SELECT/CONSTRUCT line of the file is in the page (Pygments splits it into spans: compare the text)
        text = re.sub(r"<[^>]+>", "", html)
        lines = query.read_text(encoding="utf-8").splitlines()
        form = next(line for line in lines if line.startswith(("SELECT", "CONSTRUCT")))
        assert form.split()[1] in text, query.name


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphStore]:
    """A real embedded store holding the samples and the territories they name (as in tests/api)."""
    from ingest.samples import import_samples, load_referential_subset

    home = tmp_path_factory.mktemp("guide-store")
    with open_store(home / "store") as store:
        import_samples(store)
        load_referential_subset(store)
        yield store


@pytest.mark.parametrize("path", QUERIES, ids=[q.stem for q in QUERIES])
def test_each_worked_query_runs_on_the_samples(sample_store: OxigraphStore, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    for field in ("# Titre :", "# Question :", "# Résultat :"):
        assert any(line.startswith(field) for line in header), f"{path.name} : ligne « {field} » manquante"
    kind = check_query(text)  # what the public endpoint accepts (no update, no SERVICE, parsable)
    limit = Settings().sparql_max_results
    if kind == "select":
        _, payload = sample_store.query_serialized(text, "json", max_results=limit)
        rows = json.loads(payload)["results"]["bindings"]
        assert rows, f"{path.name} ne rend aucune ligne sur les données d'exemple"
    elif kind == "construct":
        _, payload = sample_store.query_serialized(text, "nt", max_results=limit)
        assert payload.strip(), f"{path.name} ne rend aucun triplet sur les données d'exemple"
    else:
        pytest.fail(f"{path.name} : forme {kind} inattendue (SELECT ou CONSTRUCT)")


# --- serving: api.routes.guide ----------------------------------------------------------------------------------


def _client(directory: Path):  # type: ignore[no-untyped-def]
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from api.problems import install
    from api.routes import guide

    app = FastAPI()
    install(app)
    app.include_router(guide.router)
    app.state.settings = SimpleNamespace(guide_dir=directory)  # the setting the lead adds (guide_dir)
    return TestClient(app)


def test_the_api_serves_the_built_guide(site: Path) -> None:
    client = _client(site)
    response = client.get("/guide", follow_redirects=False)
    assert response.status_code in (307, 308) and response.headers["location"].endswith("/guide/")
    response = client.get("/guide/")
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert "Capitalis" in response.text
    assert "01_graphes_nommes" in client.get("/guide/sparql/").text
    assert client.get("/guide/requetes/01_graphes_nommes.rq").status_code == 200
    assert client.get("/guide/assets/javascripts/lunr/min/lunr.fr.min.js").status_code == 200
    assert client.get("/guide/page-absente/").status_code == 404
    assert client.get("/guide/%2e%2e/%2e%2e/pyproject.toml").status_code == 404


def test_an_unbuilt_guide_is_a_french_problem(tmp_path: Path) -> None:
    response = _client(tmp_path / "absent").get("/guide/")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["title"] == "Guide non construit" and "make guide" in body["detail"]


def test_the_default_directory_is_the_site_dir_of_mkdocs_yml() -> None:
    from api.routes.guide import DEFAULT_GUIDE_DIR, guide_dir

    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    site_dir = re.search(r"^site_dir:\s*(\S+)", config, re.M)
    assert site_dir and ROOT / site_dir[1] == DEFAULT_GUIDE_DIR
    assert guide_dir(Settings()) == (getattr(Settings(), "guide_dir", None) or DEFAULT_GUIDE_DIR)
