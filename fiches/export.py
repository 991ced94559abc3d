"""Downloads of a search's experiences: CSV (one row per experience) and GeoJSON (one point per located carrier).

The same columns and points as the explorer's search page downloads; the API's ``/experiences`` answers them for
``text/csv`` and ``application/geo+json``. Cells are neutralised (:func:`kg.tableur.neutralise`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kg.context import Context
from kg.tableur import csv_text
from search import Hit, store_signature
from territoires.carte import geojson, points
from territoires.referentiel import Point

__all__ = ["COLUMNS", "carrier_items", "carrier_points", "experiences_csv", "experiences_geojson"]

#: The CSV columns (the explorer's search page offers this CSV too).
COLUMNS = ("iri", "titre", "annee", "porteurs", "services", "technologies", "sources", "score")
_POINTS_CACHE = "carte-points"


def experiences_csv(hits: Iterable[Hit]) -> str:
    """One row per experience: IRI, title, year, carriers, services, technologies, sources, score."""
    rows = (
        [
            h.iri,
            h.titre,
            h.annee,
            " | ".join(p.nom for p in h.porteurs),
            " | ".join(f"{s['notation']} {s['label']}" for s in h.services),
            " | ".join(h.technologies),
            " | ".join(f"{s.source}:{s.id}" for s in h.sources),
            h.score,
        ]
        for h in hits
    )
    return csv_text(COLUMNS, rows)


def carrier_items(hits: Iterable[Hit], located: Mapping[str, Point]) -> list[dict[str, Any]]:
    """Map items (``lat``, ``lon``, ``label``, carrier, experience, title, year): one per located carrier."""
    items = []
    for hit in hits:
        for p in hit.porteurs:
            if p.iri in located:
                lat, lon = located[p.iri]
                items.append(
                    {
                        "lat": lat,
                        "lon": lon,
                        "label": p.nom,
                        "porteur": p.iri,
                        "experience": hit.iri,
                        "titre": hit.titre,
                        "annee": hit.annee,
                    }
                )
    return items


def carrier_points(ctx: Context) -> dict[str, Point]:
    """:func:`territoires.carte.points` of the context's store, kept in the context until the next import."""
    return ctx.cached(_POINTS_CACHE, lambda: points(ctx.store), key=store_signature(ctx.store))


def experiences_geojson(ctx: Context, hits: Iterable[Hit]) -> str:
    """A GeoJSON FeatureCollection of the located carriers of ``hits`` (:func:`territoires.carte.geojson`)."""
    return geojson(carrier_items(hits, carrier_points(ctx)))
