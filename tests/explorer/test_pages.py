"""Each page of the explorer run by ``streamlit.testing`` on the real store built from the samples.

A search with a filter, fiches (experience, collectivité, person, technology, concept, unknown IRI), a match
with its proposal recorded, grappes, the dashboard, a SPARQL example and refused queries, and one smoke test
that runs every page.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import quote

import pytest

from explorer import FICHE_URL_TEMPLATE, fiche_url

EXP = "https://w3id.org/capitalis/id/experience/vi-1002"
CAP = "https://w3id.org/capitalis/ontology#"
PAGES = (
    "app_pages/accueil.py",
    "app_pages/recherche.py",
    "app_pages/fiche.py",
    "app_pages/parrainage.py",
    "app_pages/tableau_de_bord.py",
    "app_pages/sparql.py",
)


def _texts(at: Any) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.title] + [c.value for c in at.caption]
    parts += [x.value for x in at.info] + [x.value for x in at.success] + [x.value for x in at.error]
    parts += [x.value for x in at.warning] + [h.value for h in at.subheader]
    return _shown("\n".join(str(p) for p in parts))  # markdown escapes out


def _shown(markdown: str) -> str:
    """What a reader sees of a value escaped by ``explorer.ui.literal``."""
    return html.unescape(markdown.replace("\\", ""))


def _ok(at: Any) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _open(app: Any, page: str, **params: str) -> Any:
    if not app._tree:  # a first run, so that the navigation knows its pages
        app.run()
    app.switch_page(page)
    for k, v in params.items():
        app.query_params[k] = v
    app.run()
    _ok(app)
    return app


def test_every_page_renders_with_the_sample_banner(app: Any) -> None:
    app.run()
    _ok(app)
    for page in PAGES:
        _open(app, page)
        assert "Données d'exemple" in _texts(app), page


def test_home_page_says_what_to_do(app: Any) -> None:
    """The root URL is a home page: a search box, examples, the figures, the newest experiences, the pages."""
    app.run()
    _ok(app)
    assert app.title[0].value.startswith("Capitalis")
    assert app.text_input(key="home_q").label == "Que cherchez-vous ?"
    metrics = {m.label: m.value for m in app.metric}
    assert int(metrics["Expériences"].replace("\u202f", "")) > 300
    assert int(metrics["Lieux de médiation"].replace("\u202f", "")) > 100
    links = [p.proto for p in app.get("page_link")]
    labels = [p.label for p in links]
    assert "portail famille" in labels
    fiches = [p for p in links if "iri=" in p.query_string]
    assert len(fiches) >= 5  # the newest experiences, each a link to its fiche
    assert any("Trouver un parrain" in label for label in labels)
    app.text_input(key="home_q").set_value("cantine").run()
    _ok(app)
    assert app.text_input(key="q").value == "cantine"  # sent on to the search page
    assert app.query_params["q"] in ("cantine", ["cantine"])


def test_search_with_a_facet_filter_then_removing_it(app: Any) -> None:
    _open(app, "app_pages/recherche.py")
    app.text_input(key="q").set_value("portail famille").run()
    _ok(app)
    text = _texts(app)
    assert "pour « portail famille »" in text
    assert "<mark>" in text  # highlighted extracts
    unfiltered = int(next(m.value for m in app.markdown if "expérience(s)" in m.value).split("**")[1].split()[0])
    app.multiselect(key="facet_axe").set_value(["1"]).run()
    _ok(app)
    filtered = int(next(m.value for m in app.markdown if "expérience(s)" in m.value).split("**")[1].split()[0])
    assert 0 < filtered < unfiltered
    chip = next(b for b in app.button if b.label.startswith("✕ Axe"))
    assert "Démocratie et services publics" in chip.label
    assert app.query_params["axe"] == ["1"] or app.query_params["axe"] == "1"
    chip.click().run()
    _ok(app)
    again = int(next(m.value for m in app.markdown if "expérience(s)" in m.value).split("**")[1].split()[0])
    assert again == unfiltered
    assert not any(b.label.startswith("✕ Axe") for b in app.button)


def test_search_downloads_and_map(app: Any) -> None:
    _open(app, "app_pages/recherche.py")
    app.text_input(key="q").set_value("médiation numérique").run()
    _ok(app)
    labels = [b.proto.label for b in app.get("download_button")]
    assert "Résultats (CSV)" in labels
    assert "Carte (GeoJSON)" in labels
    app.segmented_control(key="vue").set_value("Carte des porteurs").run()
    _ok(app)
    assert any("porteur(s) localisé(s)" in c.value for c in app.caption)
    # No base map: pydeck's "no style" marker, which Streamlit reads as "draw none" (without it, Streamlit asks
    # a CDN for a CARTO style); the outline of France comes from the bundled GeoJSON, as the first layer.
    deck = json.loads(app.get("deck_gl_json_chart")[0].proto.json)
    assert deck.get("mapStyle") == "__MAP_STYLE__"
    assert "http" not in json.dumps(deck)
    assert deck["layers"][0]["@@type"] == "GeoJsonLayer"


def test_search_deep_link_restores_query_and_filters(app: Any) -> None:
    """``/recherche?q=cantine&taille=village`` opens that search; so does the older ``/?q=…`` form."""
    app.run()
    app.switch_page("app_pages/recherche.py")
    app.query_params["q"] = "cantine"
    app.query_params["taille"] = "village"
    app.run()
    _ok(app)
    assert app.text_input(key="q").value == "cantine"
    assert app.multiselect(key="facet_taille").value == ["village"]


def test_old_search_link_at_the_root_is_sent_to_the_search_page(app: Any) -> None:
    app.query_params["q"] = "cantine"
    app.query_params["taille"] = "village"
    app.run()
    _ok(app)
    assert app.text_input(key="q").value == "cantine"
    assert app.multiselect(key="facet_taille").value == ["village"]


def test_active_filters_are_whole_chips_in_one_wrapping_row(app: Any) -> None:
    _open(app, "app_pages/recherche.py")
    app.multiselect(key="facet_axe").set_value(["1"]).run()
    app.multiselect(key="facet_region").set_value(["84"]).run()
    _ok(app)
    chips = [b.label for b in app.button if b.label.startswith("✕")]
    assert "✕ Axe : 1\\. Démocratie et services publics" in chips
    assert "✕ Région du porteur : Auvergne\\-Rhône\\-Alpes" in chips


def test_fiche_of_an_experience_with_provenance_and_neighbours(app: Any) -> None:
    _open(app, "app_pages/fiche.py", iri=EXP)
    assert _shown(app.title[0].value) == "Portail famille nouvelle génération, connecté à FranceConnect"
    text = _texts(app)
    assert "Propriétés et provenance" in text
    assert "Villes Internet" in text and "atlaas:Actions/Outils" in text
    assert "Enregistrements sources" in text
    neighbours = app.selectbox(key=f"neighbour-{EXP}")
    assert any(o.startswith("Saint-Priest — Collectivité") for o in neighbours.options)
    neighbours.set_value("https://w3id.org/capitalis/id/collectivite/69290").run()
    _ok(app)
    assert _shown(app.title[0].value) == "Saint-Priest"


@pytest.mark.parametrize(
    ("iri", "title"),
    [
        ("https://w3id.org/capitalis/id/collectivite/35238", "Rennes"),
        ("https://w3id.org/capitalis/id/technologie/wordpress", "WordPress"),
        ("https://w3id.org/capitalis/id/service/S3", "Portail famille"),
    ],
)
def test_fiches_of_other_kinds(app: Any, iri: str, title: str) -> None:
    _open(app, "app_pages/fiche.py", iri=iri)
    assert _shown(app.title[0].value) == title
    assert "Voisinage dans le graphe" in _texts(app)


def test_fiche_of_a_person_shows_public_fields_only(app: Any, explorer_home: Any) -> None:
    from kg.store import open_store

    with open_store(explorer_home / "store", read_only=True) as store:
        row = store.select(
            "SELECT ?p WHERE { GRAPH ?g { ?p a <https://w3id.org/capitalis/ontology#Personne> } } LIMIT 1"
        )[0]
        contact = " ".join(f"<{CAP}{p}>" for p in ("courriel", "telephone", "telephoneMobile", "fax", "adresse"))
        private = store.select_private(
            f"SELECT ?o WHERE {{ GRAPH ?g {{ $p ?k ?o }} VALUES ?k {{ {contact} }} }}", p=row["p"]
        )
    _open(app, "app_pages/fiche.py", iri=str(row["p"]))
    text = _texts(app)
    assert private, "the sample persons have private contact details"
    for r in private:
        assert str(r["o"]) not in text


def test_fiche_unknown_and_malformed_iri_give_a_french_error(app: Any) -> None:
    _open(app, "app_pages/fiche.py", iri="https://w3id.org/capitalis/id/experience/nope")
    assert "Introuvable" in app.error[0].value
    _open(app, "app_pages/fiche.py", iri="pas une iri")
    assert "iri" in app.error[0].value


def test_fiche_finder_by_name(app: Any) -> None:
    _open(app, "app_pages/fiche.py")
    app.text_input(key="fiche_find").set_value("rennes").run()
    _ok(app)
    links = [p.proto.label for p in app.get("page_link")]
    assert any(_shown(label).startswith("Rennes — Collectivité") for label in links)


def test_match_then_propose_a_parrainage(app: Any) -> None:
    _open(app, "app_pages/parrainage.py")
    app.text_input(key="pm_text").set_value("Acigné").run()
    assert app.selectbox(key="pm_code").value == "35001"
    app.text_area(key="pm_besoin").set_value("un portail famille pour la cantine").run()
    app.button(key="pm_go").click().run()
    _ok(app)
    text = _texts(app)
    assert "Parrains pour Acigné" in text
    assert "Saint-Priest a mené 1 expérience pertinente" in text
    assert any(m.label == "Score" for m in app.metric)
    app.button(key="pm_record").click().run()
    _ok(app)
    assert "Parrainage proposé et enregistré." in _texts(app)
    rows = app.dataframe[-1].value
    assert "Acigné" in " ".join(rows["filleuls"])


def test_match_without_a_need_is_refused_in_french(app: Any) -> None:
    _open(app, "app_pages/parrainage.py")
    app.text_input(key="pm_text").set_value("35001").run()
    app.button(key="pm_go").click().run()
    assert "**Besoin**" in app.error[0].value


def test_grappes_of_a_departement(app: Any) -> None:
    _open(app, "app_pages/parrainage.py")
    app.selectbox(key="pg_dep").select("35").run()
    app.multiselect(key="pg_services").set_value(["S3"]).run()
    app.button(key="pg_go").click().run()
    _ok(app)
    assert "Grappes de Ille-et-Vilaine" in _texts(app)


def test_dashboard(app: Any) -> None:
    _open(app, "app_pages/tableau_de_bord.py")
    metrics = {m.label: m.value for m in app.metric}
    assert int(metrics["Expériences"]) > 300
    assert int(metrics["Lieux de médiation"]) > 100
    app.segmented_control(key="dash_level").set_value("enjeu").run()
    _ok(app)


def test_sparql_example_table_and_downloads(app: Any) -> None:
    _open(app, "app_pages/sparql.py")
    examples = app.selectbox(key="sparql_example")
    assert len(examples.options) >= 8
    examples.set_value("01_experiences_par_axe").run()
    _ok(app)
    frame = app.dataframe[0].value
    assert list(frame.columns) == ["axe", "libelle", "experiences"]
    assert len(frame) == 4
    labels = [b.proto.label for b in app.get("download_button")]
    assert labels == ["Télécharger en CSV", "Télécharger en JSON"]


def test_sparql_editor_has_the_prefixes_ready_and_a_highlighted_view(app: Any) -> None:
    _open(app, "app_pages/sparql.py")
    query = app.text_area(key="sparql_query").value
    assert "PREFIX cap: <https://w3id.org/capitalis/ontology#>" in query and "SELECT" in query
    view = app.code[0]
    assert view.language == "sparql" and view.value.strip() == query.strip()
    next(b for b in app.button if b.label == "Exécuter").click().run()
    _ok(app)
    assert len(app.dataframe[0].value) == 10
    app.text_area(key="sparql_query").set_value("SELECT ?t WHERE { ?e dct:title ?t ; a cap:Experience } LIMIT 3").run()
    next(b for b in app.button if b.label == "Ajouter les préfixes").click().run()
    query = app.text_area(key="sparql_query").value
    assert query.startswith("PREFIX cap: <https://w3id.org/capitalis/ontology#>\nPREFIX dct: <http://purl.org/")
    assert "skos:" not in query  # only the prefixes the query uses


def test_sparql_syntax_error_names_its_line_and_column_in_french(app: Any) -> None:
    _open(app, "app_pages/sparql.py")
    query = "PREFIX cap: <https://w3id.org/capitalis/ontology#>\nSELECT ?e WHERE {\n  ?e a cap:Experience .\n"
    query += "  FILTER(?e = )\n}"
    app.text_area(key="sparql_query").set_value(query).run()
    next(b for b in app.button if b.label == "Exécuter").click().run()
    message = app.error[0].value
    assert "Erreur de syntaxe SPARQL, ligne 4, colonne 3" in message
    assert "« FILTER » n'est pas attendu à cet endroit" in message
    assert "Expected" not in message and "found" not in message  # no raw parser English
    assert app.code[-1].value == "  FILTER(?e = )\n  ^"


def test_sparql_bad_and_update_queries_are_refused(app: Any) -> None:
    _open(app, "app_pages/sparql.py")
    app.text_area(key="sparql_query").set_value("SELECT WHERE {").run()
    next(b for b in app.button if b.label == "Exécuter").click().run()
    assert "SPARQL" in app.error[0].value
    assert "ligne 1, colonne 8" in app.error[0].value
    app.text_area(key="sparql_query").set_value("DELETE WHERE { ?s ?p ?o }").run()
    next(b for b in app.button if b.label == "Exécuter").click().run()
    assert "lecture seule" in app.error[0].value


def test_every_example_query_returns_rows(explorer_home: Any) -> None:
    import json

    from explorer.data import QUERIES_DIR
    from kg.sparql import run_public_query
    from kg.store import open_store

    files = sorted(QUERIES_DIR.glob("*.rq"))
    assert len(files) >= 8
    with open_store(explorer_home / "store", read_only=True) as store:
        for path in files:
            text = path.read_text(encoding="utf-8")
            assert text.startswith("# Titre : ") and "\n# Question : " in text, path.name
            body = json.loads(run_public_query(store, text, "json").body)
            assert body["results"]["bindings"], path.name


def test_deep_link_pattern() -> None:
    iri = "https://w3id.org/capitalis/id/experience/vi-1002"
    assert FICHE_URL_TEMPLATE == "{base_url}/fiche?iri={iri}"
    assert fiche_url(iri, "http://127.0.0.1:8501/") == "http://127.0.0.1:8501/fiche?iri=" + quote(iri, safe="")
