"""Maps: the points of the graph's carriers and places, clusters of map items, GeoJSON for downloads.

A collectivity's point is, in order: the point its source gives (ATLAAS ``Lieux`` latitude/longitude), the
point of its commune territory (the town hall, from the COG referential), or the population-weighted centre
of the communes of its territory (EPCI, département, région). Computed in SPARQL over the public graphs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

from kg.store import Store
from ontology.namespaces import CAP, IGEO, WGS
from territoires.referentiel import Point

__all__ = ["cluster", "geojson", "points"]

_AGENT_CLASSES = (
    "Commune",
    "Intercommunalite",
    "Departement",
    "Region",
    "Collectivite",
    "StructureMutualisation",
    "Organisation",
    "LieuMediation",
)


def _float_pair(lat: Any, lon: Any) -> Point | None:
    try:
        p = (float(str(lat)), float(str(lon)))
    except ValueError:
        return None
    return p if -90 <= p[0] <= 90 and -180 <= p[1] <= 180 else None


def points(store: Store) -> dict[str, Point]:
    """The point of every collectivity, structure, organisation and mediation place that has one."""
    classes = " ".join(f"<{CAP[c]}>" for c in _AGENT_CLASSES)
    out = _own_points(store, classes)
    out.update(_points_of_territories(store, classes))
    out.update((e, p) for e, p in _centres_of_territories(store, classes).items() if e not in out)
    return out


def _rows_to_points(rows: Iterable[dict[str, Any]]) -> dict[str, Point]:
    out: dict[str, Point] = {}
    for r in rows:
        p = _float_pair(r["lat"], r["long"])
        if p:
            out[str(r["e"])] = p
    return out


def _own_points(store: Store, classes: str) -> dict[str, Point]:
    """The points the sources give (ATLAAS ``Lieux`` latitude/longitude)."""
    return _rows_to_points(store.select(
        f"""SELECT ?e (SAMPLE(?la) AS ?lat) (SAMPLE(?lo) AS ?long) WHERE {{
            VALUES ?c {{ {classes} }} GRAPH ?g {{ ?e a ?c }}
            GRAPH ?h {{ ?e <{WGS.lat}> ?la ; <{WGS.long}> ?lo }} }} GROUP BY ?e"""
    ))


def _points_of_territories(store: Store, classes: str) -> dict[str, Point]:
    """Without a point of its own: the point of its territory (a commune's town hall)."""
    return _rows_to_points(store.select(
        f"""SELECT ?e (SAMPLE(?la) AS ?lat) (SAMPLE(?lo) AS ?long) WHERE {{
            VALUES ?c {{ {classes} }} GRAPH ?g {{ ?e a ?c }}
            FILTER NOT EXISTS {{ GRAPH ?x {{ ?e <{WGS.lat}> ?any }} }}
            GRAPH ?h {{ ?e <{CAP.territoire}> ?t }}
            GRAPH ?i {{ ?t <{WGS.lat}> ?la ; <{WGS.long}> ?lo }} }} GROUP BY ?e"""
    ))


def _centres_of_territories(store: Store, classes: str) -> dict[str, Point]:
    """Without a point of its own or of its territory (EPCI, départements, régions): the population-weighted
    centre of the communes of its territory, through the EPCI, then one and two levels of subdivision."""
    pending = store.select(
        f"""SELECT DISTINCT ?e ?t WHERE {{
            VALUES ?c {{ {classes} }} GRAPH ?g {{ ?e a ?c }}
            FILTER NOT EXISTS {{ GRAPH ?x {{ ?e <{WGS.lat}> ?any }} }}
            GRAPH ?h {{ ?e <{CAP.territoire}> ?t }}
            FILTER NOT EXISTS {{ GRAPH ?y {{ ?t <{WGS.lat}> ?any2 }} }} }}"""
    )
    territories = sorted({str(r["t"]) for r in pending})
    centres: dict[str, Point] = {}
    for link in (
        f"<{CAP.intercommunalite}>",
        f"<{IGEO.subdivisionDirecteDe}>",
        f"<{IGEO.subdivisionDirecteDe}>/<{IGEO.subdivisionDirecteDe}>",
    ):
        if not territories:
            break
        values = " ".join(f"<{t}>" for t in territories)
        for r in store.select(
            f"""SELECT ?t (SUM(?la * ?pop) / SUM(?pop) AS ?lat) (SUM(?lo * ?pop) / SUM(?pop) AS ?long) WHERE {{
                VALUES ?t {{ {values} }}
                GRAPH ?r {{ ?m {link} ?t . ?m a <{IGEO.Commune}> ; <{WGS.lat}> ?la ; <{WGS.long}> ?lo ;
                    <{CAP.population}> ?pop }} }} GROUP BY ?t"""
        ):
            p = _float_pair(r["lat"], r["long"]) if "lat" in r and "long" in r else None
            if p:
                centres[str(r["t"])] = p
        territories = [t for t in territories if t not in centres]
    out: dict[str, Point] = {}
    for r in pending:
        if str(r["t"]) in centres:
            out.setdefault(str(r["e"]), centres[str(r["t"])])
    return out


def cluster(items: Sequence[dict[str, Any]], cell_km: float = 25.0) -> list[dict[str, Any]]:
    """Group map items (``lat``, ``lon``, ``label``) into cells of about ``cell_km``; one cluster per cell.

    Each cluster has its mean point, ``n`` and the first labels; the map draws one circle per cluster whose
    size follows ``n``, which keeps dense areas readable without a tile server or a JavaScript plugin.
    """
    step_lat = cell_km / 111.0
    cells: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for item in items:
        lat, lon = float(item["lat"]), float(item["lon"])
        step_lon = step_lat / max(math.cos(math.radians(lat)), 0.2)
        cells.setdefault((math.floor(lat / step_lat), math.floor(lon / step_lon)), []).append(item)
    out = []
    for members in cells.values():
        names = list(dict.fromkeys(str(m.get("label", "")) for m in members))
        n = len(members)
        out.append(
            {
                "lat": sum(float(m["lat"]) for m in members) / n,
                "lon": sum(float(m["lon"]) for m in members) / n,
                "n": n,
                "labels": names[:8],
                "more": max(len(names) - 8, 0),
            }
        )
    return sorted(out, key=lambda c: -c["n"])


def geojson(items: Iterable[dict[str, Any]]) -> str:
    """A GeoJSON FeatureCollection of points: ``lat``/``lon`` become the geometry, every other key a property."""
    features = []
    for item in items:
        props = {k: v for k, v in item.items() if k not in ("lat", "lon")}
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(item["lon"]), 5), round(float(item["lat"]), 5)],
                },
                "properties": props,
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1)
