"""Public SPARQL: read-only queries over the public graphs, bounded in size and time.

Oxigraph cannot interrupt a query once it runs in-process, so a query on an on-disk store runs in a
separate **worker process** that opens the store read-only (``open_store(read_only=True)``); when the
deadline (``settings.sparql_timeout_s``) passes, the worker is killed and replaced, and the caller gets a
:class:`QueryTimeout` (HTTP 503) with a French message. Workers are kept in a small pool per store
(``settings.sparql_workers``) so that a query costs no process start.

Workers never open the live databases, which the API (or an import) writes: they open the writer's latest
snapshot (see :class:`kg.store.OxigraphStore`), check its generation before each query and reopen when a newer
one was published; the caller publishes the writes of its own process first (``store.checkpoint()``), so an
answer follows every write made before the query.

Only the public database is queried: the private graphs live in another database that no public query
can reach (see :class:`kg.store.OxigraphStore`). An in-memory store (tests) runs in-process, unbounded in time.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pyparsing import ParseResults
from rdflib.paths import MulPath
from rdflib.paths import Path as PropertyPath
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from kg.errors import CapitalisError, Forbidden, QueryError, QueryTimeout, StoreError
from kg.sandbox import forbid_network
from kg.settings import Settings
from kg.store import OxigraphStore, QueryKind, Store, store_generation

MEDIA_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "ttl": "text/turtle; charset=utf-8",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
}
# the forms of a parsed query, by the name rdflib's algebra gives them
_FORMS: dict[str, QueryKind] = {
    "SelectQuery": "select",
    "AskQuery": "ask",
    "ConstructQuery": "construct",
    "DescribeQuery": "describe",
}


class EndpointBusy(CapitalisError):
    """Every SPARQL worker stayed busy until the deadline."""

    status = 503
    exit_code = 2
    title = "Point d'accès SPARQL saturé"


class ClientBusy(CapitalisError):
    """A client already has as many public queries running and waiting as it may have."""

    status = 429
    exit_code = 2
    title = "Trop de requêtes SPARQL simultanées"


@dataclass
class SparqlResult:
    kind: QueryKind
    body: bytes
    media_type: str


def check_query(query: str, settings: Settings | None = None) -> QueryKind:
    """Decide what a public query may do from its parsed algebra, never from its text; return its form.

    A pathological query is refused first (:class:`QueryError`, before any parsing, then on the algebra): more
    bytes, deeper nesting, more operators, triple patterns or repeated property paths than ``settings`` allow.
    rdflib's parser is recursive and slow (about a millisecond per operator): unbounded, a query costs the
    parsing process seconds of CPU or its stack, and the engine's own recursion can take its worker down.

    The query is parsed and translated by rdflib's SPARQL 1.1 grammar (codepoint escapes such as ``\\u0053``
    are expanded first, as the recommendation says). Refused: updates (:class:`Forbidden`), any ``SERVICE``
    anywhere in the algebra, whatever its spelling (:class:`QueryError`), and anything the grammar does not
    accept (:class:`QueryError`): what cannot be parsed here is not handed to the engine. The query workers
    cannot open network connections either (:mod:`kg.sandbox`).
    """
    settings = settings or Settings()
    _check_shape(query, settings)
    try:
        with _PARSING:
            parsed = translateQuery(parseQuery(query))
    except RecursionError:
        raise QueryError("requête SPARQL trop imbriquée pour être analysée") from None
    except Exception as exc:  # pyparsing's and rdflib's own errors: the query is malformed
        if _is_update(query):
            raise Forbidden("les mises à jour SPARQL sont refusées : le point d'accès est en lecture seule") from None
        raise QueryError(f"requête SPARQL invalide : {_parse_message(exc)}") from None
    if _has_service(parsed.algebra):
        raise QueryError("SERVICE n'est pas autorisé : les requêtes fédérées sont désactivées")
    _check_size(parsed.algebra, settings)
    kind = _FORMS.get(parsed.algebra.name)
    if kind is None:
        raise QueryError("requête SPARQL : forme inconnue (SELECT, ASK, CONSTRUCT ou DESCRIBE attendu)")
    return kind


# what the lexical scan skips: strings (long ones first), IRIs, comments; braces or operators there do not count
_SKIPPED = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|' + r"'''(?:[^'\\]|\\.|'(?!''))*'''|"
    r'"(?:[^"\\\n]|\\.)*"|' + r"'(?:[^'\\\n]|\\.)*'|"
    r'<[^<>"{}|^`\\\x00-\x20]*>|#[^\n]*',
)
#: rdflib's SPARQL grammar (pyparsing) is not thread-safe: parsing in two threads at once fails at random
#: ("Param.postParse2() missing 1 required positional argument"); the API checks queries in its thread pool.
_PARSING = threading.Lock()
_BRACKETS = re.compile(r"[{}()\[\]]")
_OPERATORS = re.compile(r"&&|\|\||[!<>]=?|=|\+|(?<![\w:.])-|\*|/")


def _refuse(what: str, found: int, limit: int, setting: str) -> QueryError:
    return QueryError(
        f"requête SPARQL trop complexe : {what} ({found}, au plus {limit}) ; simplifiez-la "
        f"(réglage CAPITALIS_{setting.upper()})"
    )


def _check_shape(query: str, settings: Settings) -> None:
    """Size, nesting depth and operators of the query text, measured in one linear scan before any parsing."""
    size = len(query.encode())
    if size > settings.sparql_max_query_bytes:
        raise _refuse("taille en octets", size, settings.sparql_max_query_bytes, "sparql_max_query_bytes")
    text = _SKIPPED.sub(" ", query)
    depth = deepest = groups = 0
    for match in _BRACKETS.finditer(text):
        if match.group() in "{([":
            depth += 1
            deepest = max(deepest, depth)
            groups += match.group() == "{"
        else:
            depth -= 1
    if deepest > settings.sparql_max_depth:
        raise _refuse("profondeur d'imbrication", deepest, settings.sparql_max_depth, "sparql_max_depth")
    if groups > settings.sparql_max_triple_patterns:
        limit = settings.sparql_max_triple_patterns
        raise _refuse("nombre de groupes { }", groups, limit, "sparql_max_triple_patterns")
    operators = len(_OPERATORS.findall(text))
    if operators > settings.sparql_max_operators:
        raise _refuse("nombre d'opérateurs", operators, settings.sparql_max_operators, "sparql_max_operators")


def _check_size(algebra: object, settings: Settings) -> None:
    """Triple patterns (each one a join) and repeated property paths (``*``, ``+``) of the parsed query."""
    triples = stars = 0
    for current in _nodes(algebra):
        if isinstance(current, CompValue) and current.name == "BGP":
            triples += len(current.get("triples") or ())
        elif isinstance(current, MulPath):
            stars += current.mod in ("*", "+")
    if triples > settings.sparql_max_triple_patterns:
        limit = settings.sparql_max_triple_patterns
        raise _refuse("motifs de triplets", triples, limit, "sparql_max_triple_patterns")
    if stars > settings.sparql_max_path_stars:
        limit = settings.sparql_max_path_stars
        raise _refuse("chemins de propriétés répétés (*, +)", stars, limit, "sparql_max_path_stars")


def _is_update(query: str) -> bool:
    try:
        with _PARSING:
            parseUpdate(query)
    except (Exception, RecursionError):
        return False
    return True


def _parse_message(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def _has_service(node: object) -> bool:
    """Whether a ``ServiceGraphPattern`` stands anywhere in a parsed query."""
    return any(isinstance(n, CompValue) and "service" in n.name.lower() for n in _nodes(node))


def _nodes(root: object) -> Iterator[object]:
    """Every node of a parsed query (algebra, property paths, containers), each once; iteratively, so a deep
    query meets no recursion limit."""
    stack = [root]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, dict):  # a CompValue is one
            stack.extend(current.values())
        elif isinstance(current, PropertyPath):
            stack.extend(vars(current).values())
        elif isinstance(current, list | tuple | set | frozenset | ParseResults):
            stack.extend(current)


def run_public_query(
    store: Store,
    query: str,
    fmt: str = "json",
    *,
    timeout_s: float | None = None,
    settings: Settings | None = None,
    client: str | None = None,
    checked: QueryKind | None = None,
) -> SparqlResult:
    """Run a read-only query on the public graphs with the configured timeout and result cap.

    ``timeout_s`` overrides ``settings.sparql_timeout_s``; ``settings`` defaults to the environment's. On an
    on-disk store the query runs in a worker process (see the module docstring); :class:`QueryTimeout` when
    it runs too long. ``client`` names who asks (the API passes the account, else the address): a client runs
    at most ``settings.sparql_per_client`` queries at once and waits its turn for more (:class:`ClientBusy` past
    ``settings.sparql_queue_per_client`` waiting), so that one client's slow queries never hold every worker;
    ``None`` (the CLI, the explorer) is not limited per client. ``checked``: the form :func:`check_query` already
    returned for this very query with these settings (the API checks first, to negotiate the format): the query
    is not parsed a second time.
    """
    settings = settings or Settings()
    if checked is None:
        check_query(query, settings)
    rdf_fmt = "xml" if fmt == "rdfxml" else fmt
    timeout = settings.sparql_timeout_s if timeout_s is None else timeout_s
    path = getattr(store, "path", None)
    store.checkpoint()  # the workers read the published snapshot: publish this process's writes first
    if path is None or timeout <= 0:
        kind, body = store.query_serialized(query, rdf_fmt, max_results=settings.sparql_max_results)
    else:
        pool = get_pool(Path(path), settings.sparql_workers)
        kind, body = pool.run(
            query,
            rdf_fmt,
            settings.sparql_max_results,
            timeout,
            client=client,
            per_client=settings.sparql_per_client,
            queue_per_client=settings.sparql_queue_per_client,
        )
    return SparqlResult(
        kind, body, MEDIA_TYPES["rdfxml" if kind in ("construct", "describe") and fmt == "xml" else fmt]
    )


# --- worker processes ----------------------------------------------------------------------------------------


def store_signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    """The generation of the store's latest snapshot (what a reader opens; see :func:`kg.store.store_generation`),
    then the names, sizes and modification times of the live public database's files (they change at every
    commit, before the snapshot that publishes it: a cache in the writer's own process follows at once)."""
    public = path / "public"
    try:
        entries = list(os.scandir(public))
    except OSError:
        return ()
    out = [("snapshot", store_generation(path), 0)]
    for entry in entries:
        if entry.name.startswith("LOG"):  # RocksDB's own diagnostics log, written without any commit
            continue
        with contextlib.suppress(OSError):
            st = entry.stat()
            out.append((entry.name, st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


def serve_worker(path_text: str) -> None:
    """A worker's loop: queries from stdin, answers on stdout, on a read-only handle reopened on change."""
    # the protocol owns the original stdout; anything printed goes to stderr
    conn_out = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    # no SERVICE call, however it reached the engine, can leave this process: no network socket at all
    try:
        forbid_network()
    except StoreError as exc:
        conn_out.send(("failed", exc.message))
        return
    conn_in = Connection(os.dup(0), writable=False)
    path = Path(path_text)
    store: OxigraphStore | None = None
    signature: tuple[Any, ...] | None = None
    with contextlib.suppress(Exception):  # opened ahead of the first query; a failure shows at that query
        store, signature = OxigraphStore(path, read_only=True), store_signature(path)
    conn_out.send(("ready",))
    while True:
        try:
            task = conn_in.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        query, fmt, max_results = task
        try:
            for attempt in range(2):
                current = store_signature(path)
                if store is None or current != signature or attempt:
                    if store is not None:
                        store.close()
                    store = OxigraphStore(path, read_only=True)
                    signature = current
                try:
                    kind, body = store.query_serialized(query, fmt, max_results=max_results)
                    break
                except QueryError as exc:
                    # a file compacted away under an old handle reads as an I/O error: reopen once
                    if attempt or "impossible" not in exc.message:
                        raise
            conn_out.send(("ok", kind, body))
        except CapitalisError as exc:
            conn_out.send(("error", type(exc).__name__, exc.message))
        except Exception as exc:  # the engine's own failures (e.g. an unsupported function)
            conn_out.send(("error", "QueryError", f"requête SPARQL impossible : {exc}"))


_STARTUP_S = 60.0  # longest start of a worker (Python, rdflib, pyoxigraph, the store opened)
_WORKER_COMMAND = "import sys; from kg.sparql import serve_worker; serve_worker(sys.argv[1])"


class _Worker:
    """One worker: a plain ``python -c`` child speaking pickled messages over its stdin and stdout.

    Not ``multiprocessing``'s spawn: that re-imports the parent's ``__main__`` (a script, a bench), which
    may open the store read-write or start work of its own in the child.
    """

    def __init__(self, path: Path) -> None:
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WORKER_COMMAND, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        # the connections own duplicates of the pipe ends; the file objects are closed at once
        self.send = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.recv = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()

    def stop(self, *, kill: bool = False) -> None:
        if not kill:
            with contextlib.suppress(OSError):
                self.send.send(None)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(2)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        for conn in (self.send, self.recv):
            with contextlib.suppress(OSError):
                conn.close()


_NOBODY = object()  # no waiting client may run one more query now


class _Ticket:
    """One query waiting for a worker: the scheduler hands it one (``worker``) under the pool's lock."""

    __slots__ = ("client", "worker")

    def __init__(self, client: str | None) -> None:
        self.client = client
        self.worker: _Worker | None = None


class QueryPool:
    """A few worker processes serving public queries on one store; a runaway query costs its worker.

    Workers are shared fairly between clients: a client runs at most ``per_client`` queries at once, and a freed
    worker goes to the waiting client served least recently (round robin), not to the first query queued; a
    client's extra queries wait behind its own, and their wait counts in their deadline.
    """

    def __init__(self, path: Path, size: int = 2) -> None:
        self.path = path
        self.size = max(1, size)
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._waiting: OrderedDict[str | None, deque[_Ticket]] = OrderedDict()  # by client, in turn order
        self._running: dict[str | None, int] = {}
        self._caps: dict[str | None, int] = {}  # per-client cap of each waiting client
        self._closed = False
        self.failure: str | None = None  # why workers cannot start (no network isolation here)
        starting = [_Worker(self.path) for _ in range(self.size)]  # imports run in parallel
        for worker in starting:
            self._add(worker)

    @property
    def pids(self) -> tuple[int, ...]:
        """Process ids of the workers in service (a test sees that a refused query killed none)."""
        with self._lock:
            return tuple(sorted(w.process.pid for w in self._all))

    def _add(self, worker: _Worker | None = None) -> None:
        """Put a worker in service once it is ready (imports done, store open): start-up is not query time."""
        worker = worker or _Worker(self.path)
        answer: Any = None
        with contextlib.suppress(EOFError, OSError):
            answer = worker.recv.recv() if worker.recv.poll(_STARTUP_S) else None
        if answer != ("ready",):
            if isinstance(answer, tuple) and answer and answer[0] == "failed":
                self.failure = answer[1]
            worker.stop(kill=True)
            return
        with self._lock:
            if self._closed:
                worker.stop()
                return
            self._all.add(worker)
            self._idle.append(worker)
            self._dispatch()

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker (runaway or broken) and start its successor in the background."""
        with self._lock:
            self._all.discard(worker)
        worker.stop(kill=True)
        if not self._closed:
            threading.Thread(target=self._add, daemon=True, name="capitalis-sparql-respawn").start()

    def _dispatch(self) -> None:
        """Hand idle workers to waiting queries, one client at a time in turn (the lock is held)."""
        handed = False
        while self._idle and self._waiting:
            client = next(
                (c for c in self._waiting if c is None or self._running.get(c, 0) < self._caps.get(c, 1)), _NOBODY
            )
            if client is _NOBODY:
                break
            tickets = self._waiting[client]
            ticket = tickets.popleft()
            if tickets:
                self._waiting.move_to_end(client)  # its next query waits for the other clients' turn
            else:
                del self._waiting[client]
            ticket.worker = self._idle.pop()
            self._running[client] = self._running.get(client, 0) + 1
            handed = True
        if handed:
            self._changed.notify_all()

    def _acquire(
        self, client: str | None, timeout: float, deadline: float, per_client: int, queue_per_client: int
    ) -> _Worker:
        """A worker for ``client``'s query, once its turn comes; :class:`EndpointBusy` at the deadline."""
        with self._lock:
            if client is not None:
                queued = len(self._waiting.get(client, ())) + self._running.get(client, 0)
                if queued >= per_client + queue_per_client:
                    raise ClientBusy(
                        f"{queued} requêtes SPARQL de ce client sont déjà en cours ou en attente : "
                        "attendez leurs réponses avant d'en envoyer d'autres"
                    )
                self._caps[client] = per_client
            ticket = _Ticket(client)
            self._waiting.setdefault(client, deque()).append(ticket)
            self._dispatch()
            while ticket.worker is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    tickets = self._waiting.get(client)
                    if tickets is not None and ticket in tickets:
                        tickets.remove(ticket)
                        if not tickets:
                            del self._waiting[client]
                    raise EndpointBusy(
                        f"toutes les requêtes SPARQL en cours occupent le serveur depuis {timeout:g} s : "
                        "réessayez plus tard"
                    )
                self._changed.wait(remaining)
            return ticket.worker

    def _release(self, client: str | None, worker: _Worker | None) -> None:
        """A query is done; its worker (``None`` when it was killed) serves the next one."""
        with self._lock:
            count = self._running.get(client, 1) - 1
            if count > 0:
                self._running[client] = count
            else:
                self._running.pop(client, None)
                if client not in self._waiting:
                    self._caps.pop(client, None)
            if worker is not None and not self._closed:
                self._idle.append(worker)
            self._dispatch()

    def run(
        self,
        query: str,
        fmt: str,
        max_results: int | None,
        timeout: float,
        *,
        client: str | None = None,
        per_client: int = 1,
        queue_per_client: int = 4,
    ) -> tuple[QueryKind, bytes]:
        """Run one query within ``timeout`` seconds (waiting for a free worker, or for the client's turn, counts).

        ``client`` (``None``: not limited per client) runs at most ``per_client`` queries at once, with at most
        ``queue_per_client`` more waiting (:class:`ClientBusy` beyond)."""
        deadline = time.monotonic() + timeout
        if self.failure is not None and not self._all:
            raise StoreError(f"le point d'accès SPARQL ne peut pas démarrer : {self.failure}")
        worker: _Worker | None = self._acquire(client, timeout, deadline, per_client, queue_per_client)
        try:
            assert worker is not None
            worker.send.send((query, fmt, max_results))
            if not worker.recv.poll(max(deadline - time.monotonic(), 0.01)):
                self._replace(worker)
                worker = None
                raise QueryTimeout(
                    f"la requête SPARQL a dépassé la durée maximale de {timeout:g} s et a été interrompue : "
                    "restreignez-la (motifs plus précis, LIMIT, moins de jointures ou de chemins de propriétés)"
                )
            answer = worker.recv.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            assert worker is not None
            self._replace(worker)
            worker = None
            raise StoreError(f"le processus SPARQL s'est arrêté : {exc}") from None
        except QueryTimeout:
            raise
        except BaseException:
            if worker is not None:
                self._replace(worker)
                worker = None
            raise
        finally:
            self._release(client, worker)
        if answer[0] == "ok":
            return answer[1], answer[2]
        _, name, message = answer
        raise _ERRORS.get(name, QueryError)(message)

    def close(self) -> None:
        """Stop every worker (idempotent)."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
        for worker in workers:
            worker.stop()


_ERRORS: dict[str, type[CapitalisError]] = {
    "QueryError": QueryError,
    "StoreError": StoreError,
    "Forbidden": Forbidden,
    "InvalidInput": QueryError,
}

_pools: dict[tuple[str, int], QueryPool] = {}
_pools_lock = threading.Lock()


def get_pool(path: Path, size: int = 2) -> QueryPool:
    """The worker pool of a store directory (started on first use, stopped at exit)."""
    key = (str(path.resolve()), size)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = QueryPool(path, size)
        return pool


def close_pool(path: Path) -> None:
    """Stop the worker pools of one store directory (an API app's shutdown)."""
    with _pools_lock:
        keys = [k for k in _pools if k[0] == str(path.resolve())]
        pools = [_pools.pop(k) for k in keys]
    for pool in pools:
        pool.close()


def shutdown_pools() -> None:
    """Stop every worker pool of this process (the API's shutdown, tests, exit)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


atexit.register(shutdown_pools)
