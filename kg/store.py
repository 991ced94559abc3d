"""The quad store boundary: a small protocol and its embedded Oxigraph backend.

Only the backends (this module, :mod:`kg.sparql_server`) and what they share (:mod:`kg.backend`) import
pyoxigraph. Everything else speaks rdflib terms (``URIRef``, ``Literal``,
``BNode``) and the :class:`Store` protocol, so that a SPARQL-server backend can be added beside it.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import itertools
import os
import re
import shutil
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import IO, Any, Generic, Literal, Protocol, TypeVar

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib import Literal as RLiteral
from rdflib.term import Node

from kg.backend import (
    RDF_FORMATS,
    RESULT_FORMATS,
    count_rows,
    from_ox,
    has_blank_node,
    replacement,
    shacl_snapshot,
    write_dump,
)
from kg.errors import QueryError, StoreError
from kg.failpoint import failpoint

Triple = tuple[Node, Node, Node]
Row = dict[str, Node]

QueryKind = Literal["select", "ask", "construct", "describe"]
_PROLOGUE_RE = re.compile(r"^\s*(?:(?:PREFIX\s+\S*\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*", re.IGNORECASE)
_KIND_RE = re.compile(
    r"^\s*(?:(?:PREFIX\s+\S*\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*(SELECT|ASK|CONSTRUCT|DESCRIBE)\b",
    re.IGNORECASE,
)


def query_kind(query: str) -> QueryKind:
    """The form of a SPARQL query (select, ask, construct, describe), read past its prologue."""
    match = _KIND_RE.match(strip_comments(query))
    if not match:
        raise QueryError("requête SPARQL : forme inconnue (SELECT, ASK, CONSTRUCT ou DESCRIBE attendu)")
    return match.group(1).lower()  # type: ignore[return-value]


_TOKENS = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>\s]*>|#[^\n]*'
)


def strip_comments(query: str) -> str:
    """The query without its ``#`` comments; ``#`` inside strings and IRIs is left alone."""
    return _TOKENS.sub(lambda m: "" if m.group().startswith("#") else m.group(), query)


def split_prologue(query: str) -> tuple[str, str]:
    """Split a query into its prologue (``PREFIX``/``BASE`` declarations) and the rest."""
    stripped = strip_comments(query)
    match = _PROLOGUE_RE.match(stripped)
    end = match.end() if match else 0
    return stripped[:end], stripped[end:]


def bind(query: str, **values: Node | str | int | float) -> str:
    """Fill ``$name`` placeholders with terms serialised by rdflib, never by pasting raw text.

    Plain Python values become typed literals, so that user input cannot change the query's shape.
    """
    terms = {k: (v if isinstance(v, Node) else RLiteral(v)).n3() for k, v in values.items()}
    return string.Template(query).substitute(terms)


# --- term conversion -------------------------------------------------------------------------------


def _to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, RLiteral):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"terme RDF non pris en charge : {term!r}")


def ntriples_term(term: Node) -> str:
    """A term in N-Triples syntax: what bulk loading writes and what record digests hash.

    Writing the text and letting Oxigraph parse it costs half of building its Python terms one by one
    (:func:`_to_ox`), and loads are most of an import. The parser refuses an invalid IRI, but a ``>`` would
    end the IRI early and let the rest read as more triples: such an IRI goes to :func:`_to_ox`, which raises.
    A blank node is written ``_:id`` (the bulk loader keeps those apart: the parser would rename them).
    """
    if type(term) is URIRef:  # most terms: no walk of the class hierarchy
        return f"<{term}>" if ">" not in term else str(_to_ox(term))
    if isinstance(term, RLiteral):
        text = str(term)
        if "\\" in text or '"' in text or "\n" in text or "\r" in text:
            text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        language = term.language
        if language:
            return f'"{text}"@{language}'
        datatype = term.datatype
        if datatype:
            return f'"{text}"^^{ntriples_term(datatype)}'
        return f'"{text}"'
    if isinstance(term, URIRef):
        return f"<{term}>" if ">" not in term else str(_to_ox(term))
    if isinstance(term, BNode):
        return f"_:{term}"
    raise TypeError(f"terme RDF non pris en charge : {term!r}")


def ntriples_line(triple: Triple) -> str:
    """One triple as a line of N-Triples, newline included."""
    s, p, o = triple
    return f"{ntriples_term(s)} {ntriples_term(p)} {ntriples_term(o)} .\n"


#: The graph noting what a commit bulk-loads, to undo after a kill: the graphs it is creating, and the journal
#: files of the quads it adds to existing graphs (present only while it runs, or after a kill).
_CREATION = "https://w3id.org/capitalis/graph/creation-en-cours"
#: Under the store directory: the quads a commit bulk-adds to existing graphs, one N-Quads file per commit.
JOURNAL = "journal"
#: Quads added to an existing graph from which a commit bulk-loads them (see :meth:`OxigraphStore.commit`)
#: instead of writing them in its SPARQL update: an update parses and applies its whole text in memory, some
#: 9,000 quads a second (the resolution decisions an import adds: 60 s and 2.3 GB at 100,000 experiences).
BULK_ADD_FROM = 20_000
_IRI = re.compile(r"<([^<>\"{}|^`\\\x00-\x20]*)>")
#: an update that may write a graph it does not name by its IRI: a variable or prefixed graph, or several at once
_ANY_GRAPH = re.compile(r"\b(?:GRAPH|WITH|INTO|TO)\s++(?!<|GRAPH\b|DEFAULT\b)|\b(?:ALL|NAMED)\b", re.IGNORECASE)


def _in_place_note(graph: str) -> str:
    """The statement of the ``_CREATION`` graph noting a graph being created (dropped if the writer dies)."""
    return f"<{_CREATION}> <{_CREATION}#graphe> <{graph}> ."


