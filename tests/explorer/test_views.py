"""The kg functions behind the explorer: fiches, neighbourhoods, dashboard figures, points and maps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from explorer import svgmap
from fiches import dashboard, fiche
from kg.context import Context
from kg.errors import InvalidInput, NotFound
from kg.settings import Settings
from kg.store import OxigraphStore, open_store
from territoires import carte
from territoires import collectivites as geo
from tests.explorer.sample_home import EMBEDDER

EXP = "https://w3id.org/capitalis/id/experience/vi-1002"


@pytest.fixture
def store(explorer_home: Path) -> Iterator[OxigraphStore]:
    with open_store(explorer_home / "store", read_only=True) as s:
        yield s


def test_fiche_values_carry_their_sources(store: OxigraphStore) -> None:
    f = fiche.fiche(store, EXP)
    assert f.kind == "experience" and f.label.startswith("Portail famille")
    props = {p.short: p for p in f.properties}
    porteur = props["cap:porteur"].values[0]
    assert porteur.iri and porteur.label == "Saint-Priest" and porteur.kind == "collectivite"
    assert porteur.graphs == ["villes-internet"]
    assert "atlaas:Actions/Outils" in props["cap:technologie"].champ_source
    assert [t.short for t in f.texts][:1] == ["cap:synthese"]
    assert f.records and f.records[0].fichier and f.records[0].ligne


def test_neighbourhood_links_the_entity_and_drops_provenance(store: OxigraphStore) -> None:
    hood = fiche.neighbourhood(store, EXP)
    iris = {n.iri for n in hood.nodes}
    assert "https://w3id.org/capitalis/id/collectivite/69290" in iris
    assert all(n.kind != "provenance" for n in hood.nodes)
    assert any(e.source == EXP and e.label == "porteur" for e in hood.edges)
    assert all(e.source in iris and e.target in iris for e in hood.edges)


def test_fiche_errors(store: OxigraphStore) -> None:
    with pytest.raises(NotFound):
        fiche.fiche(store, "https://w3id.org/capitalis/id/experience/absente")
    with pytest.raises(InvalidInput, match="iri"):
        fiche.fiche(store, "https://exemple.org/a b")
    with pytest.raises(InvalidInput, match="deux lettres"):
        fiche.find(store, "a")


def test_dashboard_agrees_with_search(store: OxigraphStore, explorer_home: Path) -> None:
    ctx = Context(Settings(home=explorer_home, embedder=EMBEDDER), store)
    total = dashboard.overview(ctx)["total"]
    per_year = dashboard.per_year(ctx, "axe")
    assert total > 300 and per_year
    assert sum(r["n"] for r in dashboard.per_taille(ctx)) >= total * 0.9
    epn = dashboard.epn_per_departement(store)
    assert len(epn) == 101 and sum(d["lieux"] for d in epn) > 100
    with pytest.raises(InvalidInput):
        dashboard.per_year(ctx, "service")


def test_points_and_clusters(store: OxigraphStore) -> None:
    points = carte.points(store)
    assert points["https://w3id.org/capitalis/id/collectivite/69290"] == pytest.approx((45.7, 4.94), abs=0.1)
    items = [
        {"lat": 48.11, "lon": -1.68, "label": "A"},
        {"lat": 48.12, "lon": -1.67, "label": "B"},
        {"lat": 43.6, "lon": 1.44, "label": "C"},
    ]
    clusters = carte.cluster(items, cell_km=25)
    assert [c["n"] for c in clusters] == [2, 1]
    assert '"type": "FeatureCollection"' in carte.geojson(items)


def test_collectivity_lookup_and_points() -> None:
    assert geo.find_collectivites("35001")[0]["code"] == "35001"
    assert geo.find_collectivites("ille-et-vil")[0]["code"] == "dep-35"
    assert geo.point_of_collectivite("35238") == pytest.approx((48.09, -1.67), abs=0.05)
    assert geo.point_of_collectivite("dep-35") is not None
    with pytest.raises(InvalidInput):
        geo.find_collectivites("x")


def test_svg_map() -> None:
    svg = svgmap.render("regions", fills={"53": "#ff0000"}, points=[{"lat": 48.1, "lon": -1.7, "title": "Rennes"}])
    assert svg.startswith("<svg") and "fill='#ff0000'" in svg and "<title>Rennes</title>" in svg
    assert svgmap.bbox_around([(48.1, -1.7), (48.2, -1.5)]) != svgmap.METRO
