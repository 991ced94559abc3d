"""Cross-source experience merge: an OTeN fiche and a Villes Internet action that tell the same project.

Many OTeN fiches describe projects that Villes Internet also published, in other words. After every import of
either source (:func:`ingest.load.import_file`) :func:`merge_experiences` reads the experiences of both graphs once,
compares each OTeN experience with the Villes Internet experiences of the same carrier, and decides:

- **merge** when the carrier is the same (same porteur IRI, or a common territory), the texts are similar
  (TF-IDF cosine over the normalised words of title and summary/description ≥ ``MERGE_THRESHOLD``) and the
  years agree (within ``YEAR_TOLERANCE``): the OTeN experience IRI is rewritten into the Villes Internet one
  in the ``oten`` graph, so that one experience is derived from both records (two ``prov:wasDerivedFrom``);
- **review** (``cap:aRevoir true``, not merged) when the carrier is the same and the texts similar but
  the years disagree (or are unknown), when the carrier is the same and the similarity only medium
  (``REVIEW_THRESHOLD``, years not contradicting), or when the texts are very similar
  (``OTHER_CARRIER_THRESHOLD``) but the carriers differ within one département; :func:`review` lists them,
  at most ``REVIEW_PER_EXPERIENCE`` (the best) for one OTeN experience.

Only the experiences of one carrier, territory or département are compared, each place's at once as a sparse
matrix product (:func:`_candidate_pairs`): the same pairs as scoring them one by one, in C.

The merged experience keeps the Villes Internet values of the properties the shapes allow once (title, start
date, main service); the OTeN ones move to a super-property (``dct:alternative``, ``schema:startDate``) or to
an annotation (``servicePrincipal=…``), so that nothing is lost and a merge can be undone exactly.

The decision is a pure function of the current content of both graphs (whatever the import order, however
many re-imports): every run recomputes it, applies only the differences and rewrites its decisions.
Thresholds were calibrated on the samples (tests/ingest/test_merge.py lists the true pairs): true pairs of a
same carrier score 0.31 to 0.72, different projects of a same carrier at most 0.19.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from typing import Any
from typing import Literal as Kind

import numpy as np
from rdflib import RDF, RDFS, XSD, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV
from scipy import sparse

from ingest.graphs import statements_of
from ingest.territories import load_referentiel
from kg.store import Store, Triple
from ontology import iri
from ontology.iri import normalise_texte
from ontology.namespaces import CAP, ID, SCHEMA

__all__ = [
    "MERGED_SOURCES",
    "MERGE_THRESHOLD",
    "METHODE",
    "OTHER_CARRIER_THRESHOLD",
    "REVIEW_PER_EXPERIENCE",
    "REVIEW_THRESHOLD",
    "YEAR_TOLERANCE",
    "Candidate",
    "MergePair",
    "MergeResult",
    "decide",
    "merge_experiences",
    "review",
    "similarities",
]

#: The sources whose experiences are merged: only an import of one of them can change the merge.
MERGED_SOURCES = ("oten", "villes-internet")
#: Same carrier and at least this cosine (with compatible years): one experience.
MERGE_THRESHOLD = 0.25
#: Same carrier and at least this cosine, but below the merge threshold: to review.
REVIEW_THRESHOLD = 0.15
#: Different carriers of one département and at least this cosine: to review (may be a misattributed carrier).
OTHER_CARRIER_THRESHOLD = 0.30
#: A reviewer sees at most this many doubtful pairs for one OTeN experience (the best ones).
REVIEW_PER_EXPERIENCE = 3
#: Years of the two records may differ by this much (a fiche is often written a year or two after the start).
YEAR_TOLERANCE = 2
#: ``cap:methode`` of the decisions this module writes (and rewrites on every run).
METHODE = "fusion-experience"

AGENT = URIRef(f"{ID}agent/capitalis-resolution")
_TEXT_PREDICATES = (
    DCTERMS.title,
    DCTERMS.alternative,
    CAP.sousTitre,
    CAP.resume,
    CAP.synthese,
    CAP.actions,
    DCTERMS.description,
)
_DATE_PREDICATES = (DCTERMS.date, CAP.dateDebut, CAP.dateFin, SCHEMA.startDate, SCHEMA.endDate)
# Single-valued properties of an experience (shapes.ttl): on a merged experience the Villes Internet value
# stays, the OTeN one moves to its super-property. Reversible: the OTeN graph never uses the targets itself.
_DEMOTIONS = ((DCTERMS.title, DCTERMS.alternative), (CAP.dateDebut, SCHEMA.startDate))
_PRINCIPAL_MARK = "servicePrincipal="

# Function words and words every project description uses: they say nothing about which project it is.
_STOP_WORDS = """
afin ainsi apres aussi aux avant avec avoir bien ces cet cette chaque chez comme dans depuis des deux
donc dont elle elles entre est ete etre eux faire fait ils les leur leurs lors lui mais meme mes moi mon
nos notre nous ont par pas peut peuvent plus pour puis que qui sans ses son sont sous sur tes toi ton
tous tout toute toutes tres trois une vers vos votre vous
"""
_STOP = frozenset(_STOP_WORDS.split())


# --------------------------------------------------------------------------------------------------------
# What is compared
# --------------------------------------------------------------------------------------------------------


@dataclass
class Candidate:
    """One experience of a source graph, with what the merge compares."""

    source_id: str
    node: URIRef  # its IRI in its graph now (an OTeN experience already merged has the Villes Internet IRI)
    original: URIRef  # its IRI as first published (iri.experience)
    record: URIRef
    texts: list[str] = field(default_factory=list)
    porteurs: set[URIRef] = field(default_factory=set)
    carriers: set[URIRef] = field(default_factory=set)  # porteurs, and co-carriers for Villes Internet
    territories: set[URIRef] = field(default_factory=set)
    years: set[int] = field(default_factory=set)
    labels: dict[URIRef, str] = field(default_factory=dict)
    title: str = ""


@dataclass(frozen=True)
class MergePair:
    """One decision about an OTeN experience and a Villes Internet experience."""

    oten_id: str
    vi_id: str
    oten: URIRef  # the OTeN experience as first published
    vi: URIRef
    oten_record: URIRef
    vi_record: URIRef
    score: float
    statut: Kind["fusion", "a-revoir"]
    raison: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "oten": self.oten_id,
            "villes_internet": self.vi_id,
            "score": self.score,
            "statut": self.statut,
            "raison": self.raison,
        }


@dataclass
class MergeResult:
    """What a merge run decided and changed."""

    merged: list[MergePair] = field(default_factory=list)
    doubtful: list[MergePair] = field(default_factory=list)
    rewritten: int = 0  # OTeN experiences merged by this run
    restored: int = 0  # OTeN experiences un-merged by this run (their evidence changed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "merged": [p.as_dict() for p in self.merged],
            "doubtful": [p.as_dict() for p in self.doubtful],
            "rewritten": self.rewritten,
            "restored": self.restored,
        }


# --------------------------------------------------------------------------------------------------------
# Text similarity: TF-IDF cosine, small enough to write here
# --------------------------------------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    """Normalised content words: folded, no function words, no numbers, plural -s/-x dropped."""
    out: list[str] = []
    for word in normalise_texte(text).split():
        if len(word) < 3 or word in _STOP or word.isdigit():
            continue
        if len(word) > 4 and word[-1] in "sx":
            word = word[:-1]
        out.append(word)
    return out


@lru_cache(maxsize=20_000)
def _word_counts(text: str) -> tuple[tuple[str, int], ...]:
    """How often each content word occurs in a document, sorted by word.

    Cached: every import compares every experience of both graphs again, and most texts have not changed.
    """
    return tuple(sorted(Counter(tokens(text)).items()))


def _tfidf(documents: Sequence[str]) -> sparse.csr_matrix:
    """Unit TF-IDF vectors (log-scaled term frequency, smoothed IDF) of the documents, as the rows of a sparse
    matrix (a column a word). The words' counts go straight into arrays, not into a dictionary of weights a
    document (millions of entries at 100,000 experiences)."""
    vocabulary: dict[str, int] = {}
    indptr, indices, counts = array("q", [0]), array("q"), array("q")
    for text in documents:
        for word, n in _word_counts(text):
            indices.append(vocabulary.setdefault(word, len(vocabulary)))
            counts.append(n)
        indptr.append(len(indices))
    words, starts = np.frombuffer(indices, dtype=np.int64), np.frombuffer(indptr, dtype=np.int64)
    idf = np.log((len(documents) + 1) / (np.bincount(words, minlength=len(vocabulary)) + 1)) + 1.0
    weights = (1.0 + np.log(np.frombuffer(counts, dtype=np.int64))) * idf[words]
    shape = (len(documents), len(vocabulary))
    norms = np.sqrt(np.asarray(sparse.csr_matrix((weights * weights, words, starts), shape=shape).sum(axis=1)))
    norms[norms == 0] = 1.0
    weights /= np.repeat(norms.ravel(), np.diff(starts))
    return sparse.csr_matrix((weights, words, starts), shape=shape)


def _cosines(a: sparse.csr_matrix, b: sparse.csr_matrix, rows_a: Sequence[int], rows_b: Sequence[int]) -> list[float]:
    """The cosine of each pair of rows ``(a[rows_a[k]], b[rows_b[k]])`` of unit vectors, rounded to 4 decimals
    (pairs by the hundred thousand: each batch gathers its rows)."""
    out: list[float] = []
    for start in range(0, len(rows_a), _PAIRS_AT_ONCE):
        batch = slice(start, start + _PAIRS_AT_ONCE)
        products = a[np.asarray(rows_a[batch], dtype=np.int64)].multiply(b[np.asarray(rows_b[batch], dtype=np.int64)])
        out.extend(round(float(c), 4) for c in np.asarray(products.sum(axis=1)).ravel())
    return out


_PAIRS_AT_ONCE = 100_000


def similarities(texts: dict[str, str], pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """Cosine of each pair of documents, TF-IDF fitted on all ``texts`` (rounded to 4 decimals)."""
    row = {key: n for n, key in enumerate(texts)}
    vectors, pairs = _tfidf(list(texts.values())), list(pairs)
    scores = _cosines(vectors, vectors, [row[a] for a, _ in pairs], [row[b] for _, b in pairs])
    return dict(zip(pairs, scores, strict=True))


# --------------------------------------------------------------------------------------------------------
# Territories → départements (for "same département")
# --------------------------------------------------------------------------------------------------------


@cache
def _departements_of_epci() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = defaultdict(set)
    for commune in load_referentiel().communes.values():
        if commune.epci_siren:
            table[commune.epci_siren].add(commune.departement)
    return {siren: frozenset(deps) for siren, deps in table.items()}


@cache
def _departements_of_region() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = defaultdict(set)
    for dep in load_referentiel().departements.values():
        table[dep.region].add(dep.code)
    return {region: frozenset(deps) for region, deps in table.items()}


def departements(territory: URIRef) -> frozenset[str]:
    """The départements a territory node lies in (a région: all of its départements)."""
    kind, _, code = str(territory).removeprefix(str(ID)).partition("/")
    if kind == "commune":
        commune = load_referentiel().communes.get(code)
        return frozenset({commune.departement}) if commune else frozenset()
    if kind == "epci":
        return _departements_of_epci().get(code, frozenset())
    if kind == "departement":
        return frozenset({code})
    if kind == "region":
        return _departements_of_region().get(code, frozenset())
    return frozenset()


# --------------------------------------------------------------------------------------------------------
# Reading both graphs (a handful of queries, whatever the number of experiences)
# --------------------------------------------------------------------------------------------------------


def _values(predicates: Iterable[URIRef]) -> str:
    return " ".join(p.n3() for p in predicates)


def _has_experiences(store: Store, source: str) -> bool:
    return store.ask(f"ASK {{ GRAPH <{iri.graph(source)}> {{ ?e a <{CAP.Experience}> }} }}")


def load_candidates(store: Store, source: str, *, details: bool = True) -> list[Candidate]:
    """The experiences of one source graph (``oten`` or ``villes-internet``) with their comparison data.

    Without ``details``, only the experiences merged into another source's (their IRI is not their own),
    with their records: enough to undo those merges, nothing to compare.
    """
    graph = iri.graph(source)
    by_node: dict[URIRef, Candidate] = {}
    merged_only = "" if details else f'FILTER(!STRSTARTS(STR(?e), "{iri.experience_prefix(source)}"))'
    rows = store.select(
        f"""SELECT ?e ?r ?id WHERE {{ GRAPH <{graph}> {{
            ?e a <{CAP.Experience}> ; <{PROV.wasDerivedFrom}> ?r . {merged_only}
            ?r a <{CAP.SourceRecord}> ; <{CAP.identifiantSource}> ?id }} }}"""
    )
    for row in rows:
        node, source_id = row["e"], str(row["id"])
        by_node[node] = Candidate(source_id, node, iri.experience(source, source_id), row["r"])  # type: ignore[arg-type]
    if not by_node or not details:
        return sorted(by_node.values(), key=lambda c: c.source_id)
    texts: dict[URIRef, list[tuple[str, str]]] = defaultdict(list)
    rows = store.select(
        f"""SELECT ?e ?p ?t WHERE {{ VALUES ?p {{ {_values(_TEXT_PREDICATES)} }}
            GRAPH <{graph}> {{ ?e a <{CAP.Experience}> ; ?p ?t }} }}"""
    )
    for row in rows:
        texts[row["e"]].append((str(row["p"]), str(row["t"])))  # type: ignore[index]
    predicates = [CAP.porteur] if source == "oten" else [CAP.porteur, CAP.partenaire]
    rows = store.select(
        f"""SELECT ?e ?p ?a ?t ?l WHERE {{ VALUES ?p {{ {_values(predicates)} }}
            GRAPH <{graph}> {{ ?e a <{CAP.Experience}> ; ?p ?a .
                OPTIONAL {{ ?a <{CAP.territoire}> ?t }} OPTIONAL {{ ?a <{RDFS.label}> ?l }} }} }}"""
    )
    agents: list[tuple[URIRef, URIRef, URIRef, Any, Any]] = [
        (r["e"], r["p"], r["a"], r.get("t"), r.get("l"))  # type: ignore[misc]
        for r in rows
    ]
    rows = store.select(
        f"""SELECT ?e ?t WHERE {{ GRAPH <{graph}> {{ ?e a <{CAP.Experience}> ; <{CAP.territoire}> ?t }} }}"""
    )
    territories = [(r["e"], r["t"]) for r in rows]
    rows = store.select(
        f"""SELECT ?e ?d WHERE {{ VALUES ?p {{ {_values(_DATE_PREDICATES)} }}
            GRAPH <{graph}> {{ ?e a <{CAP.Experience}> ; ?p ?d }} }}"""
    )
    dates = [(r["e"], str(r["d"])) for r in rows]

    for node, values in texts.items():
        candidate = by_node.get(node)  # type: ignore[call-overload]
        if candidate is None:
            continue
        values.sort()
        candidate.texts = [text for _, text in values]
        titles = sorted(t for p, t in values if p in (str(DCTERMS.title), str(DCTERMS.alternative)))
        candidate.title = next((t for p, t in values if p == str(DCTERMS.title)), titles[0] if titles else "")
    for node, predicate, agent, territory, label in agents:
        candidate = by_node.get(node)
        if candidate is None or not isinstance(agent, URIRef):
            continue
        candidate.carriers.add(agent)
        if predicate == CAP.porteur:
            candidate.porteurs.add(agent)
        if isinstance(territory, URIRef):
            candidate.territories.add(territory)
        if label is not None:
            candidate.labels.setdefault(agent, str(label))
    for node, territory in territories:
        candidate = by_node.get(node)  # type: ignore[call-overload]
        if candidate is not None and isinstance(territory, URIRef):
            candidate.territories.add(territory)
    for node, value in dates:
        candidate = by_node.get(node)  # type: ignore[call-overload]
        match = re.match(r"-?(\d{4})", value)
        if candidate is not None and match:
            candidate.years.add(int(match.group(1)))
    return sorted(by_node.values(), key=lambda c: c.source_id)


# --------------------------------------------------------------------------------------------------------
# Deciding (pure: no store)
# --------------------------------------------------------------------------------------------------------


def _names(candidate: Candidate, agents: Iterable[URIRef]) -> str:
    names = sorted({candidate.labels.get(a) or str(a).rsplit("/", 1)[-1] for a in agents})
    return ", ".join(names)


def _years(candidate: Candidate) -> str:
    if not candidate.years:
        return "?"
    low, high = min(candidate.years), max(candidate.years)
    return str(low) if low == high else f"{low}-{high}"


def _years_compatible(oten: Candidate, vi: Candidate) -> bool | None:
    """True when some year of one record is within the tolerance of the other's span; None if unknown."""
    if not oten.years or not vi.years:
        return None
    low, high = min(oten.years) - YEAR_TOLERANCE, max(oten.years) + YEAR_TOLERANCE
    return any(low <= year <= high for year in vi.years)


