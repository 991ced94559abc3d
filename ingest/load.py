"""Loading into the store: the ontology graph, the territorial referential, and (later) source imports.

Each graph carries the content hash of what it was built from (``cap:empreinte`` on the graph's own IRI),
so that loading the same input twice changes nothing and costs almost nothing.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from rdflib import RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.namespace import PROV
from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ingest.graphs import other_shares, private_graph, public_graph, scope_graph, statements_of
from ingest.merge import MERGED_SOURCES, merge_experiences
from ingest.merge import METHODE as MERGE_METHODE
from ingest.readers import reader_for
from ingest.resolve import Resolver
from ingest.sources import Context, Problem, Reader, Record, Report
from ingest.terms import recurring_literal, text_literal
from ingest.territories import REFERENCE_DIR, load_referentiel, territories_triples
from kg.errors import Fault
from kg.failpoint import failpoint
from kg.store import Store, Triple, is_private, ntriples_line
from ontology import ONTOLOGY_FILES, iri
from ontology.namespaces import CAP

EMPREINTE = CAP.empreinte

#: Re-exported: the graphs an import writes are named in :mod:`ingest.graphs`.
__all__ = ["ensure_ontology", "import_file", "load_territories", "private_graph", "scope_graph"]


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
    files = [Path(p) for p in ONTOLOGY_FILES]
    digest = fingerprint(files)
    graph_iri = public_graph("ontologie")
    if graph_fingerprint(store, graph_iri) == digest:
        return False
    merged = Graph()
    for path in files:
        merged.parse(path, format="turtle")
    replace_if_changed(store, graph_iri, digest, iter(merged))
    return True


def load_territories(store: Store, reference: Path | None = None, *, progress: bool = False) -> dict[str, Any]:
    """Load the COG referential into the ``referentiel`` graph (atomic, idempotent)."""
    ensure_ontology(store)
    directory = reference or REFERENCE_DIR
    ref = load_referentiel(directory)
    digest = fingerprint(sorted(directory.glob("*.csv*")))
    triples: Iterable[Triple] = territories_triples(ref)
    if progress:
        triples = _progress(triples, "Référentiel territorial")
    count = replace_if_changed(store, public_graph("referentiel"), digest, triples)
    return {
        "changed": count is not None,
        "triples": count - 1 if count is not None else _graph_size(store, public_graph("referentiel")),
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
    columns = (SpinnerColumn(), TextColumn("{task.description}"), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=None)
        for n, item in enumerate(items, start=1):
            if n % 20_000 == 0:
                bar.update(task, completed=n)
            yield item


# --- source imports ---------------------------------------------------------------------------------------
#
# An import builds its result in a staging store (an in-memory copy of the graphs it reads and rewrites; those the
# store does not hold yet are written there in place, noted and unpublished: see ``Store.staging``), then
# commits it: the private graphs in one transaction, then the public ones in ONE transaction. A process killed
# at any point leaves the public graphs as they were before the import or as they are after it. What the
# previous import said of each record is read from the public source graph, the last thing written: a re-run
# after a kill compares against what was really committed, and its report tells what it really writes.

#: The predicates of a source record's own bookkeeping: what is kept of a withdrawn record (its tombstone).
BOOKKEEPING = frozenset(
    {
        RDF.type,
        CAP.source,
        CAP.identifiantSource,
        CAP.fichier,
        CAP.empreinte,
        CAP.importRun,
        CAP.feuille,
        CAP.ligne,
        CAP.versionFormat,
    }
)
_STATUS = frozenset({CAP.statutEnregistrement, CAP.retireLe})
#: The graph of the decisions, which every import rewrites in part.
_SHARED_GRAPHS = ("resolution",)


@dataclass
class _Previous:
    """What the previous import said of one record."""

    digest: str
    statut: str
    run: URIRef | None
    retire_le: str | None
    file: str | None = None  # the file of the run that last changed it (its provenance)


@dataclass
class _Import:
    """One import run: the reader, its report, where it writes, and what the store held before."""

    reader: Reader
    path: Path
    ctx: Context
    scope: str | None  # the format label, for readers whose formats share a source (``scoped_snapshot``)
    graph: str  # the source's public graph
    own_graph: str  # where this format's published triples are kept (the source graph, or its share)
    own_private: str
    run: URIRef
    started: datetime
    previous: dict[str, _Previous]
    runs: list[Triple]
    private: list[Triple] = field(default_factory=list)
    counted: int = 0
    digest: str | None = None  # what the run read (:func:`import_digest`), recorded on the run

    @property
    def report(self) -> Report:
        return self.ctx.report

    @property
    def source(self) -> str:
        return self.reader.source


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
    force: bool = False,
) -> Report:
    """Parse, validate, map, resolve and load one source file; return its report.

    Each export is a full snapshot of its source: the source's graph is rebuilt from it and committed at once
    (see above). A record absent from the file is withdrawn with everything minted for it; only its tombstone
    stays (its bookkeeping, marked withdrawn with the date). Unchanged records keep their provenance; the
    report counts created, updated, unchanged and withdrawn records.

    When the source's last import read exactly this (same :func:`import_digest`: file, format, options,
    readers' code, ontology, referential), nothing is read again: the last run is confirmed
    (``cap:confirmeLe``) and its report given back, every record counted unchanged. ``force`` reads anyway.
    """
    reader = reader_for(path, source)
    ensure_ontology(store)
    digest = import_digest(reader, path, options or {})
    if not force and (confirmed := _confirm_if_unchanged(store, reader, path, digest)) is not None:
        return confirmed
    run = _start(store, reader, path, options or {})
    run.digest = digest
    with store.staging(_graphs_read(store, run), _decisions_rewritten(run)) as staged:
        records = _read(run, progress)
        _write_source_graphs(staged, run, records)
        _replace_decisions(staged, run)
        if reader.source in MERGED_SOURCES:  # the merge reads only their graphs: another import cannot change it
            merge_experiences(staged, villes_internet=store if reader.source == "oten" else None)
        _after_load(reader, staged)
        failpoint("import.staged")
        _commit(store, staged, run)
    failpoint("import.committed")
    return run.report


def _start(store: Store, reader: Reader, path: Path, options: dict[str, Any]) -> _Import:
    """The run's identity and what the store holds before it (read before anything is written)."""
    report = Report(reader.source, str(path))
    scope = reader.label if getattr(reader, "scoped_snapshot", False) else None
    ctx = Context(report, Resolver(store, reader.source, scope), dict(options))
    graph = public_graph(reader.source)
    now = datetime.now(UTC)
    return _Import(
        reader=reader,
        path=path,
        ctx=ctx,
        scope=scope,
        graph=graph,
        own_graph=scope_graph(reader.source, scope) if scope else graph,
        own_private=scope_graph(reader.source, scope, private=True) if scope else private_graph(reader.source),
        # the run's IRI keeps the microseconds: two imports of a source within one second are two runs
        run=iri.import_run(reader.source, now.strftime("%Y%m%dT%H%M%S%f")),
        started=now.replace(microsecond=0),
        previous=_previous_records(store, graph, scope),
        runs=_runs(store, graph),
    )


