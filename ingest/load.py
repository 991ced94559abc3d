"""Loading into the store: the ontology graph, the territorial referential, and (later) source imports.

Each graph carries the content hash of what it was built from (``cap:empreinte`` on the graph's own IRI),
so that loading the same input twice changes nothing and costs almost nothing.
"""

from __future__ import annotations

import gc
import hashlib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rdflib import RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.namespace import PROV
from rdflib.term import Node

from ingest.sources import Context, Record, Report, reader_for
from ingest.terms import recurring_literal, text_literal
from kg.store import Store, Triple, ntriples_line

EMPREINTE = URIRef("https://w3id.org/capitalis/ontology#empreinte")


def fingerprint(paths: Iterable[Path]) -> str:
    """SHA-256 over the bytes of the given files, in order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def graph_fingerprint(store: Store, graph_iri: str) -> str | None:
    rows = store.select(f"SELECT ?h WHERE {{ GRAPH <{graph_iri}> {{ <{graph_iri}> <{EMPREINTE}> ?h }} }}")
    return str(rows[0]["h"]) if rows else None


def replace_if_changed(store: Store, graph_iri: str, digest: str, triples: Iterable[Triple]) -> int | None:
    """Replace a named graph atomically unless it was built from the same input; returns the count or None."""
    if graph_fingerprint(store, graph_iri) == digest:
        return None

    def with_stamp() -> Iterator[Triple]:
        yield from triples
        yield URIRef(graph_iri), EMPREINTE, text_literal(digest)

    return store.replace_graph(graph_iri, with_stamp())


def ensure_ontology(store: Store) -> bool:
    """Load the ontology and the taxonomies into the ``ontologie`` graph when they changed."""
    from ontology import ONTOLOGY_FILES
    from ontology.iri import graph

    files = [Path(p) for p in ONTOLOGY_FILES]
    digest = fingerprint(files)
    iri = str(graph("ontologie"))
    if graph_fingerprint(store, iri) == digest:
        return False
    merged = Graph()
    for path in files:
        merged.parse(path, format="turtle")
    replace_if_changed(store, iri, digest, iter(merged))
    return True


def load_territories(store: Store, reference: Path | None = None, *, progress: bool = False) -> dict[str, Any]:
    """Load the COG referential into the ``referentiel`` graph (atomic, idempotent)."""
    from ingest.territories import REFERENCE_DIR, load_referentiel, territories_triples
    from ontology.iri import graph

    ensure_ontology(store)
    directory = reference or REFERENCE_DIR
    ref = load_referentiel(directory)
    digest = fingerprint(sorted(directory.glob("*.csv*")))
    triples: Iterable[Triple] = territories_triples(ref)
    if progress:
        triples = _progress(triples, "Référentiel territorial")
    count = replace_if_changed(store, str(graph("referentiel")), digest, triples)
    return {
        "changed": count is not None,
        "triples": count - 1 if count is not None else _graph_size(store, str(graph("referentiel"))),
        "communes": len(ref.communes),
        "epci": len(ref.epci),
        "departements": len(ref.departements),
        "regions": len(ref.regions),
    }


def _graph_size(store: Store, graph_iri: str) -> int:
    rows = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}")
    return int(rows[0]["n"]) - 1  # the fingerprint triple is bookkeeping


def _progress(items: Iterable[Triple], label: str) -> Iterator[Triple]:
    """A rich progress line with a running count (the total of a generator is unknown up front)."""
    from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=None)
        for n, item in enumerate(items, start=1):
            if n % 20_000 == 0:
                bar.update(task, completed=n)
            yield item


# --- source imports ---------------------------------------------------------------------------------------


def private_graph(source: str) -> str:
    """The private graph of one source (contact details): never exported, never publicly queryable."""
    from ontology.iri import graph

    return f"{graph('prive')}/{source}"


def scope_graph(source: str, scope: str, *, private: bool = False) -> str:
    """Where one format's share of a source is kept, for readers with ``scoped_snapshot``.

    NetPublic comes in two formats with records of their own (national file, legacy export) that may describe
    the same lieu: an import replaces its format's share only, and the source's graphs are rebuilt as the union
    of the shares, so that importing one format never withdraws nor alters what the other one said. The
    shares are bookkeeping copies: they live under the private prefix (``{prive}/{source}/{format}/publie``
    for the published triples, ``{prive}/{source}/{format}`` for the private ones), so that no public query
    or dump counts a triple twice (the public default graph is the union of the public named graphs).
    """
    base = f"{private_graph(source)}/{scope}"
    return base if private else f"{base}/publie"


def _other_shares(store: Store, source: str, scope: str, *, private: bool = False) -> list[Triple]:
    """The triples of the other formats' shares of a source (see :func:`scope_graph`)."""
    own, prefix = scope_graph(source, scope, private=private), private_graph(source) + "/"
    shares = [g for g in store.graphs() if g.startswith(prefix) and g != own and g.endswith("/publie") != private]
    return [t for g in shares for t in store.triples(g)]