def _candidate_pairs(oten: list[Candidate], vi: list[Candidate]) -> tuple[list[tuple[int, int, bool]], list[float]]:
    """The (oten, vi, same carrier) pairs worth deciding on, with their cosine, found place by place.

    A pair counts when the carrier is the same (same porteur, or a common territory) and the cosine reaches
    ``REVIEW_THRESHOLD``, or when both lie in one département and it reaches ``OTHER_CARRIER_THRESHOLD``. So
    only the experiences of one place (carrier, territory, département) are compared, each place's at once as
    one sparse matrix product (in C: at a million experiences a département holds thousands of each source);
    the pairs that may reach the threshold are then scored exactly as :func:`similarities` does.
    """
    vectors = _tfidf([" ".join(c.texts) for c in (*oten, *vi)])
    o_rows, v_rows = vectors[: len(oten)], vectors[len(oten) :]
    o_deps = [frozenset(d for t in o.territories for d in departements(t)) for o in oten]
    v_deps = [frozenset(d for t in v.territories for d in departements(t)) for v in vi]
    # (kind, place) -> (its OTeN experiences, its Villes Internet experiences)
    places: dict[tuple[str, Any], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for kind in ("carrier", "dep"):
        for o_index, o in enumerate(oten):
            for place in ({*o.porteurs, *o.territories} if kind == "carrier" else o_deps[o_index]):
                places[(kind, place)][0].append(o_index)
        for v_index, v in enumerate(vi):
            for place in ({*v.carriers, *v.territories} if kind == "carrier" else v_deps[v_index]):
                if (kind, place) in places:
                    places[(kind, place)][1].append(v_index)
    found: set[tuple[int, int]] = set()
    for (kind, _), (o_list, v_list) in places.items():
        if not v_list:
            continue
        threshold = REVIEW_THRESHOLD if kind == "carrier" else OTHER_CARRIER_THRESHOLD
        product = (o_rows[o_list] @ v_rows[v_list].T).tocoo()
        near = product.data >= threshold - 1e-3  # the exact score (rounded) is computed below
        found.update(zip((o_list[i] for i in product.row[near]), (v_list[j] for j in product.col[near]), strict=True))
    near_pairs: list[tuple[int, int, bool]] = []
    for o_index, v_index in sorted(found):
        o, v = oten[o_index], vi[v_index]
        same = bool(o.porteurs & v.carriers or o.territories & v.territories)
        if same or o_deps[o_index] & v_deps[v_index]:
            near_pairs.append((o_index, v_index, same))
    cosines = _cosines(o_rows, v_rows, [o for o, _, _ in near_pairs], [v for _, v, _ in near_pairs])
    pairs: list[tuple[int, int, bool]] = []
    scores: list[float] = []
    for pair, score in zip(near_pairs, cosines, strict=True):
        if score >= (REVIEW_THRESHOLD if pair[2] else OTHER_CARRIER_THRESHOLD):
            pairs.append(pair)
            scores.append(score)
    return pairs, scores


def decide(oten: list[Candidate], vi: list[Candidate]) -> tuple[list[MergePair], list[MergePair]]:
    """``(merges, doubtful pairs)`` between OTeN and Villes Internet experiences; merges are one-to-one."""
    pairs, pair_scores = _candidate_pairs(oten, vi)
    scores = {(f"o{o}", f"v{v}"): score for (o, v, _), score in zip(pairs, pair_scores, strict=True)}

    strong: list[tuple[float, int, int, str]] = []
    doubtful: list[MergePair] = []
    for o_index, v_index, same_carrier in pairs:
        o, v = oten[o_index], vi[v_index]
        score = scores[(f"o{o_index}", f"v{v_index}")]
        shared = o.porteurs & v.carriers
        if shared:
            carrier = f"même porteur ({_names(o, shared)})"
        elif same_carrier:
            common = sorted(o.territories & v.territories, key=str)
            carrier = f"même territoire ({', '.join(str(t).removeprefix(str(ID)) for t in common)})"
        else:
            carrier = (
                f"porteurs différents ({_names(o, o.porteurs)} / {_names(v, v.carriers)}) dans le même département"
            )
        years = _years_compatible(o, v)
        when = {True: "années compatibles", False: "années incompatibles", None: "années inconnues"}[years]
        evidence = (
            f"OTeN {o.source_id} « {o.title} » et Villes Internet {v.source_id} « {v.title} » : {carrier}, "
            f"similarité des textes {score:.2f}, {when} ({_years(o)} / {_years(v)})"
        )
        if same_carrier and score >= MERGE_THRESHOLD and years:
            strong.append((score, o_index, v_index, evidence))
        elif (
            (same_carrier and score >= MERGE_THRESHOLD)  # similar texts, but the years disagree or are unknown
            or (same_carrier and score >= REVIEW_THRESHOLD and years is not False)
            or (not same_carrier and score >= OTHER_CARRIER_THRESHOLD)
        ):
            doubtful.append(_pair(o, v, score, "a-revoir", evidence))

    merges: list[MergePair] = []
    taken_o: dict[int, str] = {}
    taken_v: dict[int, str] = {}
    for score, o_index, v_index, evidence in sorted(strong, key=lambda s: (-s[0], oten[s[1]].source_id, s[2])):
        o, v = oten[o_index], vi[v_index]
        if o_index in taken_o or v_index in taken_v:
            other = taken_o.get(o_index) or taken_v.get(v_index)
            doubtful.append(_pair(o, v, score, "a-revoir", f"{evidence} ; non fusionnées : {other} déjà fusionnée"))
            continue
        taken_o[o_index] = f"Villes Internet {v.source_id}"
        taken_v[v_index] = f"OTeN {o.source_id}"
        merges.append(_pair(o, v, score, "fusion", evidence))
    doubtful.sort(key=lambda p: (-p.score, p.oten_id, p.vi_id))
    return merges, _best_per_experience(doubtful)


def _best_per_experience(doubtful: list[MergePair]) -> list[MergePair]:
    """At most ``REVIEW_PER_EXPERIENCE`` doubtful pairs for one OTeN experience, the best scores (the list is
    sorted): a project told in the same words by many carriers would otherwise flood the review queue."""
    kept: Counter[str] = Counter()
    out: list[MergePair] = []
    for pair in doubtful:
        if kept[pair.oten_id] < REVIEW_PER_EXPERIENCE:
            kept[pair.oten_id] += 1
            out.append(pair)
    return out


def _pair(o: Candidate, v: Candidate, score: float, statut: Kind["fusion", "a-revoir"], raison: str) -> MergePair:
    return MergePair(o.source_id, v.source_id, o.original, v.original, o.record, v.record, score, statut, raison)


# --------------------------------------------------------------------------------------------------------
# Applying: IRI rewriting in the oten graph, decisions in the resolution graph
# --------------------------------------------------------------------------------------------------------


def _rename(graph: URIRef, renames: list[tuple[URIRef, URIRef]]) -> str:
    values = " ".join(f"({old.n3()} {new.n3()})" for old, new in renames)
    return (
        f"DELETE {{ GRAPH <{graph}> {{ ?old ?p ?o }} }} INSERT {{ GRAPH <{graph}> {{ ?new ?p ?o }} }} "
        f"WHERE {{ VALUES (?old ?new) {{ {values} }} GRAPH <{graph}> {{ ?old ?p ?o }} }} ;\n"
        f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?old }} }} INSERT {{ GRAPH <{graph}> {{ ?s ?p ?new }} }} "
        f"WHERE {{ VALUES (?old ?new) {{ {values} }} GRAPH <{graph}> {{ ?s ?p ?old }} }}"
    )