def _notes_closed(db: ox.Store, notes: list[str]) -> str:
    """The update removing ``notes`` from the ``_CREATION`` graph of ``db``; the graph with them when they are all
    it holds (an empty named graph would stay listed)."""
    held = sum(1 for _ in db.quads_for_pattern(None, None, None, ox.NamedNode(_CREATION)))
    if held <= len(set(notes)):
        return f"DROP SILENT GRAPH <{_CREATION}>"
    return f"DELETE DATA {{ GRAPH <{_CREATION}> {{ {' '.join(notes)} }} }}"


# --- protocol --------------------------------------------------------------------------------------


PRIVATE_GRAPH_PREFIX = "https://w3id.org/capitalis/graph/prive"

#: Lines of N-Triples per bulk-load call (see :meth:`OxigraphStore._bulk_load_ntriples`): large enough that a call's
#: fixed cost (sorting, writing and ingesting its files) is small, small enough that loads start early.
LOAD_CHUNK = 100_000


class Store(Protocol):
    """What the rest of Capitalis may ask of a quad store."""

    def close(self) -> None: ...
    def load(self, triples: Iterable[Triple], graph: str) -> int: ...
    def add(self, triples: Iterable[Triple], graph: str) -> int: ...
    def remove(self, triples: Iterable[Triple], graph: str) -> None: ...
    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> int: ...
    def replace_graph_ntriples(self, graph: str, lines: Iterable[str]) -> int: ...
    def drop_graph(self, graph: str) -> None: ...
    def staging(self, graphs: Iterable[str], parts: Mapping[str, str] | None = None) -> Store: ...
    def commit(self, staged: Store, graphs: Iterable[str]) -> int: ...
    def graphs(self) -> list[str]: ...
    def triples(self, graph: str) -> Iterator[Triple]: ...
    def select(self, query: str, **values: Node | str | int | float) -> list[Row]: ...
    def select_private(self, query: str, **values: Node | str | int | float) -> list[Row]: ...
    def ask(self, query: str, **values: Node | str | int | float) -> bool: ...
    def construct(self, query: str, **values: Node | str | int | float) -> Graph: ...
    def update(self, update: str, **values: Node | str | int | float) -> None: ...
    def query_serialized(self, query: str, fmt: str, *, max_results: int | None = None) -> tuple[QueryKind, bytes]: ...
    def dump(self, out: Path | IO[bytes], fmt: str = "nq", graphs: Iterable[str] | None = None) -> None: ...
    def restore(self, path: Path) -> None: ...
    def to_graph(self, graphs: Iterable[str] | None = None) -> Graph: ...
    def shacl(self, shapes: Graph) -> tuple[bool, Graph]: ...
    def checkpoint(self) -> None: ...


def is_private(graph: str) -> bool:
    """Private graphs (``…/graph/prive`` and ``…/graph/prive/{source}``) hold personal contact data."""
    return graph == PRIVATE_GRAPH_PREFIX or graph.startswith(PRIVATE_GRAPH_PREFIX + "/")


def is_working_copy(graph: str) -> bool:
    """Graphs below a private graph (``…/graph/prive/{source}/…``) are an importer's bookkeeping copies of triples
    that its source's graphs hold too (see ``ingest.graphs.scope_graph``): not validated a second time, so that
    the copies, written in another transaction than the public graphs, never make the graph look invalid."""
    return graph.startswith(PRIVATE_GRAPH_PREFIX + "/") and "/" in graph[len(PRIVATE_GRAPH_PREFIX) + 1 :]


# --- snapshots: what readers open beside a writer ------------------------------------------------------------

#: Where the writer publishes its snapshots, under the store directory: ``snapshots/{generation}/public`` and
#: ``…/prive`` (RocksDB checkpoints made by ``Store.backup``: hard links to the immutable files of the live
#: databases, so a snapshot costs a memtable flush, not a copy) and ``snapshots/CURRENT``, the generation to open.
SNAPSHOTS = "snapshots"
#: Seconds after the first unpublished write when the writer publishes a snapshot (a debounce: an import makes
#: hundreds of writes, a snapshot costs ~0.2 s). Readers in other processes see a write this late at most;
#: :meth:`OxigraphStore.checkpoint` publishes at once (the SPARQL endpoint calls it before a query).
SNAPSHOT_DELAY_S = 1.0
#: Seconds a superseded snapshot stays on disk, for readers that opened it just before: a CLI export, a query.
SNAPSHOT_GRACE_S = 120.0
_DIRTY = "DIRTY"  # present while the live databases hold writes that no snapshot has


def store_generation(path: Path) -> int:
    """The generation of the latest snapshot of the store at ``path`` (0 when none was published yet).

    Cheap (one small file read): the SPARQL workers and the explorer call it to know when to reopen.
    """
    try:
        return int((path / SNAPSHOTS / "CURRENT").read_text(encoding="ascii").strip() or 0)
    except (OSError, ValueError):
        return 0


F = TypeVar("F", bound=Callable[..., Any])
_Item = TypeVar("_Item")


def _writes(method: F) -> F:
    """Serialise a write with the snapshots and mark the store changed (a snapshot follows, see SNAPSHOT_DELAY_S)."""

    @wraps(method)
    def wrapper(self: OxigraphStore, *args: Any, **kwargs: Any) -> Any:
        with self._write_lock:
            try:
                return method(self, *args, **kwargs)
            finally:
                self._changed()

    return wrapper  # type: ignore[return-value]