@dataclass
class _Previous:
    """What the previous import said of one record."""

    digest: str
    statut: str
    entity: URIRef | None
    run: URIRef | None
    retire_le: str | None


def record_lines(record: Record) -> tuple[list[str], str]:
    """A record's public triples as N-Triples lines, and its digest: the hash of its lines (public, then
    private), each sorted. The lines are written once, for the digest and for the store."""
    lines = [ntriples_line(t) for t in record.triples]
    digest = hashlib.sha256("".join(sorted(lines)).encode())
    digest.update("".join(sorted(ntriples_line(t) for t in record.private)).encode())
    return lines, digest.hexdigest()


def _previous_records(store: Store, graph_iri: str) -> dict[str, _Previous]:
    from kg.store import is_private
    from ontology.namespaces import CAP

    rows = (store.select_private if is_private(graph_iri) else store.select)(
        f"""SELECT ?id ?h ?st ?e ?run ?ret WHERE {{ GRAPH <{graph_iri}> {{
            ?r a <{CAP.SourceRecord}> ; <{CAP.identifiantSource}> ?id ; <{CAP.empreinte}> ?h ;
               <{CAP.statutEnregistrement}> ?st .
            OPTIONAL {{ ?e <{PROV.wasDerivedFrom}> ?r }}
            OPTIONAL {{ ?r <{CAP.importRun}> ?run }}
            OPTIONAL {{ ?r <{CAP.retireLe}> ?ret }} }} }}"""
    )
    return {
        str(r["id"]): _Previous(
            str(r["h"]),
            str(r["st"]),
            r.get("e"),
            r.get("run"),
            str(r["ret"]) if "ret" in r else None,  # type: ignore[arg-type]
        )
        for r in rows
    }