def _graphs_read(store: Store, run: _Import) -> list[str]:
    """Every graph the import reads or rewrites: its source's graphs and shares, the shared ones, and the ``oten``
    graph for a Villes Internet import (the experience merge rewrites it; an OTeN import's merge reads the
    Villes Internet graph from the store, as it never writes it)."""
    own = {run.graph, private_graph(run.source), run.own_graph, run.own_private}
    shares = {g for g in store.graphs() if g.startswith(private_graph(run.source) + "/")}
    shared = (*_SHARED_GRAPHS, "oten") if run.source == "villes-internet" else _SHARED_GRAPHS
    return sorted(own | shares | {public_graph(name) for name in shared})


def _decisions_rewritten(run: _Import) -> dict[str, str]:
    """The part of the shared ``resolution`` graph an import may rewrite, as a pattern of its subjects: the decisions
    of its source (:func:`_replace_decisions`, NetPublic's ``after_load``), and the experience merge's for the
    sources it merges. Only they are staged and compared at the commit, not the other sources' decisions."""
    mine = f"{{ ?s <{CAP.source}> {text_literal(run.source).n3()} }}"
    if run.source in MERGED_SOURCES:
        mine += f" UNION {{ ?s <{CAP.methode}> {Literal(MERGE_METHODE).n3()} }}"
    return {public_graph("resolution"): mine}


def _read(run: _Import, progress: bool) -> Iterator[Record]:
    """The reader's records, the first of each source id only (a repeated id is reported and rejected)."""
    records: Iterable[Record] = run.reader.read(run.path, run.ctx)
    if progress:
        records = _progress(records, f"Lecture {run.path.name}")  # type: ignore[arg-type]
    seen: set[str] = set()
    for record in records:
        failpoint("import.reading")
        if record.source_id in seen:
            run.report.problem(
                record.place,
                "id",
                f"identifiant {record.source_id} déjà lu : enregistrement ignoré",
                "duplicate_id",
                "rejected",
            )
            continue
        seen.add(record.source_id)
        yield record


