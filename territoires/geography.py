"""Where things are: points of carriers and places, clusters for maps, GeoJSON for downloads.

A collectivity's point is, in order: the point its source gives (ATLAAS ``Lieux`` latitude/longitude), the
point of its commune territory (the town hall, from the COG referential), or the population-weighted centre
of the communes of its territory (EPCI, département, région). Computed in SPARQL over the public graphs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from kg.store import Store

CAP = "https://w3id.org/capitalis/ontology#"
WGS = "http://www.w3.org/2003/01/geo/wgs84_pos#"
IGEO = "http://rdf.insee.fr/def/geo#"

Point = tuple[float, float]  # (latitude, longitude)

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
    classes = " ".join(f"<{CAP}{c}>" for c in _AGENT_CLASSES)
    out: dict[str, Point] = {}
    direct = store.select(
        f"""SELECT ?e (SAMPLE(?la) AS ?lat) (SAMPLE(?lo) AS ?long) WHERE {{
            VALUES ?c {{ {classes} }} GRAPH ?g {{ ?e a ?c }}
            GRAPH ?h {{ ?e <{WGS}lat> ?la ; <{WGS}long> ?lo }} }} GROUP BY ?e"""
    )
    for r in direct:
        p = _float_pair(r["lat"], r["long"])
        if p:
            out[str(r["e"])] = p
    via_territory = store.select(
        f"""SELECT ?e (SAMPLE(?la) AS ?lat) (SAMPLE(?lo) AS ?long) WHERE {{
            VALUES ?c {{ {classes} }} GRAPH ?g {{ ?e a ?c }}
            FILTER NOT EXISTS {{ GRAPH ?x {{ ?e <{WGS}lat> ?any }} }}
            GRAPH ?h {{ ?e <{CAP}territoire> ?t }} GRAPH ?i {{ ?t <{WGS}lat> ?la ; <{WGS}long> ?lo }} }} GROUP BY ?e"""
    )
    for r in via_territory:
        p = _float_pair(r["lat"], r["long"])
        if p:
            out[str(r["e"])] = p
    # EPCI, départements, régions: the population-weighted centre of their communes
    pending = store.select(
        f"""SELECT DISTINCT ?e ?t WHERE {{
            VALUES ?c {{ {classes} }} GRAPH ?g {{ ?e a ?c }}
            FILTER NOT EXISTS {{ GRAPH ?x {{ ?e <{WGS}lat> ?any }} }}
            GRAPH ?h {{ ?e <{CAP}territoire> ?t }}
            FILTER NOT EXISTS {{ GRAPH ?y {{ ?t <{WGS}lat> ?any2 }} }} }}"""
    )
    territories = sorted({str(r["t"]) for r in pending})
    centres: dict[str, Point] = {}
    for link in (
        f"<{CAP}intercommunalite>",
        f"<{IGEO}subdivisionDirecteDe>",
        f"<{IGEO}subdivisionDirecteDe>/<{IGEO}subdivisionDirecteDe>",
    ):
        if not territories:
            break
        values = " ".join(f"<{t}>" for t in territories)
        for r in store.select(
            f"""SELECT ?t (SUM(?la * ?pop) / SUM(?pop) AS ?lat) (SUM(?lo * ?pop) / SUM(?pop) AS ?long) WHERE {{
                VALUES ?t {{ {values} }}
                GRAPH ?r {{ ?m {link} ?t . ?m a <{IGEO}Commune> ; <{WGS}lat> ?la ; <{WGS}long> ?lo ;
                    <{CAP}population> ?pop }} }} GROUP BY ?t"""
        ):
            p = _float_pair(r["lat"], r["long"]) if "lat" in r and "long" in r else None
            if p:
                centres[str(r["t"])] = p
        territories = [t for t in territories if t not in centres]
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


@lru_cache(maxsize=1)
def _territory_names() -> list[tuple[str, str, str, str, int]]:
    """(folded name, code for parrainage.matching, niveau, shown label, population) of every collectivity of the COG."""
    from ingest.territories import load_referentiel
    from ontology.iri import normalise_texte

    ref = load_referentiel()
    out: list[tuple[str, str, str, str, int]] = []
    for c in ref.communes.values():
        out.append(
            (
                normalise_texte(c.nom),
                c.code_insee,
                "commune",
                f"{c.nom} ({c.departement}) — commune, {_habitants(c.population)}",
                c.population or 0,
            )
        )
    for e in ref.epci.values():
        out.append(
            (
                normalise_texte(e.nom),
                e.siren,
                "epci",
                f"{e.nom} — intercommunalité, {_habitants(e.population)}",
                e.population or 0,
            )
        )
    for d in ref.departements.values():
        out.append(
            (
                normalise_texte(d.nom),
                f"dep-{d.code}",
                "departement",
                f"{d.nom} ({d.code}) — département, {_habitants(d.population)}",
                d.population or 0,
            )
        )
    for r in ref.regions.values():
        out.append(
            (
                normalise_texte(r.nom),
                f"reg-{r.code}",
                "region",
                f"{r.nom} — région, {_habitants(r.population)}",
                r.population or 0,
            )
        )
    return out


def _habitants(population: int | None) -> str:
    return f"{population:,} hab.".replace(",", "\u202f") if population else "population inconnue"


def find_collectivites(text: str, limit: int = 20) -> list[dict[str, str]]:
    """Collectivities of the COG referential by name or code (any commune, EPCI, département, région).

    ``code`` is what :func:`parrainage.matching.match` takes: INSEE code, SIREN, ``dep-XX`` or ``reg-XX``. Names match
    on folded words (case, accents and hyphens ignored); exact and prefix matches first, then larger ones.
    """
    from kg.errors import InvalidInput
    from ontology.iri import normalise_texte

    raw = (text or "").strip()
    if len(raw) < 2:
        raise InvalidInput("collectivité : tapez au moins deux caractères du nom ou du code")
    names = _territory_names()
    wanted = normalise_texte(raw)
    code = raw.upper()
    found = []
    for folded, key, niveau, label, pop in names:
        if key.upper() == code or key.upper() == f"DEP-{code}" or (niveau == "commune" and key == code.zfill(5)):
            rank = 0
        elif folded == wanted:
            rank = 1
        elif folded.startswith(wanted):
            rank = 2
        elif f" {wanted}" in f" {folded}":
            rank = 3
        else:
            continue
        found.append((rank, -pop, label, key, niveau))
    found.sort()
    return [{"code": key, "label": label, "niveau": niveau} for _, _, label, key, niveau in found[:limit]]


def point_of_collectivite(code: str) -> Point | None:
    """The point of a collectivity named by its code (INSEE, SIREN, ``dep-XX``, ``reg-XX``), from the COG.

    A commune's town hall; for an EPCI, a département or a région the population-weighted centre of its
    communes. ``None`` when the code is unknown.
    """
    from ingest.territories import load_referentiel

    ref = load_referentiel()
    value = (code or "").strip()
    upper = value.upper()
    if upper.startswith("DEP-"):
        members = [c for c in ref.communes.values() if c.departement == value[4:]]
    elif upper.startswith("REG-"):
        members = [c for c in ref.communes.values() if c.region == value[4:]]
    elif len(value) == 9 and value.isdigit():
        members = [c for c in ref.communes.values() if c.epci_siren == value]
    else:
        commune = ref.communes.get(value)
        if commune is None or commune.latitude is None or commune.longitude is None:
            return None
        return commune.latitude, commune.longitude
    weighted = [(c.latitude, c.longitude, c.population or 1) for c in members if c.latitude is not None]
    total = sum(w for _, _, w in weighted)
    if not total:
        return None
    return (sum(la * w for la, _, w in weighted) / total, sum(lo * w for _, lo, w in weighted) / total)