class OxigraphStore:
    """The embedded default backend: two RocksDB-backed Oxigraph stores under one directory.

    ``public/`` holds every public graph; ``prive/`` holds the private graphs (personal contact data).
    Keeping them in separate databases means no SPARQL query, however written, can reach personal data
    through the public store, and public queries can use the fast union default graph. Queries through
    :meth:`select`, :meth:`ask`, :meth:`construct` and :meth:`query_serialized` see the public store only;
    :meth:`select_private` is the one door to the private one.

    Open it with :func:`open_store` and close it (``with`` or :meth:`close`): closing flushes, so the next
    process reopens quickly. Only one process may open a directory read-write at a time: the writer.

    **Readers beside the writer.** pyoxigraph leaves a read-only handle on a database that another process writes
    undefined, so readers never open the live databases while a writer may run: the writer publishes consistent
    snapshots (RocksDB checkpoints, hard links) under ``snapshots/`` — one at opening when the last writer left
    changes unpublished, then one at most :data:`SNAPSHOT_DELAY_S` after a write, and one when it closes — and
    ``read_only=True`` opens the latest snapshot. A snapshot is taken under the writer's lock, between two write
    calls, so a reader sees every call (an import's commit, a contribution) whole or not at all.
    """

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.generation = 0  # of the snapshot a reader opened, or of the last one this writer published
        self._write_lock = threading.RLock()
        self._dirty = False
        self._due: float | None = None
        self._publisher: threading.Thread | None = None
        # a staging store (:meth:`staging`) notes the graphs written in it: None, unknown (every graph is compared)
        self._touched: set[str] | None = None
        self._staging = False
        # a staging store's graphs copied in part (see :meth:`staging`): graph -> the subjects copied
        self._parts: dict[str, set[Any]] = {}
        # a staging store's graphs new to the store it stages for, written there in place (see :meth:`staging`)
        self._live: OxigraphStore | None = None
        self._in_place: set[str] = set()
        self._pending: set[str] = set()  # those not committed yet: the live store's writer lock is held for them
        self._sizes: dict[str, int] = {}  # a graph written in place: its size, counted when loaded, until written again
        self._held = 0  # a live store: how many staging stores write here in place, uncommitted (no snapshot then)
        try:
            if path is None:
                self._store, self._private = ox.Store(), ox.Store()
            elif read_only:
                self._open_snapshot(path)
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._store, self._private = ox.Store(str(path / "public")), ox.Store(str(path / "prive"))
        except OSError as exc:
            if "lock" in str(exc).lower():  # RocksDB: another process holds the directory read-write
                raise StoreError(
                    f"l'entrepôt {path} est déjà ouvert en écriture par un autre processus (`capitalis serve` ?) : "
                    "arrêtez-le le temps de cette commande (une seule écriture à la fois)"
                ) from exc
            raise StoreError(f"impossible d'ouvrir l'entrepôt {path} : {exc}") from exc
        if path is not None and not read_only:
            self._recover()
            if store_generation(path) == 0 or (path / SNAPSHOTS / _DIRTY).exists():
                self.checkpoint(force=True)  # a writer killed before publishing, or a home from before snapshots
            else:
                self.generation = store_generation(path)

    def _open_snapshot(self, path: Path) -> None:
        """Open the latest snapshot read-only (a home no writer has opened since snapshots exist: the live
        databases, which is safe only when nothing writes them)."""
        for attempt in range(3):
            generation = store_generation(path)
            base = path / SNAPSHOTS / str(generation) if generation else path
            try:
                self._store = ox.Store.read_only(str(base / "public"))
                self._private = ox.Store.read_only(str(base / "prive"))
                self.generation = generation
                return
            except OSError:
                if attempt == 2 or not generation:
                    raise
                time.sleep(0.05)  # pruned between reading CURRENT and opening it: read CURRENT again

    # snapshots
    def _changed(self) -> None:
        """After a write: mark the live databases ahead of the snapshot, and schedule one."""
        if self.path is None or self.read_only:
            return
        if not self._dirty:
            self._dirty = True
            snapshots = self.path / SNAPSHOTS
            snapshots.mkdir(exist_ok=True)
            (snapshots / _DIRTY).touch()
            self._due = time.monotonic() + SNAPSHOT_DELAY_S
        if self._publisher is None or not self._publisher.is_alive():
            self._publisher = threading.Thread(target=self._publish_later, name="capitalis-snapshot", daemon=True)
            self._publisher.start()

    def _publish_later(self) -> None:
        while True:
            due = self._due
            if due is None:
                return
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(min(wait, SNAPSHOT_DELAY_S))
                continue
            with self._write_lock:
                if getattr(self, "_store", None) is None or not self._dirty:
                    self._due = None
                    return
                with contextlib.suppress(StoreError):  # retried at the next write, or at close
                    self.checkpoint()

    def checkpoint(self, *, force: bool = False) -> None:
        """Publish a snapshot of the live databases for the readers of other processes, now (no-op when no write
        is unpublished, on a read-only or in-memory store)."""
        if self.path is None or self.read_only:
            return
        with self._write_lock:
            if not (self._dirty or force) or getattr(self, "_store", None) is None or self._held:
                return  # (a staging store writing here in place: published at its commit)
            snapshots = self.path / SNAPSHOTS
            snapshots.mkdir(exist_ok=True)
            generation = max(store_generation(self.path), self.generation) + 1
            tmp = snapshots / f".{generation}.{os.getpid()}.tmp"
            try:
                if tmp.exists():
                    shutil.rmtree(tmp)
                tmp.mkdir()
                self._store.backup(str(tmp / "public"))
                self._private.backup(str(tmp / "prive"))
                tmp.rename(snapshots / str(generation))
                pointer = snapshots / f".CURRENT.{os.getpid()}"
                pointer.write_text(str(generation), encoding="ascii")
                os.replace(pointer, snapshots / "CURRENT")  # atomic: readers read the old generation or the new
            except OSError as exc:
                shutil.rmtree(tmp, ignore_errors=True)
                raise StoreError(f"instantané de l'entrepôt {self.path} impossible : {exc}") from exc
            self.generation, self._dirty, self._due = generation, False, None
            with contextlib.suppress(FileNotFoundError):
                (snapshots / _DIRTY).unlink()
            _prune(snapshots, generation)

    # lifecycle
    def __enter__(self) -> OxigraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Flush to disk and release the directory locks.

        A staging store closed before :meth:`commit` took every graph it wrote in place (an import that failed)
        removes them from its live store, and lets that store publish snapshots again."""
        if self._live is not None and self._pending:
            try:
                self._live._recover()  # the note of the graphs written in place names them: they are dropped
            finally:
                self._pending.clear()
                self._live._release()
        with self._write_lock:
            if getattr(self, "_store", None) is None:
                return
            if self.path is not None and not self.read_only:
                self._store.flush()
                self._private.flush()
                with contextlib.suppress(StoreError):  # else the next writer publishes it at opening (DIRTY stays)
                    self.checkpoint()
            self._due = None
            del self._store, self._private

    def _db(self, graph: str) -> ox.Store:
        if graph in self._in_place:
            assert self._live is not None
            return self._live._db(graph)
        return self._private if is_private(graph) else self._store

    def _db_for(self, text: str, *, private: bool = False) -> ox.Store:
        """The database a query or update runs on: this store's, or for a staging store, its live store's when
        the text names a graph written there in place (see :meth:`staging`). A text naming graphs of both is
        refused: one query sees one database."""
        own = self._private if private else self._store
        if not self._in_place:
            return own
        named = set(_IRI.findall(text))
        in_place = named & self._in_place
        if not in_place:
            return own
        copied = {g.value for g in own.named_graphs() if isinstance(g, ox.NamedNode)} & named
        if copied:
            raise StoreError(
                f"préparation : une requête ne peut lire à la fois des graphes écrits en place ({sorted(in_place)}) "
                f"et des graphes copiés ({sorted(copied)})"
            )
        assert self._live is not None
        return self._live._private if private else self._live._store

    # writing
    @staticmethod
    def _quads(triples: Iterable[Triple], graph: ox.NamedNode) -> Iterator[ox.Quad]:
        for s, p, o in triples:
            yield ox.Quad(_to_ox(s), _to_ox(p), _to_ox(o), graph)  # type: ignore[arg-type]

    @_writes
    def load(self, triples: Iterable[Triple], graph: str) -> int:
        """Bulk-load triples into a named graph (fast, not transactional); returns how many were given."""
        self._touch(graph)
        counter = _Counter(triples)
        self._bulk_load(graph, counter)
        return counter.count

    def _bulk_load(self, graph: str, triples: Iterable[Triple], into: ox.Store | None = None) -> int:
        """Bulk-load triples (see :meth:`_bulk_load_ntriples`); returns how many were given.

        Triples with a blank node, which N-Triples text would rename, go through ``bulk_extend`` with their
        ids kept.
        """
        g = ox.NamedNode(graph)
        with_blank: set[ox.Quad] = set()

        def lines() -> Iterator[str]:
            for s, p, o in triples:
                subject, obj = ntriples_term(s), ntriples_term(o)
                if subject[0] == "_" or obj[0] == "_":  # a blank node: "<" starts an IRI, '"' a literal
                    with_blank.add(ox.Quad(_to_ox(s), _to_ox(p), _to_ox(o), g))  # type: ignore[arg-type]
                    continue
                yield f"{subject} {ntriples_term(p)} {obj} .\n"

        count = self._bulk_load_ntriples(graph, lines(), into)
        if with_blank:
            (into if into is not None else self._db(graph)).bulk_extend(with_blank)
        return count + len(with_blank)

    def _bulk_load_ntriples(self, graph: str, lines: Iterable[str], into: ox.Store | None = None) -> int:
        """Bulk-load N-Triples lines into a graph, in chunks loaded in parallel.

        Oxigraph's bulk loader releases the GIL and runs on one core per call (it starts a thread per million
        quads): chunks of :data:`LOAD_CHUNK` lines are handed to a pool of one thread per core as soon as they
        come, so that Python writes the next chunk while Oxigraph loads the previous ones (RocksDB ingests the
        sorted files of concurrent loads safely; a line given twice is one quad). Returns how many lines were given:
        no set of them is kept (at a million experiences, a source graph's lines take tens of gigabytes).
        ``into``: another database than the graph's own (the scratch store of :meth:`_load_new`).
        """
        db, g = (into if into is not None else self._db(graph)), ox.NamedNode(graph)
        given = 0
        chunk: list[str] = []
        futures: list[Future[None]] = []

        def submit(pool: ThreadPoolExecutor) -> None:
            text = "".join(chunk)
            chunk.clear()
            futures.append(pool.submit(db.bulk_load, text, ox.RdfFormat.N_TRIPLES, to_graph=g))

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="capitalis-load") as pool:
            try:
                for line in lines:
                    given += 1
                    chunk.append(line)
                    if len(chunk) >= LOAD_CHUNK:
                        submit(pool)
                if chunk:
                    submit(pool)
            finally:
                errors = [f.exception() for f in futures]
        for error in errors:
            if isinstance(error, SyntaxError):
                raise StoreError(f"triplets invalides pour le graphe {graph} : {error}") from error
            if error is not None:
                raise error
        return given

    @_writes
    def add(self, triples: Iterable[Triple], graph: str) -> int:
        """Add a small set of triples in one transaction."""
        self._touch(graph)
        counter = _Counter(triples)
        self._db(graph).extend(self._quads(counter, ox.NamedNode(graph)))
        return counter.count

    @_writes
    def remove(self, triples: Iterable[Triple], graph: str) -> None:
        """Remove the given triples from a named graph."""
        self._touch(graph)
        g, db = ox.NamedNode(graph), self._db(graph)
        for q in self._quads(triples, g):
            db.remove(q)

    @_writes
    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> int:
        """Replace a named graph by the given triples; returns how many distinct triples it now holds.

        The change is computed as a diff against the current graph and applied as ONE SPARQL update
        (``DELETE DATA`` + ``INSERT DATA``), so readers see the old graph or the new one, never half, and a
        re-import that changes little costs little. Oxigraph deletes slowly through ``DROP``/``MOVE``
        (tens of µs a quad); ``DELETE DATA`` is several times faster. A graph that does not exist yet is
        bulk-loaded as its triples come (:meth:`_bulk_load`: a generator streams while its producer is still
        reading its file) into a scratch store, then added in one transaction (:meth:`_load_new`). Graphs with
        blank nodes, which ``DELETE DATA`` cannot name, are cleared and filled anew in the same update.
        """
        self._touch(graph)
        if self._is_new(graph):
            return self._load_new(graph, lambda scratch: self._bulk_load(graph, triples, scratch))
        return self._apply(graph, set(self._quads(triples, ox.NamedNode(graph))))

    @_writes
    def replace_graph_ntriples(self, graph: str, lines: Iterable[str]) -> int:
        """:meth:`replace_graph` for triples already written as N-Triples lines (:func:`ntriples_line`), without
        blank nodes: an import writes each record's lines once, for its digest and for the store."""
        self._touch(graph)
        if self._is_new(graph):
            return self._load_new(graph, lambda scratch: self._bulk_load_ntriples(graph, lines, scratch))
        g = ox.NamedNode(graph)
        try:
            parsed = ox.parse("".join(lines), ox.RdfFormat.N_TRIPLES)
            return self._apply(graph, {ox.Quad(t.subject, t.predicate, t.object, g) for t in parsed})
        except SyntaxError as exc:
            raise StoreError(f"triplets invalides pour le graphe {graph} : {exc}") from exc

    def _is_new(self, graph: str) -> bool:
        return next(self._db(graph).quads_for_pattern(None, None, None, ox.NamedNode(graph)), None) is None

    def _load_new(self, graph: str, load: Callable[[ox.Store], int]) -> int:
        """Load a graph that does not exist yet in ONE transaction: readers, and a process killed midway, see
        no graph or the whole graph. Returns how many distinct triples it holds.

        Oxigraph's bulk loader is fast but not transactional: it fills an in-memory scratch store as the triples
        come (a generator streams while its producer still reads its file), then ``extend`` adds its quads to
        the database atomically. If the triples fail midway, nothing was written.

        A staging store (:meth:`staging`) has no reader but its writer, and is dropped when the writer fails: it
        loads straight into its database (the scratch copy would double the memory of the largest graph).
        """
        db, g = self._db(graph), ox.NamedNode(graph)
        if self._staging:
            load(db)
            db.add_graph(g)
            size = _size(db, g)
            if graph in self._in_place:
                self._sizes[graph] = size  # for the commit, which counts what it writes
            return size
        scratch = ox.Store()
        load(scratch)
        db.extend(scratch.quads_for_pattern(None, None, None, g))
        db.add_graph(g)
        return _size(scratch, g)

    def _apply(self, graph: str, new: set[ox.Quad]) -> int:
        """Make an existing graph hold exactly ``new``, as one update (see :meth:`replace_graph`)."""
        db = self._db(graph)
        update = replacement(graph, set(db.quads_for_pattern(None, None, None, ox.NamedNode(graph))), new)
        if update:
            db.update(update)
        return len(new)

    # staged writes
    def _touch(self, graph: str) -> None:
        if self._touched is not None:
            self._touched.add(graph)
        self._sizes.pop(graph, None)

    def _touch_update(self, update: str) -> None:
        """Note the graphs a SPARQL update may write: every IRI it names (more than its graphs: harmless), or
        all of them when a graph is a variable or the update clears or drops several at once."""
        if self._touched is None or _ANY_GRAPH.search(update):
            self._touched = None
            self._sizes.clear()
        else:
            self._touched.update(named := _IRI.findall(update))
            for graph in named:
                self._sizes.pop(graph, None)

    def staging(self, graphs: Iterable[str], parts: Mapping[str, str] | None = None) -> OxigraphStore:
        """An in-memory store holding copies of ``graphs`` (public and private): a writer builds its result there,
        reading and rewriting as it likes, then :meth:`commit` makes this store hold it at once.

        The graphs of ``graphs`` this store does not hold yet (a source's graphs at its first import: tens of
        millions of quads at a million experiences) are not staged in memory: they are written here in place,
        under their own names, and the staging store reads them here. So that nobody sees them before the commit,
        they are first noted as being created (the note :meth:`_recover` reads: a process killed before the
        commit leaves them to be dropped by the next writer, and closing the staging store without committing
        drops them at once), and this store's writer lock is held until the commit or the close, so that no
        snapshot is published meanwhile (readers in other processes read only snapshots). A query or update on
        the staging store runs here when it names such a graph, and is refused if it also names a copied one.
        Rewriting many quads of such a graph by SPARQL updates is slow here (RocksDB's transactional writes, about
        40 µs a quad): the experience merge removes and bulk-loads instead (``ingest.merge._merged``).

        The staging store notes the graphs written in it (:meth:`_touch`): a graph only read there (an import
        reads the other sources' graphs to merge experiences) is left as it is by :meth:`commit`, which spares
        comparing it quad by quad (at a million experiences, tens of millions of quads held twice in memory).

        ``parts`` names graphs of which the writer rewrites the statements of some subjects only: for each, a
        SPARQL group pattern binding ``?s`` to those subjects. Only their statements are copied, and
        :meth:`commit` compares only the statements of those subjects and of the subjects the staged graph holds
        then; the rest of the graph stays as it is (the decisions of the other sources in the shared
        ``resolution`` graph: 1.37M quads at 100,000 experiences).
        """
        staged = OxigraphStore(None)
        staged._touched, staged._staging = set(), True
        parts, graphs = dict(parts or {}), list(dict.fromkeys(graphs))
        for name in graphs:
            g, db = ox.NamedNode(name), self._db(name)
            if not db.contains_named_graph(g):
                continue
            if name in parts:
                query = f"SELECT DISTINCT ?s WHERE {{ GRAPH <{name}> {{ {parts[name]} }} }}"
                subjects = {row["s"] for row in self._run(db, query, {})}
                staged._db(name).bulk_extend(q for s in subjects for q in db.quads_for_pattern(s, None, None, g))
                staged._parts[name] = subjects
            else:
                staged._db(name).bulk_extend(db.quads_for_pattern(None, None, None, g))
            staged._db(name).add_graph(g)
        new = [n for n in graphs if not self._db(n).contains_named_graph(ox.NamedNode(n))]
        if new:
            self._write_lock.acquire()  # released by the commit that takes the last of them, or by staged.close()
            self._held += 1
            staged._live = self
            try:
                self._note_in_place(new)
            except BaseException:
                self._release()
                raise
            staged._in_place, staged._pending = set(new), set(new)
        return staged

    def _note_in_place(self, graphs: list[str]) -> None:
        """Note, each in its database's ``_CREATION`` graph, the graphs a staging store is about to create here in
        place: the next writer drops them if this process dies before the commit that closes the note."""
        for private in (False, True):
            notes = [_in_place_note(name) for name in graphs if is_private(name) == private]
            if notes:
                (self._private if private else self._store).update(
                    f"INSERT DATA {{ GRAPH <{_CREATION}> {{ {' '.join(notes)} }} }}"
                )
        self._changed()

    @_writes
    def commit(self, staged: Store, graphs: Iterable[str]) -> int:
        """Make ``graphs`` hold what they hold in ``staged``: one transaction for the private graphs, then ONE for
        the public ones, so that readers, and a process killed at any point, see the public graphs of the call
        as they were before or as they are after, never between. Returns how many quads changed.

        What a transaction would apply slowly is bulk-loaded first, recoverably (:meth:`_bulk_load_noted`): the
        graphs that did not exist, and the quads added to a graph when they are many (:data:`BULK_ADD_FROM`); the
        transaction then applies the rest (removals, small additions) and closes the note of the loads.

        The graphs the staging store wrote here in place (see :meth:`staging`) are here already: the transaction
        closes their note, and the commit that takes the last of them lets this store publish snapshots again."""
        if not isinstance(staged, OxigraphStore):
            raise TypeError("commit : la zone de préparation doit venir de staging()")
        names, changed = list(graphs), 0
        in_place = [n for n in names if n in staged._pending]
        if staged._touched is not None:  # a graph only read in the staging store is still as it was here
            names = [n for n in names if n in staged._touched]
        for db, private in ((self._private, True), (self._store, False)):
            diffs, created, added = [], [], []
            done = [n for n in in_place if is_private(n) == private]
            changed += sum(staged._sizes[n] if n in staged._sizes else _size(db, ox.NamedNode(n)) for n in done)
            for name in (n for n in names if is_private(n) == private and n not in staged._in_place):
                g = ox.NamedNode(name)
                if self._is_new(name):
                    # a new graph streams from the staging store to the bulk loader: no set of its quads
                    if not staged._is_new(name):
                        created.append(name)
                    continue
                new = set(staged._db(name).quads_for_pattern(None, None, None, g))
                part = staged._parts.get(name)
                if part is None:
                    old = set(db.quads_for_pattern(None, None, None, g))
                else:  # the statements of the subjects the writer could rewrite, and of those it wrote
                    subjects = part | {q.subject for q in new}
                    old = {q for s in subjects for q in db.quads_for_pattern(s, None, None, g)}
                    if any(has_blank_node(q) for q in old ^ new):  # a blank node would clear the whole graph
                        raise StoreError(f"graphe {name} préparé en partie : nœuds anonymes non pris en charge")
                changed += len(old ^ new)
                more = new - old
                if len(more) >= BULK_ADD_FROM and not any(has_blank_node(q) for q in more):
                    added.extend(more)
                    old |= more  # the update removes what goes
                diffs.append((name, old, new))
            journal = self._bulk_load_noted(db, staged, created, added) if created or added else None
            changed += journal.count if journal is not None else 0
            parts = [replacement(name, old, new) for name, old, new in diffs]
            # the same transaction that applies the other changes closes the note of the loads and of the graphs
            # written in place
            notes = [*(journal.notes if journal is not None else []), *map(_in_place_note, done)]
            if notes:
                parts.append(_notes_closed(db, notes))
            if done:
                failpoint("store.in-place")
            update = " ;\n".join(p for p in parts if p)
            if update:
                db.update(update)
            if journal is not None and journal.path is not None:
                journal.path.unlink(missing_ok=True)
            staged._pending.difference_update(done)
        if in_place and not staged._pending:
            self._release()
        return changed

    def _release(self) -> None:
        """The graphs a staging store wrote here in place are committed or dropped: snapshots may show them."""
        self._held -= 1
        self._write_lock.release()

    def _bulk_load_noted(self, db: ox.Store, staged: OxigraphStore, created: list[str],
                         added: list[ox.Quad]) -> _Journal:
        """Bulk-load the graphs that did not exist (streamed from the staging store) and the quads ``added`` to
        existing graphs with Oxigraph's bulk loader (hundreds of thousands of quads a second, where a transaction
        manages tens of thousands), recoverably.

        The bulk loader is not transactional, so what it loads is first noted, in one small transaction: the
        graphs being created, and a journal file holding the added quads (none existed before: they are the
        difference). :meth:`commit` removes the note in the very transaction that applies its other changes. A
        process killed in between leaves the note, and the next writer to open the store drops the graphs it
        names and removes the journal's quads (:meth:`_recover`): the store is back as it was before the commit.
        Readers never see a load half done: they read snapshots, published between two writes. Returns the
        journal (its path, None for an in-memory store, and how many quads were created; the added ones are
        counted by the caller's diff).
        """
        journal = _Journal(None, 0)
        notes = journal.notes = [_in_place_note(name) for name in created]
        if added and self.path is not None:
            folder = self.path / JOURNAL
            folder.mkdir(exist_ok=True)
            journal.path = folder / f"{uuid.uuid4().hex}.nq"
            with journal.path.open("wb") as out:
                ox.serialize(added, out, ox.RdfFormat.N_QUADS)
                out.flush()
                os.fsync(out.fileno())
            notes.append(f"<{_CREATION}> <{_CREATION}#journal> {ntriples_term(RLiteral(journal.path.name))} .")
        db.update(f"INSERT DATA {{ GRAPH <{_CREATION}> {{ {' '.join(notes)} }} }}")
        failpoint("store.bulk-creation")
        quads = _Counter(q for name in created for q in staged._db(name).quads_for_pattern(None, None, None,
                                                                                              ox.NamedNode(name)))
        stream = itertools.chain(quads, added)
        while chunk := list(itertools.islice(stream, LOAD_CHUNK)):
            db.bulk_extend(chunk)  # by chunks: given the whole stream, the bulk loader buffers millions of quads
        for name in created:
            db.add_graph(ox.NamedNode(name))
        journal.count = quads.count
        failpoint("store.bulk-loaded")
        return journal

    def _recover(self) -> None:
        """Undo the bulk loads of a commit that a killed process left unfinished (see :meth:`_bulk_load_noted`):
        drop the graphs it was creating, remove the quads of its journal."""
        for db in (self._store, self._private):
            note = ox.NamedNode(_CREATION)
            if not db.contains_named_graph(note):
                continue
            for quad in list(db.quads_for_pattern(None, None, None, note)):
                if quad.predicate.value.endswith("#journal"):
                    assert self.path is not None
                    journal = self.path / JOURNAL / quad.object.value
                    if journal.exists():
                        with journal.open("rb") as lines:
                            for added in ox.parse(lines, ox.RdfFormat.N_QUADS):
                                db.remove(added)
                elif isinstance(quad.object, ox.NamedNode) and db.contains_named_graph(quad.object):
                    db.remove_graph(quad.object)
            db.remove_graph(note)
        if self.path is not None and (self.path / JOURNAL).exists():
            shutil.rmtree(self.path / JOURNAL)  # the journals of finished commits, and of those just undone

    @_writes
    def drop_graph(self, graph: str) -> None:
        self._touch(graph)
        node, db = ox.NamedNode(graph), self._db(graph)
        if db.contains_named_graph(node):
            db.remove_graph(node)

    @_writes
    def update(self, update: str, **values: Node | str | int | float) -> None:
        """Run a SPARQL 1.1 UPDATE on the public store (transactional); ``$name`` filled by :func:`bind`."""
        text = bind(update, **values) if values else update
        self._touch_update(text)
        try:
            self._db_for(text).update(text)
        except SyntaxError as exc:
            raise QueryError(f"mise à jour SPARQL invalide : {exc}") from exc

    # reading
    def graphs(self) -> list[str]:
        """Every named graph, public and private."""
        names = [*self._store.named_graphs(), *self._private.named_graphs()]
        written = {g for g in self._in_place if self._db(g).contains_named_graph(ox.NamedNode(g))}
        return sorted({g.value for g in names if isinstance(g, ox.NamedNode)} | written)

    def triples(self, graph: str) -> Iterator[Triple]:
        for q in self._db(graph).quads_for_pattern(None, None, None, ox.NamedNode(graph)):
            yield from_ox(q.subject), from_ox(q.predicate), from_ox(q.object)

    @staticmethod
    def _run(db: ox.Store, query: str, values: Mapping[str, Node | str | int | float], **dataset: Any) -> Any:
        text = bind(query, **values) if values else query
        try:
            return db.query(text, **dataset)
        except SyntaxError as exc:
            raise QueryError(f"requête SPARQL invalide : {exc}") from exc
        except OSError as exc:
            raise QueryError(f"requête SPARQL impossible : {exc}") from exc

    @staticmethod
    def _rows(result: Any) -> list[Row]:
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("requête SELECT attendue")
        names = [v.value for v in result.variables]
        rows: list[Row] = []
        for solution in result:
            row: Row = {}
            for name in names:
                term = solution[name]
                if term is not None:
                    row[name] = from_ox(term)
            rows.append(row)
        return rows

    def select(self, query: str, **values: Node | str | int | float) -> list[Row]:
        """Run a SELECT on the public graphs; rows map variable names to rdflib terms (unbound: absent)."""
        return self._rows(self._run(self._db_for(query), query, values))

    def select_private(self, query: str, **values: Node | str | int | float) -> list[Row]:
        """Run a SELECT on the private graphs (personal contact data): for authorised code paths only."""
        return self._rows(self._run(self._db_for(query, private=True), query, values))

    def ask(self, query: str, **values: Node | str | int | float) -> bool:
        result = self._run(self._db_for(query), query, values)
        if not isinstance(result, ox.QueryBoolean):
            raise QueryError("requête ASK attendue")
        return bool(result)

    def construct(self, query: str, **values: Node | str | int | float) -> Graph:
        """Run a CONSTRUCT or DESCRIBE on the public graphs and return an rdflib graph."""
        result = self._run(self._db_for(query), query, values)
        if not isinstance(result, ox.QueryTriples):
            raise QueryError("requête CONSTRUCT ou DESCRIBE attendue")
        graph = Graph()
        for t in result:
            graph.add((from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)))
        return graph

    def query_serialized(self, query: str, fmt: str, *, max_results: int | None = None) -> tuple[QueryKind, bytes]:
        """Run any query on the public graphs (their union is the default graph) and serialise the results.

        ``fmt``: json/xml/csv/tsv for SELECT and ASK, ttl/nt/jsonld/xml for CONSTRUCT and DESCRIBE.
        With ``max_results``, a SELECT is evaluated as a sub-query under ``LIMIT max_results + 1`` (so the
        engine stops early) and refused when it would return more.
        """
        kind = query_kind(query)
        if kind in ("select", "ask"):
            if fmt not in RESULT_FORMATS:
                raise QueryError(f"format de résultats inconnu pour {kind.upper()} : {fmt}")
        elif fmt not in RDF_FORMATS or fmt in ("nq", "trig"):
            raise QueryError(f"format RDF inconnu pour {kind.upper()} : {fmt}")
        text = query
        if kind == "select" and max_results is not None:
            # Oxigraph evaluates lazily: asking for the projection costs nothing and keeps the column order.
            names = " ".join(f"?{v.value}" for v in self._run(self._store, query, {}).variables)
            prologue, body = split_prologue(query)
            text = f"{prologue}\nSELECT {names} WHERE {{ {{ {body}\n}} }} LIMIT {max_results + 1}"
        result = self._run(self._store, text, {}, use_default_graph_as_union=True)
        out = io.BytesIO()
        if kind in ("select", "ask"):
            result.serialize(out, RESULT_FORMATS[fmt])
        else:
            triples = []
            for n, triple in enumerate(result, start=1):
                if max_results is not None and n > max_results:
                    raise QueryError(f"plus de {max_results} triplets : ajoutez LIMIT ou affinez la requête")
                triples.append(triple)
            ox.serialize(triples, out, RDF_FORMATS[fmt], prefixes=_PREFIXES if fmt == "ttl" else None)
        payload = out.getvalue()
        if kind == "select" and max_results is not None:
            rows = count_rows(payload, fmt)
            if rows > max_results:
                raise QueryError(f"plus de {max_results} résultats : ajoutez LIMIT ou affinez la requête")
        return kind, payload

    # dump / restore
    def _quads_of(self, graphs: Iterable[str]) -> Iterator[ox.Quad]:
        for g in graphs:
            yield from self._db(g).quads_for_pattern(None, None, None, ox.NamedNode(g))

    def dump(self, out: Path | IO[bytes], fmt: str = "nq", graphs: Iterable[str] | None = None) -> None:
        """Write the given named graphs (all by default) as N-Quads/TriG, or merged as Turtle/JSON-LD/N-Triples.

        A ``.gz`` path is gzip-compressed.
        """
        write_dump(out, fmt, self._quads_of(list(graphs) if graphs is not None else self.graphs()), _PREFIXES)

    @_writes
    def restore(self, path: Path) -> None:
        """Load an N-Quads dump (optionally gzip) graph by graph, private graphs into the private store."""
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as stream:  # type: ignore[operator]
            public, private = [], []
            for quad in ox.parse(stream, ox.RdfFormat.N_QUADS):
                graph = quad.graph_name
                is_priv = isinstance(graph, ox.NamedNode) and is_private(graph.value)
                (private if is_priv else public).append(quad)
                if len(public) >= 100_000:
                    self._store.bulk_extend(public)
                    public.clear()
            self._store.bulk_extend(public)
            self._private.bulk_extend(private)

    def shacl(self, shapes: Graph) -> tuple[bool, Graph]:
        """Validate the union of every graph, public and private (working copies aside), against SHACL ``shapes``,
        on an in-memory copy (:func:`kg.backend.shacl_snapshot`)."""
        return shacl_snapshot(
            (
                q
                for db in (self._store, self._private)
                for q in db.quads_for_pattern(None, None, None, None)
                if not (isinstance(q.graph_name, ox.NamedNode) and is_working_copy(q.graph_name.value))
            ),
            shapes,
        )

    def to_graph(self, graphs: Iterable[str] | None = None) -> Graph:
        """Copy named graphs (all by default) into one rdflib Graph, their union (for pyshacl and tooling)."""
        graph = Graph()
        for g in graphs if graphs is not None else self.graphs():
            for t in self.triples(g):
                graph.add(t)
        return graph