def _write_source_graphs(staged: Store, run: _Import, records: Iterator[Record]) -> None:
    """The source's public graph (records, tombstones, technologies, runs) and its private graph.

    A scoped format writes its share first; the source graphs are then the union of every format's share.
    """
    described = _described(run, records)
    tail: list[Triple] = []
    if run.scope:
        public = list(described)
        staged.replace_graph_ntriples(run.own_graph, public)
        staged.replace_graph(run.own_private, run.private)
        public.extend(map(ntriples_line, run.runs))
        run.report.triples = run.counted + len(run.runs) + len(run.private)
        public.extend(map(ntriples_line, other_shares(staged, run.source, run.scope)))
        run.private.extend(other_shares(staged, run.source, run.scope, private=True))
        tail.append((run.run, CAP.versionFormat, text_literal(run.scope)))
        lines: Iterable[str] = public
    else:
        lines = described

    def with_run() -> Iterator[str]:
        """The source graph, then the import runs: this one's counts are known once the records are read."""
        yield from lines
        if not run.scope:
            yield from map(ntriples_line, run.runs)
            run.report.triples = run.counted + len(run.runs) + len(run.private)
        yield from map(ntriples_line, tail)
        yield from map(ntriples_line, _run_triples(run))

    staged.replace_graph_ntriples(run.graph, with_run())
    report = json.dumps(run.report.as_dict(), ensure_ascii=False)
    run.private.append((run.run, CAP.rapportImport, Literal(report)))
    staged.replace_graph(private_graph(run.source), run.private)


def _described(run: _Import, records: Iterator[Record]) -> Iterator[str]:
    """The format's published triples as N-Triples lines: each record with its bookkeeping, then what only the
    end can tell (the tombstones of withdrawn records, the technologies met). Counts go to the report."""
    report, current = run.report, set()
    constants = _RecordConstants.of(run)
    for record in records:
        current.add(record.source_id)
        lines, digest = record_lines(record)
        changed_by = _count_change(run, record.source_id, digest)
        bookkeeping = constants.bookkeeping(record, digest, changed_by)
        run.private.extend(record.private)
        run.counted += len(record.triples) + len(bookkeeping)
        yield from lines
        yield from map(ntriples_line, bookkeeping)
    for triple in (*_tombstones(run, current), *run.ctx.resolver.technology_triples()):
        run.counted += 1
        yield ntriples_line(triple)
    report.withdrawn = sum(1 for k, v in run.previous.items() if k not in current and v.statut == "actif")


@dataclass(frozen=True)
class _RecordConstants:
    """The literals every record's bookkeeping repeats, made once per import."""

    run: _Import
    source: Literal
    file: Literal
    actif: Literal
    scope: Literal | None

    @classmethod
    def of(cls, run: _Import) -> _RecordConstants:
        scope = text_literal(run.scope) if run.scope else None
        return cls(run, text_literal(run.source), text_literal(run.path.name), text_literal("actif"), scope)

    def bookkeeping(self, record: Record, digest: str, changed_by: URIRef) -> list[Triple]:
        node = iri.source_record(self.run.source, record.source_id)
        before = self.run.previous.get(record.source_id)
        # an unchanged record keeps the file that created or last changed it, not the one that confirmed it
        kept = before.file if before is not None and changed_by != self.run.run else None
        triples: list[Triple] = [
            (node, RDF.type, CAP.SourceRecord),
            (node, CAP.source, self.source),
            (node, CAP.identifiantSource, text_literal(record.source_id)),
            (node, CAP.fichier, text_literal(kept) if kept else self.file),
            (node, CAP.empreinte, text_literal(digest)),
            (node, CAP.statutEnregistrement, self.actif),
            (node, CAP.importRun, changed_by),
            (record.entity, PROV.wasDerivedFrom, node),
            *place_triples(node, record.place),
        ]
        if self.scope is not None:
            triples.append((node, CAP.versionFormat, self.scope))
        return triples