def _promote(graph: URIRef, nodes: list[URIRef]) -> str:
    """Move back the OTeN values of the experience's single-valued properties that :func:`_merged` demoted."""
    values = " ".join(n.n3() for n in nodes)
    updates = [
        f"DELETE {{ GRAPH <{graph}> {{ ?e <{alternative}> ?v }} }} INSERT {{ GRAPH <{graph}> {{ ?e <{main}> ?v }} }} "
        f"WHERE {{ VALUES ?e {{ {values} }} GRAPH <{graph}> {{ ?e <{alternative}> ?v }} }}"
        for main, alternative in _DEMOTIONS
    ]
    updates.append(
        f"DELETE {{ GRAPH <{graph}> {{ ?e <{CAP.annotation}> ?a }} }} "
        f"INSERT {{ GRAPH <{graph}> {{ ?e <{CAP.servicePrincipal}> ?s }} }} "
        f"WHERE {{ VALUES ?e {{ {values} }} GRAPH <{graph}> {{ ?e <{CAP.annotation}> ?a }} "
        f'FILTER(STRSTARTS(STR(?a), "{_PRINCIPAL_MARK}")) BIND(IRI(STRAFTER(STR(?a), "=")) AS ?s) }}'
    )
    return " ;\n".join(updates)


def _merged(store: Store, graph: str, renames: dict[URIRef, URIRef]) -> tuple[list[Triple], list[Triple]]:
    """The statements of the OTeN experiences being merged (``renames``: OTeN IRI -> Villes Internet IRI), as
    subject or object, and what they become: their single-valued properties demoted (their OTeN values moved to
    the alternative properties, :data:`_DEMOTIONS`; undone by :func:`_promote`), then the experience renamed wherever
    it appears (as :func:`_rename` does).

    Computed here and written by a removal and a bulk load rather than by SPARQL updates: on a graph a first
    import writes in place, RocksDB's transactional updates cost about 40 µs a quad (4,000 experiences renamed:
    8.6 s by the updates, 3.7 s so)."""
    demoted = dict(_DEMOTIONS)
    nodes = list(renames)
    # a statement of an experience about another is read twice: once kept
    read = [*statements_of(store, graph, nodes), *statements_of(store, graph, nodes, position="o")]
    removed = list(dict.fromkeys(read))
    added: list[Triple] = []
    for s, p, o in removed:
        if s in renames:
            if p == CAP.servicePrincipal:
                p, o = CAP.annotation, Literal(f"{_PRINCIPAL_MARK}{o}")
            else:
                p = demoted.get(p, p)  # type: ignore[call-overload]
        added.append((renames.get(s, s), p, renames.get(o, o)))  # type: ignore[call-overload]
    return removed, added


