"""The observatory's indicators: experiences per theme and year, per région, per size, technologies, EPN.

Experience counts come from the faceted search (:func:`search.search` with an empty query, on the context's
index), so the dashboard and the search page always agree; an experience with several carriers or concepts
counts once in each of them. Places and territories come from SPARQL over the public graphs.
"""

from __future__ import annotations

from typing import Any

from rdflib.namespace import RDFS

from kg.context import Context
from kg.errors import InvalidInput
from kg.store import Store
from ontology.namespaces import CAP, IGEO
from search import TAILLES, Filters, load_taxonomy, search

#: The ATLAAS levels the dashboard breaks experiences down by.
LEVELS = ("axe", "enjeu", "usage")


def overview(ctx: Context) -> dict[str, Any]:
    """Every facet count over all experiences (the answer of an empty search)."""
    result = search(ctx, "", Filters(), limit=0)
    return {"total": result.total, "facets": result.facets}


def per_year(ctx: Context, level: str = "axe") -> list[dict[str, Any]]:
    """Experiences per year and ATLAAS ``level`` (axe, enjeu, usage): rows ``annee, notation, n``."""
    if level not in LEVELS:
        raise InvalidInput(f"niveau : {level!r} inconnu (attendu : {', '.join(LEVELS)})", field="niveau")
    years = sorted(int(y) for y in overview(ctx)["facets"].get("annee", {}))
    rows = []
    for year in years:
        result = search(ctx, "", Filters(annee_min=year, annee_max=year), limit=0)
        for notation, n in result.facets.get(level, {}).items():
            rows.append({"annee": year, "notation": notation, "n": n})
    return rows


def taxonomy_labels(store: Store) -> dict[str, str]:
    """Notation → French label of every ATLAAS concept (axes, enjeux, usages, services)."""
    return dict(load_taxonomy(store).label)


def regions(store: Store) -> list[dict[str, Any]]:
    """Every région: INSEE code, name, population."""
    rows = store.select(
        f"""SELECT ?code ?nom ?pop WHERE {{ GRAPH ?g {{ ?r a <{IGEO.Region}> ; <{IGEO.codeINSEE}> ?code ;
            <{RDFS.label}> ?nom OPTIONAL {{ ?r <{CAP.population}> ?pop }} }} }} ORDER BY ?code"""
    )
    return [{"code": str(r["code"]), "nom": str(r["nom"]), "population": _int(r.get("pop"))} for r in rows]


def departements(store: Store) -> list[dict[str, Any]]:
    """Every département: code, name, région code, population."""
    rows = store.select(
        f"""SELECT ?code ?nom ?reg ?pop WHERE {{ GRAPH ?g {{ ?d a <{IGEO.Departement}> ;
            <{IGEO.codeINSEE}> ?code ; <{RDFS.label}> ?nom OPTIONAL {{ ?d <{CAP.population}> ?pop }}
            OPTIONAL {{ ?d <{IGEO.subdivisionDirecteDe}>/<{IGEO.codeINSEE}> ?reg }} }} }} ORDER BY ?code"""
    )
    return [
        {
            "code": str(r["code"]),
            "nom": str(r["nom"]),
            "region": str(r.get("reg", "")),
            "population": _int(r.get("pop")),
        }
        for r in rows
    ]


def per_region(ctx: Context) -> list[dict[str, Any]]:
    """Experiences per région of their carriers, with the count per 100,000 inhabitants.

    An experience counts once in each région of its carriers (an EPCI lies in the régions of its communes) or of
    the territory it names: the search's ``region`` facet, and the definition of the example query
    ``explorer/queries/03_experiences_par_region.rq`` (a test holds them equal on the samples)."""
    counts = overview(ctx)["facets"].get("region", {})
    out = []
    for r in regions(ctx.store):
        n = counts.get(r["code"], 0)
        pop = r["population"]
        out.append({**r, "n": n, "pour_100k": round(n / pop * 100_000, 2) if pop else None})
    return out


def per_taille(ctx: Context) -> list[dict[str, Any]]:
    """Experiences per size class of their carriers, in the order of :data:`search.TAILLES`."""
    counts = overview(ctx)["facets"].get("taille", {})
    return [{"taille": t, "libelle": label, "n": counts.get(t, 0)} for t, label in TAILLES.items()]


def top_technologies(ctx: Context, limit: int = 15) -> list[dict[str, Any]]:
    """The technologies the most experiences use."""
    counts = overview(ctx)["facets"].get("technologie", {})
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].lower()))[:limit]
    return [{"technologie": t, "n": n} for t, n in ranked]


def epn_per_departement(store: Store) -> list[dict[str, Any]]:
    """Mediation places (EPN) per département and per 10,000 inhabitants; départements without any included."""
    rows = store.select(
        f"""SELECT ?code (COUNT(DISTINCT ?l) AS ?n) WHERE {{
            GRAPH ?g {{ ?l a <{CAP.LieuMediation}> ; <{CAP.territoire}> ?t }}
            GRAPH ?h {{ ?t <{IGEO.subdivisionDirecteDe}> ?d . ?d a <{IGEO.Departement}> ;
                        <{IGEO.codeINSEE}> ?code }}
        }} GROUP BY ?code"""
    )
    counts = {str(r["code"]): int(str(r["n"])) for r in rows}
    out = []
    for d in departements(store):
        n = counts.get(d["code"], 0)
        pop = d["population"]
        out.append({**d, "lieux": n, "pour_10k": round(n / pop * 10_000, 3) if pop else None})
    return out


def _int(value: Any) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None