def _count_change(run: _Import, source_id: str, digest: str) -> URIRef:
    """Count the record as created, updated or unchanged; returns the run that last changed it."""
    before = run.previous.get(source_id)
    if before is None:
        run.report.created += 1
        return run.run
    if before.digest != digest or before.statut != "actif":
        run.report.updated += 1
        return run.run
    run.report.unchanged += 1
    return before.run or run.run


def _commit(store: Store, staged: Store, run: _Import) -> None:
    """Write the staged graphs: the private ones (invisible, rebuilt by every run) first, then the public ones
    in one transaction, the source graph last of all read back by the next run (:func:`_previous_records`)."""
    graphs = sorted(set(_graphs_read(store, run)) | set(staged.graphs()))
    store.commit(staged, [g for g in graphs if is_private(g)])
    failpoint("import.private-committed")
    store.commit(staged, [g for g in graphs if not is_private(g)])


def _after_load(reader: Reader, staged: Store) -> None:
    """The reader's optional fix-ups once its source's graphs are in place (NetPublic re-points its lieux)."""
    after_load = getattr(reader, "after_load", None)
    if after_load is not None:
        after_load(staged)


def record_lines(record: Record) -> tuple[list[str], str]:
    """A record's public triples as N-Triples lines, and its digest: the hash of its lines (public, then
    private), each sorted. The lines are written once, for the digest and for the store."""
    lines = [ntriples_line(t) for t in record.triples]
    digest = hashlib.sha256("".join(sorted(lines)).encode())
    digest.update("".join(sorted(ntriples_line(t) for t in record.private)).encode())
    return lines, digest.hexdigest()


def _previous_records(store: Store, graph_iri: str, scope: str | None) -> dict[str, _Previous]:
    """The records of the source (of its format, with a scope) as the public source graph holds them."""
    of_format = f"; <{CAP.versionFormat}> {text_literal(scope).n3()}" if scope else ""
    rows = store.select(
        f"""SELECT ?id ?h ?st ?run ?ret ?f WHERE {{ GRAPH <{graph_iri}> {{
            ?r a <{CAP.SourceRecord}> ; <{CAP.identifiantSource}> ?id ; <{CAP.empreinte}> ?h ;
               <{CAP.statutEnregistrement}> ?st {of_format} .
            OPTIONAL {{ ?r <{CAP.importRun}> ?run }}
            OPTIONAL {{ ?r <{CAP.retireLe}> ?ret }}
            OPTIONAL {{ ?r <{CAP.fichier}> ?f }} }} }}"""
    )
    return {
        str(r["id"]): _Previous(
            str(r["h"]),
            str(r["st"]),
            r.get("run"),  # type: ignore[arg-type]
            str(r["ret"]) if "ret" in r else None,
            str(r["f"]) if "f" in r else None,
        )
        for r in rows
    }


def _tombstones(run: _Import, current: set[str]) -> Iterator[Triple]:
    """What is kept of the records absent from this export: their bookkeeping, marked withdrawn with the date.

    Nothing else: the entity, its evaluation, its indicators, its contacts, everything minted for the record
    goes with it (the new graph is built from the records of the file alone). A node another record still
    describes stays, described by that record.
    """
    gone = sorted(k for k in run.previous if k not in current)
    if not gone:
        return
    nodes = [iri.source_record(run.source, k) for k in gone]
    kept = statements_of(run.ctx.resolver.store, run.graph, nodes)  # type: ignore[arg-type]
    yield from (t for t in kept if t[1] in BOOKKEEPING)
    today = Literal(run.started.date().isoformat(), datatype=XSD.date)
    for source_id, node in zip(gone, nodes, strict=True):
        before = run.previous[source_id]
        yield node, CAP.statutEnregistrement, text_literal("retire")
        yield node, CAP.retireLe, Literal(before.retire_le, datatype=XSD.date) if before.retire_le else today


def _run_triples(run: _Import) -> list[Triple]:
    """The provenance of one import run: when, which file, and its counts."""
    report, started = run.report, run.started
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
    node = run.run
    return [
        (node, RDF.type, CAP.ImportRun),
        (node, RDFS.label, Literal(f"Import {run.source} {started.isoformat()}")),
        (node, PROV.startedAtTime, Literal(started.isoformat(), datatype=XSD.dateTime)),
        (node, PROV.endedAtTime, Literal(ended.isoformat(), datatype=XSD.dateTime)),
        (node, CAP.fichier, text_literal(run.path.name)),
        (node, CAP.source, text_literal(run.source)),
        *((node, predicate, Literal(value, datatype=XSD.integer)) for predicate, value in counts),
        *((node, predicate, value) for predicate, value in report.run_facts),
        *([(node, CAP.empreinteImport, text_literal(run.digest))] if run.digest else []),
    ]