def _decision_triples(pair: MergePair) -> list[Triple]:
    merged = pair.statut == "fusion"
    aspect = "experience" if merged else f"experience-{str(pair.vi).rsplit('/', 1)[-1]}"
    node = iri.decision("oten", pair.oten_id, aspect)
    triples: list[Triple] = [
        (node, RDF.type, CAP.DecisionResolution),
        (node, CAP.methode, Literal(METHODE)),
        (node, CAP.score, Literal(f"{pair.score:.4f}", datatype=XSD.decimal)),
        (node, CAP.raison, Literal(pair.raison, lang="fr")),
        (node, CAP.enregistrement, pair.oten_record),
        (node, CAP.enregistrement, pair.vi_record),
        (node, PROV.wasAssociatedWith, AGENT),
    ]
    if merged:
        triples += [(node, CAP.entite, pair.vi), (node, CAP.decision, Literal("apparie"))]
    else:
        triples += [
            (node, CAP.aRevoir, Literal(True)),
            (node, CAP.decision, Literal("ambigu")),
            (node, CAP.candidat, pair.oten),
            (node, CAP.candidat, pair.vi),
        ]
    return triples


def merge_experiences(store: Store, *, villes_internet: Store | None = None) -> MergeResult:
    """Merge the OTeN experiences that tell a Villes Internet project; record every decision.

    Idempotent and order-independent: the outcome depends only on the current content of both graphs. The merge
    writes the ``oten`` and ``resolution`` graphs of ``store`` and only reads the ``villes-internet`` one, which
    it reads from ``villes_internet`` when given (an OTeN import stages only the graphs it writes).
    """
    vi_store = villes_internet if villes_internet is not None else store
    # Texts are compared only when both graphs have experiences (importing one source alone compares nothing);
    # the OTeN experiences are read in any case, to undo a merge whose Villes Internet side is gone.
    compare = _has_experiences(store, "oten") and _has_experiences(vi_store, "villes-internet")
    oten = load_candidates(store, "oten", details=compare)
    vi = load_candidates(vi_store, "villes-internet") if compare else []
    merges, doubtful = decide(oten, vi)
    desired = {pair.oten_id: pair.vi for pair in merges}
    # A doubtful pair names the experiences as they will exist: an OTeN one merged elsewhere has its new IRI.
    doubtful = [replace(p, oten=desired.get(p.oten_id, p.oten)) for p in doubtful]

    graph = iri.graph("oten")
    restore: list[tuple[URIRef, URIRef]] = []  # merged node -> OTeN IRI, when the merge no longer holds
    merge: list[tuple[URIRef, URIRef]] = []  # OTeN IRI -> Villes Internet IRI
    for candidate in oten:
        target = desired.get(candidate.source_id, candidate.original)
        if candidate.node == target:
            continue
        if candidate.node != candidate.original:
            restore.append((candidate.node, candidate.original))
        if target != candidate.original:
            merge.append((candidate.original, target))
    if restore:
        store.update(_rename(graph, restore) + " ;\n" + _promote(graph, [new for _, new in restore]))
    if merge:
        removed, added = _merged(store, str(graph), dict(merge))
        store.remove(removed, str(graph))
        store.load(added, str(graph))

    resolution = iri.graph("resolution")
    store.update(
        f"DELETE {{ GRAPH <{resolution}> {{ ?d ?p ?o }} }} WHERE {{ GRAPH <{resolution}> "
        f'{{ ?d <{CAP.methode}> "{METHODE}" ; ?p ?o }} }}'
    )
    triples = [t for pair in [*merges, *doubtful] for t in _decision_triples(pair)]
    if triples:
        store.load(triples, str(resolution))
    return MergeResult(merges, doubtful, rewritten=len(merge), restored=len(restore))


