"""fiches.export: the search's CSV keeps spreadsheets from running a title as a formula; GeoJSON of the carriers."""

from __future__ import annotations

import csv
import io
import json

from fiches.export import COLUMNS, carrier_items, experiences_csv
from search import Hit, Porteur, SourceRef, Why
from territoires.carte import geojson


def _hit(titre: str, technologie: str) -> Hit:
    return Hit(
        iri="https://w3id.org/capitalis/id/experience/vi-1",
        titre=titre,
        score=-0.5,
        extrait="",
        porteurs=[Porteur(iri="https://w3id.org/capitalis/id/collectivite/35238", nom="@Rennes")],
        services=[{"notation": "S12", "label": "Portail"}],
        annee=2024,
        technologies=[technologie],
        sources=[SourceRef(source="villes-internet", id="1")],
        why=Why(),
    )


def test_csv_cells_that_would_be_formulas_are_quoted() -> None:
    text = experiences_csv([_hit('=HYPERLINK("http://x";"clic")', "+cmd|' /C calc'!A0")])
    header, row = list(csv.reader(io.StringIO(text)))
    assert tuple(header) == COLUMNS
    assert row[1] == '\'=HYPERLINK("http://x";"clic")' and row[3] == "'@Rennes" and row[5].startswith("'+cmd")
    assert row[2] == "2024" and row[7] == "-0.5"  # numbers stay numbers


def test_geojson_has_one_point_per_located_carrier() -> None:
    hit = _hit("Portail", "WordPress")
    items = carrier_items([hit], {"https://w3id.org/capitalis/id/collectivite/35238": (48.11, -1.68)})
    feature = json.loads(geojson(items))["features"][0]
    assert feature["geometry"]["coordinates"] == [-1.68, 48.11] and feature["properties"]["experience"] == hit.iri
    assert carrier_items([hit], {}) == []