# --- an unchanged file: confirmed, not read again ----------------------------------------------------------


@cache
def _readers_version() -> str:
    """What the readers' output depends on besides the file: their code, the ontology, the referential."""
    here = Path(__file__).parent
    files = [*sorted(here.glob("*.py")), *map(Path, ONTOLOGY_FILES), *sorted(REFERENCE_DIR.glob("*.csv*"))]
    return fingerprint(files)


def import_digest(reader: Reader, path: Path, options: dict[str, Any]) -> str:
    """SHA-256 of what an import of ``path`` reads: the file's bytes, its reader and format, the options and
    :func:`_readers_version`. Two imports of one digest write the same graphs, given the same store."""
    digest = hashlib.sha256()
    scope = reader.label if getattr(reader, "scoped_snapshot", False) else ""
    for part in (reader.source, scope, json.dumps(options, sort_keys=True, default=str), _readers_version()):
        digest.update(part.encode() + b"\0")
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _confirm_if_unchanged(store: Store, reader: Reader, path: Path, digest: str) -> Report | None:
    """When the source's last import (of any format) read this very digest, confirm it and give its report
    back, every record it kept counted unchanged; otherwise None (the file must be read).

    The store is then exactly as that import left it, or as later steps that depend on other sources left it
    (the experience merge, recomputed by every import): reading the file again would write the same graphs.
    """
    graph = public_graph(reader.source)
    rows = store.select(
        f"""SELECT ?run ?h WHERE {{ GRAPH <{graph}> {{ ?run a <{CAP.ImportRun}> .
            OPTIONAL {{ ?run <{CAP.empreinteImport}> ?h }} }} }} ORDER BY DESC(STR(?run)) LIMIT 1"""
    )
    if not rows or str(rows[0].get("h", "")) != digest:
        return None
    last = rows[0]["run"]
    saved = store.select_private(
        f"SELECT ?r WHERE {{ GRAPH <{private_graph(reader.source)}> {{ {last.n3()} <{CAP.rapportImport}> ?r }} }}"
    )
    if not saved:
        return None
    before = json.loads(str(saved[0]["r"]))
    report = Report(reader.source, str(path), read=before["read"], rows=before["rows"], triples=before["triples"])
    report.unchanged = before["created"] + before["updated"] + before["unchanged"]
    report.encoding = before.get("encoding")
    for e in before["errors"]:
        fault = Fault(str(path), e["row_or_record"], e["field"], e["message"])
        report.problems.append(Problem(fault, e["kind"], e["outcome"]))
    report.rejected, report.repaired, report.confirms = before["rejected"], before["repaired"], str(last)
    now = Literal(datetime.now(UTC).replace(microsecond=0).isoformat(), datatype=XSD.dateTime)
    store.add([(last, CAP.confirmeLe, now)], graph)  # type: ignore[list-item]
    return report


def place_triples(node: URIRef, place: str) -> list[Triple]:
    """``cap:feuille`` and ``cap:ligne`` (xsd:integer, as the shapes require) from a record's place.

    "Actions!171" gives sheet Actions, row 171; "fiche 3 (OTEN-2009-0042)" or "12" give row 3 or 12;
    a place without a number gives no row.
    """
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
    rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph_iri}> {{ ?s a <{CAP.ImportRun}> ; ?p ?o }} }}")
    return [(r["s"], r["p"], r["o"]) for r in rows]


def _replace_decisions(staged: Store, run: _Import) -> None:
    """Swap this source's decisions in the shared ``resolution`` graph (only its format's, with a scope).

    The decisions of a scoped import carry their format already (:class:`ingest.resolve.Resolver`).
    """
    graph_iri = public_graph("resolution")
    scope = run.scope
    other_format = f"FILTER NOT EXISTS {{ ?d <{CAP.versionFormat}> ?f FILTER(?f != $scope) }}" if scope else ""
    staged.update(
        f"DELETE {{ GRAPH <{graph_iri}> {{ ?d ?p ?o }} }} WHERE {{ GRAPH <{graph_iri}> "
        f"{{ ?d <{CAP.source}> $source ; ?p ?o {other_format} }} }}",
        source=text_literal(run.source),
        **({"scope": text_literal(scope)} if scope else {}),
    )
    staged.load(list(run.ctx.resolver.decision_triples()), graph_iri)