# --------------------------------------------------------------------------------------------------------
# Review
# --------------------------------------------------------------------------------------------------------


def review(store: Store) -> list[dict[str, Any]]:
    """The doubtful pairs (``cap:aRevoir true``), best score first, with both titles and carriers.

    For ``capitalis resolution review [--json]``: each entry has ``decision``, ``score``, ``raison`` and, for
    ``oten`` and ``villes_internet``, the ``experience`` IRI, the record ``id``, ``titre`` and ``porteurs``.
    """
    resolution = iri.graph("resolution")
    rows = store.select(
        f"""SELECT ?d ?score ?raison ?r WHERE {{ GRAPH <{resolution}> {{
            ?d <{CAP.methode}> "{METHODE}" ; <{CAP.aRevoir}> true ; <{CAP.score}> ?score ;
               <{CAP.raison}> ?raison ; <{CAP.enregistrement}> ?r }} }}"""
    )
    decisions: dict[Any, dict[str, Any]] = {}
    records: dict[Any, list[URIRef]] = defaultdict(list)
    for row in rows:
        decisions.setdefault(
            row["d"], {"decision": str(row["d"]), "score": float(row["score"]), "raison": str(row["raison"])}
        )
        records[row["d"]].append(row["r"])  # type: ignore[arg-type]
    if not decisions:
        return []
    described = {**_describe(store, "oten"), **_describe(store, "villes-internet")}
    out: list[dict[str, Any]] = []
    for node, entry in decisions.items():
        for record in records[node]:
            side = "oten" if "/record/oten/" in str(record) else "villes_internet"
            entry[side] = described.get(record, {"experience": "", "id": "", "titre": "", "porteurs": []})
        out.append(entry)
    out.sort(key=lambda d: (-d["score"], d["decision"]))
    return out


def _describe(store: Store, source: str) -> dict[URIRef, dict[str, Any]]:
    """Experience, id, title and carrier names of the records of one source graph, keyed by record."""
    graph = iri.graph(source)
    rows = store.select(
        f"""SELECT ?r ?id ?e ?t ?p ?l WHERE {{ GRAPH <{graph}> {{
            ?e a <{CAP.Experience}> ; <{PROV.wasDerivedFrom}> ?r ; <{DCTERMS.title}>|<{DCTERMS.alternative}> ?t .
            ?r <{CAP.identifiantSource}> ?id .
            OPTIONAL {{ ?e <{CAP.porteur}> ?p OPTIONAL {{ ?p <{RDFS.label}> ?l }} }} }} }}"""
    )
    out: dict[URIRef, dict[str, Any]] = {}
    for row in rows:
        entry = out.setdefault(
            row["r"],  # type: ignore[arg-type]
            {"experience": str(row["e"]), "id": str(row["id"]), "titre": str(row["t"]), "porteurs": []},
        )
        if "p" in row:
            name = str(row["l"]) if "l" in row else str(row["p"])
            if name not in entry["porteurs"]:
                entry["porteurs"].append(name)
    for entry in out.values():
        entry["porteurs"].sort()
    return out
