"""Sponsorships recorded in the graph: proposed, accepted, under way, closed (``cap:Parrainage``, design §3).

Each sponsorship is a ``cap:Parrainage`` (a ``prov:Activity``) in the ``parrainages`` named graph: one
``cap:parrain``, one or more ``cap:filleul`` (a grappe has several), the ATLAAS concepts it is about
(``cap:concept``), the need in words (``dct:description``), a free note (``rdfs:comment``), the sponsor's
reference experiences (``cap:experienceReference``), the matching score (``cap:score``) and its status
(``cap:statut``, a concept of ``id/statut-parrainage/scheme``). Dates: ``prov:startedAtTime`` when proposed,
``cap:dateDebut`` when accepted, ``cap:dateFin`` and ``prov:endedAtTime`` when closed.

Status transitions are checked::

    propose --accepter--> accepte --demarrer--> en-cours
    propose | accepte | en-cours --cloturer--> termine

A sponsor's current load (:func:`charge`: its sponsorships proposed, accepted or under way) lowers its score
in :func:`parrainage.matching.match` (through :func:`parrainage.evaluation.charges`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from rdflib import RDF, RDFS, XSD, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS

from kg.errors import InvalidInput, NotFound
from kg.store import Store
from ontology import iri as mint
from ontology import ontology_graph
from ontology.iri import SERVICE_SCHEME, STATUTS_PARRAINAGE, normalise_texte
from ontology.namespaces import CAP
from territoires.collectivites import collectivite as collectivite_of
from territoires.collectivites import resolve_collectivite

__all__ = [
    "ACTIFS",
    "GRAPH",
    "LIBELLES",
    "accepter",
    "charge",
    "cloturer",
    "demarrer",
    "lister",
    "obtenir",
    "proposer",
]

GRAPH = str(mint.graph("parrainages"))
#: French labels of the statuses.
LIBELLES: dict[str, str] = {"propose": "proposé", "accepte": "accepté", "en-cours": "en cours", "termine": "terminé"}
#: Statuses that count in a sponsor's current load.
ACTIFS: tuple[str, ...] = ("propose", "accepte", "en-cours")
_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accepter": (frozenset({"propose"}), "accepte"),
    "demarrer": (frozenset({"accepte"}), "en-cours"),
    "cloturer": (frozenset({"propose", "accepte", "en-cours"}), "termine"),
}
_PARRAINAGE_PREFIX = f"{mint.ID}parrainage/"
_STATUT_PREFIX = f"{mint.ID}statut-parrainage/"
_PREFIXES = f"""PREFIX cap: <{CAP}>
PREFIX rdfs: <{RDFS}>
PREFIX skos: <{SKOS}>
PREFIX prov: <{PROV}>
PREFIX dct: <{DCTERMS}>
"""
#: How the errors name each party.
_ROLE = {"parrain": "parrain", "filleul": "filleul", "collectivite": "collectivité"}


# --- parties and concepts ---------------------------------------------------------------------------------


def _collectivite(store: Store, value: str, field: str, *, structure_ok: bool) -> URIRef:
    """The IRI of a collectivity (INSEE code, SIREN, dep-XX, reg-XX, IRI) or, for a sponsor, of a structure."""
    text = (value or "").strip()
    if structure_ok and "/id/structure/" in text:
        node = URIRef(text)
        if not store.ask(f"ASK {{ GRAPH ?g {{ $s a <{CAP.StructureMutualisation}> }} }}", s=node):
            raise NotFound(f"{_ROLE[field]} : structure de mutualisation inconnue du graphe : {text}")
        return node
    try:
        niveau, code = resolve_collectivite(text, field=field)
    except NotFound as unknown:
        raise NotFound(f"{_ROLE[field]} : {unknown.message}") from None
    return mint.collectivite(niveau, code)


def _concepts(store: Store, values: list[str]) -> list[URIRef]:
    """Concept IRIs of ATLAAS notations (S12, 1a3) or concept IRIs; InvalidInput when unknown."""
    if not values:
        return []
    rows = store.select(
        _PREFIXES + f"""SELECT ?c ?n WHERE {{ GRAPH ?g {{
            ?c skos:inScheme <{SERVICE_SCHEME}> ; skos:notation ?n }} }}"""
    )
    known = {str(r["n"]): str(r["c"]) for r in rows}
    if not known:  # a store without the ontology graph: the taxonomy file is the reference
        graph = ontology_graph()
        known = {str(n): str(c) for c in graph.subjects(SKOS.inScheme, SERVICE_SCHEME)
                 for n in graph.objects(c, SKOS.notation)}
    by_iri = set(known.values())
    out: list[URIRef] = []
    for raw in values:
        v = raw.strip()
        if v in by_iri:
            node = v
        else:
            key = v.upper() if v[:1] in ("s", "S") else v.lower()
            if key not in known:
                raise InvalidInput(f"notation {raw!r} inconnue de la taxonomie ATLAAS", field="service")
            node = known[key]
        if URIRef(node) not in out:
            out.append(URIRef(node))
    return out


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _parrainage_iri(value: str) -> URIRef:
    text = (value or "").strip()
    if not text:
        raise InvalidInput("parrainage : indiquez l'IRI du parrainage")
    if not text.startswith(("http://", "https://")):
        text = _PARRAINAGE_PREFIX + text
    if not text.startswith(_PARRAINAGE_PREFIX):
        raise InvalidInput(f"parrainage : {value!r} n'est pas l'IRI d'un parrainage (…/id/parrainage/…)")
    return URIRef(text)


def _statut(store: Store, node: URIRef) -> str:
    rows = store.select(
        _PREFIXES + "SELECT ?s WHERE { GRAPH $g { $p a cap:Parrainage ; cap:statut ?s } }", g=URIRef(GRAPH), p=node
    )
    if not rows:
        raise NotFound(f"parrainage inconnu : {node}")
    return str(rows[0]["s"]).removeprefix(_STATUT_PREFIX)


# --- writing ------------------------------------------------------------------------------------------------


def proposer(
    store: Store,
    parrain: str,
    filleul: str | list[str],
    concepts: list[str] | None = None,
    besoin: str | None = None,
    note: str | None = None,
    *,
    experiences: list[str] | None = None,
    score: float | None = None,
    now: datetime | None = None,
) -> str:
    """Record a proposed sponsorship; returns its IRI (``id/parrainage/{uuid}``).

    ``parrain``: a collectivity (code or IRI) or a structure de mutualisation (IRI); ``filleul``: one or
    several collectivities (a grappe); ``concepts``: ATLAAS notations or concept IRIs. A concept or a need in
    words is required.
    """
    sponsor = _collectivite(store, parrain, "parrain", structure_ok=True)
    filleuls_in = [filleul] if isinstance(filleul, str) else list(filleul)
    if not filleuls_in:
        raise InvalidInput("au moins un filleul", field="filleul")
    filleuls: list[URIRef] = []
    for f in filleuls_in:
        node = _collectivite(store, f, "filleul", structure_ok=False)
        if node == sponsor:
            raise InvalidInput(f"{f} est aussi le parrain ; une collectivité ne se parraine pas elle-même",
                               field="filleul")
        if node not in filleuls:
            filleuls.append(node)
    nodes = _concepts(store, list(concepts or []))
    text = (besoin or "").strip()
    if not nodes and not text:
        raise InvalidInput("dites sur quoi porte le parrainage : un service ATLAAS ou le besoin en mots",
                           field="besoin")
    if len(text) > 2000:
        raise InvalidInput("le besoin tient en 2 000 caractères au plus", field="besoin")
    if len((note or "").strip()) > 4000:
        raise InvalidInput("la note tient en 4 000 caractères au plus", field="note")
    if score is not None and not 0 <= score <= 1:
        raise InvalidInput("un score entre 0 et 1", field="score")
    refs = [URIRef(e.strip()) for e in experiences or [] if e.strip()]
    for e in refs:
        if not str(e).startswith(f"{mint.ID}experience/"):
            raise InvalidInput(f"{e} n'est pas l'IRI d'une expérience", field="experience")
    stamp = now or _now()
    node = mint.parrainage()
    names = _names(store, [sponsor, *filleuls])
    label = f"Parrainage de {', '.join(names[str(f)] for f in filleuls)} par {names[str(sponsor)]}"
    triples: list[tuple[Any, Any, Any]] = [
        (node, RDF.type, CAP.Parrainage),
        (node, RDF.type, PROV.Activity),
        (node, RDFS.label, Literal(label, lang="fr")),
        (node, CAP.parrain, sponsor),
        (node, CAP.statut, mint.statut_parrainage("propose")),
        (node, PROV.startedAtTime, Literal(stamp.isoformat(), datatype=XSD.dateTime)),
    ]
    triples += [(node, CAP.filleul, f) for f in filleuls]
    triples += [(node, CAP.concept, c) for c in nodes]
    triples += [(node, CAP.experienceReference, e) for e in refs]
    if text:
        triples.append((node, DCTERMS.description, Literal(text, lang="fr")))
    if note and note.strip():
        triples.append((node, RDFS.comment, Literal(note.strip(), lang="fr")))
    if score is not None:
        triples.append((node, CAP.score, Literal(f"{score:.4f}", datatype=XSD.decimal)))
    store.add(triples, GRAPH)
    return str(node)


def _transition(store: Store, value: str, action: str, now: datetime | None) -> dict[str, Any]:
    node = _parrainage_iri(value)
    allowed, target = _TRANSITIONS[action]
    current = _statut(store, node)
    if current not in allowed:
        names = [LIBELLES[s] for s in STATUTS_PARRAINAGE if s in allowed]
        wanted = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " ou " + names[-1]
        raise InvalidInput(
            f"parrainage {node.rsplit('/', 1)[-1]} : statut « {LIBELLES.get(current, current)} » ; "
            f"« {action} » n'est possible que depuis le statut {wanted}"
        )
    stamp = now or _now()
    today = Literal(stamp.date().isoformat(), datatype=XSD.date)
    extra = ""
    values: dict[str, Any] = {}
    if target in ("accepte", "en-cours"):
        extra = "OPTIONAL { $p cap:dateDebut ?d0 }"
        insert = "$p cap:dateDebut ?debut ."
    else:
        insert = "$p cap:dateFin $today . $p prov:endedAtTime $stamp ."
        values["stamp"] = Literal(stamp.isoformat(), datatype=XSD.dateTime)
    store.update(
        _PREFIXES
        + f"""DELETE {{ GRAPH $g {{ $p cap:statut $old }} }}
        INSERT {{ GRAPH $g {{ $p cap:statut $new . {insert} }} }}
        WHERE {{ GRAPH $g {{ $p cap:statut $old . {extra} }} BIND(COALESCE(?d0, $today) AS ?debut) }}""",
        g=URIRef(GRAPH),
        p=node,
        old=mint.statut_parrainage(current),
        new=mint.statut_parrainage(target),
        today=today,
        **values,
    )
    if _statut(store, node) != target:  # another process changed it between our read and our write
        raise InvalidInput(f"parrainage {node} : son statut a changé entre-temps, réessayez")
    return obtenir(store, str(node))


def accepter(store: Store, iri: str, *, now: datetime | None = None) -> dict[str, Any]:
    """A proposed sponsorship is accepted (``cap:dateDebut`` = today)."""
    return _transition(store, iri, "accepter", now)


def demarrer(store: Store, iri: str, *, now: datetime | None = None) -> dict[str, Any]:
    """An accepted sponsorship starts (status « en cours »)."""
    return _transition(store, iri, "demarrer", now)


def cloturer(store: Store, iri: str, *, now: datetime | None = None) -> dict[str, Any]:
    """A sponsorship ends, whatever stage it reached (``cap:dateFin`` = today, ``prov:endedAtTime``)."""
    return _transition(store, iri, "cloturer", now)


# --- reading ------------------------------------------------------------------------------------------------


def _names(store: Store, nodes: list[URIRef]) -> dict[str, str]:
    """Display names of collectivities and structures: the graph's label, else the referential's."""
    out: dict[str, str] = {}
    for node in nodes:
        rows = store.select(
            _PREFIXES + "SELECT ?l WHERE { GRAPH ?g { $x rdfs:label ?l } } ORDER BY ?l LIMIT 1", x=node
        )
        if rows:
            out[str(node)] = str(rows[0]["l"])
            continue
        try:
            out[str(node)] = collectivite_of(*resolve_collectivite(str(node))).nom
        except (InvalidInput, NotFound):
            out[str(node)] = str(node).rsplit("/", 1)[-1]
    return out


def _normalise_statut(statut: str) -> str:
    key = normalise_texte(statut).replace(" ", "-")
    if key not in STATUTS_PARRAINAGE:
        raise InvalidInput(
            f"statut {statut!r} inconnu (attendu : {', '.join(LIBELLES[s] for s in STATUTS_PARRAINAGE)})",
            field="statut",
        )
    return key


def lister(store: Store, collectivite: str | None = None, statut: str | None = None) -> list[dict[str, Any]]:
    """Sponsorships, newest first; ``collectivite`` keeps those where it is the sponsor or a sponsored party."""
    wanted_statut = _normalise_statut(statut) if statut else None
    wanted: str | None = None
    if collectivite:
        wanted = str(_collectivite(store, collectivite, "collectivite", structure_ok=True))
    rows = store.select(
        _PREFIXES + "SELECT ?p ?k ?o WHERE { GRAPH $g { ?p a cap:Parrainage ; ?k ?o } }", g=URIRef(GRAPH)
    )
    raw: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        raw[str(r["p"])][str(r["k"])].append(r["o"])
    labels: dict[str, str] = {}
    for r in store.select(
        _PREFIXES
        + """SELECT DISTINCT ?x ?l WHERE { GRAPH $g { ?p a cap:Parrainage ; cap:parrain|cap:filleul|cap:concept ?x }
            GRAPH ?h { ?x rdfs:label|skos:prefLabel ?l } FILTER(LANG(?l) = "fr" || LANG(?l) = "") }""",
        g=URIRef(GRAPH),
    ):
        labels.setdefault(str(r["x"]), str(r["l"]))
    out = [_item(p, props, labels) for p, props in raw.items()]
    if wanted_statut:
        out = [x for x in out if x["statut"] == wanted_statut]
    if wanted:
        out = [x for x in out if x["parrain"]["iri"] == wanted or any(f["iri"] == wanted for f in x["filleuls"])]
    out.sort(key=lambda x: (x["propose_le"] or "", x["iri"]), reverse=True)
    return out


def _item(p: str, props: dict[str, list[Any]], labels: dict[str, str]) -> dict[str, Any]:
    def one(prop: str) -> str | None:
        values = props.get(prop, [])
        return str(values[0]) if values else None

    def party(node: str) -> dict[str, str]:
        name = labels.get(node)
        if name is None:
            try:
                name = collectivite_of(*resolve_collectivite(node)).nom
            except (InvalidInput, NotFound):
                name = node.rsplit("/", 1)[-1]
        return {"iri": node, "nom": name}

    statut = (one(f"{CAP}statut") or "").removeprefix(_STATUT_PREFIX)
    concepts = []
    for c in sorted(str(v) for v in props.get(f"{CAP}concept", [])):
        concepts.append({"iri": c, "notation": c.rsplit("/", 1)[-1], "label": labels.get(c, c.rsplit("/", 1)[-1])})
    score = one(f"{CAP}score")
    parrain = one(f"{CAP}parrain") or ""
    return {
        "iri": p,
        "parrain": party(parrain),
        "filleuls": [party(str(f)) for f in sorted(str(v) for v in props.get(f"{CAP}filleul", []))],
        "concepts": concepts,
        "besoin": one(str(DCTERMS.description)),
        "note": one(str(RDFS.comment)),
        "statut": statut,
        "statut_libelle": LIBELLES.get(statut, statut),
        "score": float(score) if score is not None else None,
        "experiences": sorted(str(v) for v in props.get(f"{CAP}experienceReference", [])),
        "propose_le": one(str(PROV.startedAtTime)),
        "debut": one(f"{CAP}dateDebut"),
        "fin": one(f"{CAP}dateFin"),
    }


def obtenir(store: Store, iri: str) -> dict[str, Any]:
    """One sponsorship as :func:`lister` describes it; NotFound when unknown."""
    node = _parrainage_iri(iri)
    _statut(store, node)
    return next(x for x in lister(store) if x["iri"] == str(node))


def charge(store: Store) -> dict[str, int]:
    """Current load of each sponsor: its sponsorships proposed, accepted or under way (a grappe counts once)."""
    rows = store.select(
        _PREFIXES
        + """SELECT ?parrain (COUNT(DISTINCT ?p) AS ?n) WHERE { GRAPH $g {
            ?p a cap:Parrainage ; cap:parrain ?parrain ; cap:statut ?s . FILTER(?s IN ($s1, $s2, $s3)) } }
            GROUP BY ?parrain""",
        g=URIRef(GRAPH),
        s1=mint.statut_parrainage("propose"),
        s2=mint.statut_parrainage("accepte"),
        s3=mint.statut_parrainage("en-cours"),
    )
    return {str(r["parrain"]): int(r["n"]) for r in rows}