def _subjects_triples(store: Store, graph_iri: str, subjects: list[URIRef]) -> list[Triple]:
    """Every triple of a graph whose subject is one of ``subjects`` (to keep withdrawn records)."""
    from kg.store import is_private

    select = store.select_private if is_private(graph_iri) else store.select
    out: list[Triple] = []
    for start in range(0, len(subjects), 500):
        values = " ".join(s.n3() for s in subjects[start : start + 500])
        rows = select(f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}")
        out.extend((r["s"], r["p"], r["o"]) for r in rows)
    return out


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration of an import.

    An import allocates millions of small objects (terms, triples) that live until it ends and forms almost
    no reference cycles, yet the collector would walk them all again and again: a sixth of an import's CPU
    time. Memory is still freed by reference counting; the collector resumes afterwards.
    """
    if not gc.isenabled():  # already paused (an import inside another one): leave it to the outer one
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@_gc_paused()
def import_file(
    store: Store,
    path: Path,
    *,
    source: str | None = None,
    options: dict[str, Any] | None = None,
    progress: bool = False,
) -> Report:
    """Parse, validate, map, resolve and load one source file; return its report.

    Each export is a full snapshot of its source: the source's graph is rebuilt from it and swapped in
    atomically. Records absent from the file are kept, marked withdrawn with the date; unchanged records
    keep their provenance; the report counts created, updated, unchanged and withdrawn records.
    """
    from ingest.resolve import Resolver
    from ontology import iri
    from ontology.namespaces import CAP

    reader = reader_for(path, source)
    ensure_ontology(store)
    report = Report(reader.source, str(path))
    # A reader with ``scoped_snapshot`` owns only its format's share of the source graph (scope_graph).
    scope = reader.label if getattr(reader, "scoped_snapshot", False) else None
    resolver = Resolver(store, reader.source, scope)
    ctx = Context(report, resolver, dict(options or {}))
    graph_iri = str(iri.graph(reader.source))
    now = datetime.now(UTC)
    # the run's IRI keeps the microseconds: two imports of a source within one second are two runs
    run = iri.import_run(reader.source, now.strftime("%Y%m%dT%H%M%S%f"))
    started = now.replace(microsecond=0)
    own_graph = scope_graph(reader.source, scope) if scope else graph_iri
    own_private = scope_graph(reader.source, scope, private=True) if scope else private_graph(reader.source)

    previous = _previous_records(store, own_graph)
    runs = _runs(store, graph_iri)  # read before anything is written
    today = Literal(started.date().isoformat(), datatype=XSD.date)
    records = reader.read(path, ctx)
    if progress:
        records = _progress(records, f"Lecture {path.name}")  # type: ignore[assignment]
    private: list[Triple] = []
    counted = 0

    def described() -> Iterator[str]:
        """The source graph, record after record as the reader gives them, then what only the end can tell.

        A generator of N-Triples lines, so that a first import streams into the store while the file is still
        being read (:meth:`kg.store.OxigraphStore.replace_graph_ntriples` loads a new graph as its lines come);
        a re-import is diffed against the stored graph once everything is known.
        """
        nonlocal counted
        # the same values on every record: made once
        source_literal, file_literal = text_literal(reader.source), text_literal(path.name)
        actif = text_literal("actif")
        scope_literal = text_literal(scope) if scope else None
        current: set[str] = set()
        subjects: set[Node] = set()
        for record in records:
            source_id = record.source_id
            if source_id in current:
                report.problem(
                    record.place,
                    "id",
                    f"identifiant {source_id} déjà lu : enregistrement ignoré",
                    "duplicate_id",
                    "rejected",
                )
                continue
            current.add(source_id)
            lines, digest = record_lines(record)
            before = previous.get(source_id)
            if before is None:
                report.created += 1
                changed_by = run
            elif before.digest != digest or before.statut != "actif":
                report.updated += 1
                changed_by = run
            else:
                report.unchanged += 1
                changed_by = before.run or run
            node = iri.source_record(reader.source, source_id)
            private.extend(record.private)
            subjects.update(t[0] for t in record.triples)
            subjects.add(record.entity)
            bookkeeping = [
                (node, RDF.type, CAP.SourceRecord),
                (node, CAP.source, source_literal),
                (node, CAP.identifiantSource, text_literal(source_id)),
                (node, CAP.fichier, file_literal),
                (node, CAP.empreinte, text_literal(digest)),
                (node, CAP.statutEnregistrement, actif),
                (node, CAP.importRun, changed_by),
                (record.entity, PROV.wasDerivedFrom, node),
                *place_triples(node, record.place),
            ]
            if scope:
                bookkeeping.append((node, CAP.versionFormat, scope_literal))
            counted += len(record.triples) + len(bookkeeping)
            yield from lines
            yield from map(ntriples_line, bookkeeping)
        subjects.update(t[0] for t in resolver.technology_triples())
        for triple in _withdrawn(store, reader.source, own_graph, own_private, previous, current, subjects, today):
            if triple[0] is _PRIVATE:
                private.append(triple[1:])  # type: ignore[arg-type]
                continue
            counted += 1
            yield ntriples_line(triple)  # type: ignore[arg-type]
        for triple in resolver.technology_triples():
            counted += 1
            yield ntriples_line(triple)
        report.withdrawn = sum(1 for k, v in previous.items() if k not in current and v.statut == "actif")

    tail: list[Triple] = []
    if scope:  # this format's share alone; the source graph below is the union of every format's share
        public = list(described())
        store.replace_graph_ntriples(own_graph, public)
        store.replace_graph(own_private, private)
        public.extend(map(ntriples_line, runs))
        report.triples = counted + len(runs) + len(private)
        public.extend(map(ntriples_line, _other_shares(store, reader.source, scope)))
        private.extend(_other_shares(store, reader.source, scope, private=True))
        tail.append((run, CAP.versionFormat, text_literal(scope)))
        source_graph: Iterable[str] = public
    else:
        source_graph = described()

    def with_run() -> Iterator[str]:
        """The source graph, then the import runs: this one's counts are known once the records are read."""
        yield from source_graph
        if not scope:
            yield from map(ntriples_line, runs)
            report.triples = counted + len(runs) + len(private)
        yield from map(ntriples_line, tail)
        yield from map(ntriples_line, _run_triples(run, reader.source, path, started, report))

    store.replace_graph_ntriples(graph_iri, with_run())
    store.replace_graph(private_graph(reader.source), private)
    _replace_decisions(store, reader.source, list(resolver.decision_triples()), scope)
    from ingest.merge import merge_experiences

    merge_experiences(store)
    after_load = getattr(reader, "after_load", None)
    if after_load is not None:
        after_load(store)
    return report


_PRIVATE = object()  # marks, in :func:`_withdrawn`'s output, a triple for the private graph