def _prune(snapshots: Path, current: int) -> None:
    """Remove the snapshots superseded for more than :data:`SNAPSHOT_GRACE_S` (the current and the previous one
    always stay); a reader that still holds one keeps reading the files it opened."""
    found = sorted(int(p.name) for p in snapshots.iterdir() if p.name.isdigit())
    now = time.time()
    for older, newer in itertools.pairwise(found):
        if older >= current - 1:
            break
        with contextlib.suppress(OSError):
            if now - (snapshots / str(newer)).stat().st_mtime > SNAPSHOT_GRACE_S:
                shutil.rmtree(snapshots / str(older), ignore_errors=True)
    for leftover in snapshots.glob(".*.tmp"):  # a writer killed mid-snapshot
        with contextlib.suppress(OSError):
            if now - leftover.stat().st_mtime > SNAPSHOT_GRACE_S:
                shutil.rmtree(leftover, ignore_errors=True)


_PREFIXES = {
    "cap": "https://w3id.org/capitalis/ontology#",
    "id": "https://w3id.org/capitalis/id/",
    "igeo": "http://rdf.insee.fr/def/geo#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "wgs": "http://www.w3.org/2003/01/geo/wgs84_pos#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def _size(db: ox.Store, graph: ox.NamedNode) -> int:
    """How many quads a graph holds (counted by Oxigraph, without bringing them into Python)."""
    (row,) = db.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")  # type: ignore[misc]
    return int(row["n"].value)


class _Counter(Generic[_Item]):
    """Counts the items (triples, quads) of an iterable while it is consumed once."""

    def __init__(self, items: Iterable[_Item]) -> None:
        self._items = items
        self.count = 0

    def __iter__(self) -> Iterator[_Item]:
        for item in self._items:
            self.count += 1
            yield item


def open_store(path: Path, *, read_only: bool = False) -> OxigraphStore:
    """Open the embedded store at ``path`` (a context's is ``settings.store_path``: see ``kg.context``, which
    opens the SPARQL server backend instead when the settings name one).

    Read-write: the writer, one process at a time (it publishes snapshots). ``read_only``: a reader, any number,
    beside the writer: it opens the latest snapshot (see :class:`OxigraphStore`) and takes no lock.
    """
    return OxigraphStore(path, read_only=read_only)


def memory_store() -> OxigraphStore:
    """A store in memory, for tests and benches that need no persistence."""
    return OxigraphStore(None)


@dataclass
class _Journal:
    """What :meth:`OxigraphStore._bulk_load_noted` loaded: its journal file (None: nothing added, or in memory), and
    how many quads the graphs it created hold."""

    path: Path | None
    count: int
    notes: list[str] = field(default_factory=list)  # its statements in the ``_CREATION`` graph

