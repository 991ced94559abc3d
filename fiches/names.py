"""How the read model names things: prefixed names of vocabulary terms, keys of data IRIs, short names of
named graphs, checked user input, and the human name (label) of an entity.

One place for what every surface of the read model (CLI, API, explorer) writes the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel
from rdflib.namespace import DCTERMS, FOAF, ORG, PROV, RDF, RDFS, SKOS

from kg.errors import InvalidInput
from kg.store import Row, Store
from ontology.iri import DATA_KEY
from ontology.namespaces import CAP, GRAPH, IGEO, SCHEMA, WGS

#: The vocabularies shown with a prefix (``cap:porteur``); any other IRI is shown whole.
_PREFIXED: dict[str, str] = {
    str(CAP): "cap",
    str(DCTERMS): "dct",
    str(PROV): "prov",
    str(RDFS): "rdfs",
    str(RDF): "rdf",
    str(SKOS): "skos",
    str(FOAF): "foaf",
    str(WGS): "wgs",
    str(IGEO): "igeo",
    str(SCHEMA): "schema",
    str(ORG): "org",
}

#: The ``PREFIX`` lines of the read model's SPARQL queries (the prefixes of :func:`short`).
SPARQL_PREFIXES = "".join(f"PREFIX {prefix}: <{base}>\n" for base, prefix in _PREFIXED.items())

#: The properties that name an entity, the preferred first (an experience's title before any label).
NAME_PROPERTIES: tuple[str, ...] = (str(DCTERMS.title), str(SKOS.prefLabel), str(RDFS.label), str(FOAF.name))

_SPARQL_FORBIDDEN = '<>"{}|^`\\ '


def short(iri: str) -> str:
    """A prefixed name for a vocabulary IRI (``cap:porteur``), the IRI itself when no prefix fits."""
    for base, prefix in _PREFIXED.items():
        if iri.startswith(base):
            return f"{prefix}:{iri[len(base) :]}"
    return iri


def key_of(iri: str) -> str:
    """The last segment of a data IRI (``…/experience/vi-1024`` → ``vi-1024``)."""
    return iri.rsplit("/", 1)[-1]


def graph_name(iri: str) -> str:
    """Short name of a named graph IRI (``…/graph/referentiel`` → ``referentiel``)."""
    return iri.removeprefix(str(GRAPH))


def local_name(iri: str) -> str:
    """The local part of a vocabulary IRI (``…#synthese`` → ``synthese``)."""
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def text(row: Row, name: str) -> str | None:
    """The value bound to ``name`` in a result row, as text (``None`` when unbound)."""
    value = row.get(name)
    return str(value) if value is not None else None


def check_key(value: str, field: str = "id") -> str:
    """A key safe to put in an IRI; :class:`InvalidInput` naming ``field`` otherwise."""
    if not DATA_KEY.fullmatch(value or ""):
        raise invalid_key(value, field)
    return value


def invalid_key(value: str, field: str) -> InvalidInput:
    """The error of a ``field`` whose ``value`` cannot be the key of a data IRI."""
    return InvalidInput(f"{field} : {value!r} n'est pas une clé valide (lettres, chiffres, - . _ ~ %)", field=field)


def check_iri(iri: str) -> str:
    """An IRI typed by a user: trimmed, absolute, without characters SPARQL forbids."""
    iri = (iri or "").strip()
    if not iri:
        raise InvalidInput("iri : valeur vide", field="iri")
    if not iri.startswith(("http://", "https://")):
        raise InvalidInput(
            f"iri : {iri!r} n'est pas une IRI absolue (https://w3id.org/capitalis/id/…)", field="iri"
        )
    if any(c in iri for c in _SPARQL_FORBIDDEN + "\n\t"):
        raise InvalidInput(f"iri : {iri!r} contient un caractère interdit", field="iri")
    return iri


def iri_values(iris: Iterable[str]) -> str:
    """The body of a SPARQL ``VALUES`` block for ``iris``, leaving out what is not an absolute, safe IRI."""
    return " ".join(
        f"<{i}>"
        for i in iris
        if i.startswith(("http://", "https://")) and not any(c in i for c in _SPARQL_FORBIDDEN)
    )


class Name(BaseModel):
    """One statement naming an entity: the text, its language, the naming property."""

    text: str
    lang: str | None = None
    property: str


def names(store: Store, iris: Iterable[str]) -> dict[str, list[Name]]:
    """Every name (title, preferred label, label, name) of each IRI, in the store's order."""
    wanted = list(dict.fromkeys(iris))
    out: dict[str, list[Name]] = {}
    properties = " ".join(f"<{p}>" for p in NAME_PROPERTIES)
    for start in range(0, len(wanted), 400):
        values = iri_values(wanted[start : start + 400])
        if not values:
            continue
        rows = store.select(
            f"SELECT ?s ?p ?l WHERE {{ VALUES ?s {{ {values} }} VALUES ?p {{ {properties} }} GRAPH ?g {{ ?s ?p ?l }} }}"
        )
        for r in rows:
            lit = r["l"]
            out.setdefault(str(r["s"]), []).append(
                Name(text=str(lit), lang=getattr(lit, "language", None), property=str(r["p"]))
            )
    return out


def best_name(candidates: list[Name]) -> str | None:
    """The name a fiche shows: by naming property (title first), then French, untagged, other languages."""
    best: tuple[int, str] | None = None
    for name in candidates:
        lang_rank = 0 if name.lang == "fr" else 1 if name.lang is None else 2
        rank = NAME_PROPERTIES.index(name.property) * 3 + lang_rank
        if best is None or rank < best[0]:
            best = (rank, name.text)
    return best[1] if best else None


def labels(store: Store, iris: Iterable[str]) -> dict[str, str]:
    """The best French name of each IRI (:func:`best_name`); IRIs without one are absent."""
    found = names(store, iris)
    return {iri: label for iri, candidates in found.items() if (label := best_name(candidates)) is not None}