def _withdrawn(
    store: Store,
    source: str,
    own_graph: str,
    own_private: str,
    previous: dict[str, _Previous],
    current: set[str],
    described: set[Node],
    today: Literal,
) -> Iterator[tuple[Any, ...]]:
    """What is kept of the records absent from this export: marked withdrawn with their date, never deleted.

    The withdrawn records and their entities keep their triples; what such an entity points to and this
    import no longer describes (a technology or an organisation only it used) keeps its description, so that
    the kept entity still satisfies the shapes. Private triples come prefixed with :data:`_PRIVATE`.
    """
    from ontology import iri
    from ontology.namespaces import CAP

    gone = {k: v for k, v in previous.items() if k not in current}
    if not gone:
        return
    entities = {v.entity for v in gone.values() if v.entity}
    keep = [iri.source_record(source, k) for k in gone] + list(entities)
    kept = _subjects_triples(store, own_graph, keep)  # type: ignore[arg-type]
    orphans = {
        o
        for s, _, o in kept
        if s in entities
        and isinstance(o, URIRef)
        and o not in described
        and str(o).startswith(str(iri.ID))
        and o not in entities
    }
    kept.extend(_subjects_triples(store, own_graph, sorted(orphans)))
    for triple in _subjects_triples(store, own_private, list(entities)):  # type: ignore[arg-type]
        yield (_PRIVATE, *triple)
    status_preds = {CAP.statutEnregistrement, CAP.retireLe}
    withdrawn_nodes = {iri.source_record(source, k) for k in gone}
    yield from (t for t in kept if not (t[0] in withdrawn_nodes and t[1] in status_preds))
    for source_id, before in gone.items():
        node = iri.source_record(source, source_id)
        yield node, CAP.statutEnregistrement, text_literal("retire")
        yield node, CAP.retireLe, Literal(before.retire_le, datatype=XSD.date) if before.retire_le else today


def _run_triples(run: URIRef, source: str, path: Path, started: datetime, report: Report) -> list[Triple]:
    """The provenance of one import run: when, which file, and its counts."""
    from ontology.namespaces import CAP

    ended = datetime.now(UTC).replace(microsecond=0)
    counts = (
        (CAP.lu, report.read),
        (CAP.cree, report.created),
        (CAP.misAJour, report.updated),
        (CAP.inchange, report.unchanged),
        (CAP.retire, report.withdrawn),
        (CAP.rejete, report.rejected),
        (CAP.repare, report.repaired),
    )
    return [
        (run, RDF.type, CAP.ImportRun),
        (run, RDFS.label, Literal(f"Import {source} {started.isoformat()}")),
        (run, PROV.startedAtTime, Literal(started.isoformat(), datatype=XSD.dateTime)),
        (run, PROV.endedAtTime, Literal(ended.isoformat(), datatype=XSD.dateTime)),
        (run, CAP.fichier, text_literal(path.name)),
        (run, CAP.source, text_literal(source)),
        *((run, predicate, Literal(value, datatype=XSD.integer)) for predicate, value in counts),
        *((run, predicate, value) for predicate, value in report.run_facts),
    ]


def place_triples(node: URIRef, place: str) -> list[Triple]:
    """``cap:feuille`` and ``cap:ligne`` (xsd:integer, as the shapes require) from a record's place.

    "Actions!171" gives sheet Actions, row 171; "fiche 3 (OTEN-2009-0042)" or "12" give row 3 or 12;
    a place without a number gives no row.
    """
    from ontology.namespaces import CAP

    sheet, bang, rest = place.partition("!")
    if not bang:
        sheet, rest = "", place
    triples: list[Triple] = []
    if sheet.strip():
        triples.append((node, CAP.feuille, recurring_literal(sheet.strip())))
    number = _FIRST_NUMBER.search(rest)
    if number:
        triples.append((node, CAP.ligne, recurring_literal(int(number.group()), datatype=XSD.integer)))
    return triples


_FIRST_NUMBER = re.compile(r"\d+")


def _runs(store: Store, graph_iri: str) -> list[Triple]:
    """The import runs recorded so far in a source graph (provenance accumulates)."""
    from ontology.namespaces import CAP

    rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph_iri}> {{ ?s a <{CAP.ImportRun}> ; ?p ?o }} }}")
    return [(r["s"], r["p"], r["o"]) for r in rows]


def _replace_decisions(store: Store, source: str, triples: list[Triple], scope: str | None = None) -> None:
    """Swap this source's decisions in the shared ``resolution`` graph (only its format's, with a scope).

    The decisions of a scoped import carry their format already (:class:`ingest.resolve.Resolver`).
    """
    from ontology import iri
    from ontology.namespaces import CAP

    graph_iri = str(iri.graph("resolution"))
    other_format = f"FILTER NOT EXISTS {{ ?d <{CAP.versionFormat}> ?f FILTER(?f != $scope) }}" if scope else ""
    store.update(
        f"DELETE {{ GRAPH <{graph_iri}> {{ ?d ?p ?o }} }} WHERE {{ GRAPH <{graph_iri}> "
        f"{{ ?d <{CAP.source}> $source ; ?p ?o {other_format} }} }}",
        source=text_literal(source),
        **({"scope": text_literal(scope)} if scope else {}),
    )
    store.load(triples, graph_iri)
