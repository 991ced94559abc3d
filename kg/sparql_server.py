"""The store protocol spoken over HTTP to a SPARQL 1.1 server: Protocol (query), Update and Graph Store Protocol.

The multi-process backend (design §4, §7): API replicas, the loader and the explorer share one server.
Oxigraph's ``oxigraph serve`` is the reference; Fuseki, QLever (read side) or Virtuoso are reached by the same
code, since only standard requests are sent (no Oxigraph-only extension): ``POST query`` (URL-encoded form),
``POST update``, and ``GET``/``POST``/``PUT`` on the graph store with ``?graph=``.

**Private graphs** (``…/graph/prive…``, personal contact data) never reach the public server: every write is
routed by graph IRI, as :class:`kg.store.OxigraphStore` routes to its two databases, to a *second* dataset
(``private_url``: a second ``oxigraph serve``, or a second Fuseki dataset). No query on the public server,
however written, can read them; :meth:`SparqlServerStore.select_private` is the one door. A second dataset
rather than an embedded database beside the server, because several API replicas on several hosts must see
the same private graphs and an embedded database has one writer on one host.

**Default graph.** :meth:`select`, :meth:`ask` and :meth:`construct` run on the server's own default graph, as
the embedded backend's do (the code names its graphs with ``GRAPH``). :meth:`query_serialized` (the public
endpoint) makes the union of the public graphs the default graph, as the embedded backend does with Oxigraph's
``use_default_graph_as_union``: it lists the public graphs and passes each as ``default-graph-uri`` *and*
``named-graph-uri`` (SPARQL 1.1 Protocol §2.1.4). The protocol dataset overrides a query's own ``FROM`` /
``FROM NAMED``, which is what the embedded backend does too (its union flag wins over ``FROM``). Chosen over a
rewrite into ``FROM`` clauses (text surgery on user queries) and over the server's union option (Oxigraph's
``--union-default-graph``, Fuseki's ``tdb:unionDefaultGraph``), which is configuration outside our reach and
would change the default graph of every internal query as well.

**Limits.** A public query is bounded twice: by the server's own timeout (``oxigraph serve --timeout-s``,
Fuseki's ``arq:queryTimeout``) and by the HTTP read timeout (``query_timeout_s``, a little longer); either
gives :class:`kg.sparql.QueryTimeout`. Results are capped as in the embedded backend: a SELECT is wrapped in a
sub-query under ``LIMIT max_results + 1``; a CONSTRUCT/DESCRIBE is read as a stream of N-Triples and refused at
the first triple past the cap.

Blank nodes: the server names them itself, so a blank node read back is not the one written; :meth:`remove`
cannot name one (``DELETE DATA`` refuses blank nodes) and refuses, and :meth:`replace_graph` of a graph with
blank nodes replaces it whole (``PUT``).
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.term import Node

from kg.backend import RDF_FORMATS, RESULT_FORMATS, count_rows, from_ox, replacement, shacl_snapshot, write_dump
from kg.errors import QueryError, QueryTimeout, StoreError
from kg.store import (
    LOAD_CHUNK,
    QueryKind,
    Row,
    Store,
    Triple,
    bind,
    is_private,
    memory_store,
    ntriples_line,
    query_kind,
    split_prologue,
)
from ontology.namespaces import PREFIXES

_NT = "application/n-triples"
_RESULT_MEDIA = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
#: What Oxigraph writes in the body of a streamed answer it had to stop (its ``--timeout-s``).
_CANCELLED = re.compile(rb"operation has been cancelled|timeout|timed out", re.IGNORECASE)


class Endpoints:
    """The three URLs of one dataset on a SPARQL server.

    ``url`` is the dataset's base URL; the services are ``query``, ``update`` and ``store`` below it (Oxigraph's
    names). Other servers name them otherwise: add them as URL parameters, e.g. Fuseki
    ``http://fuseki:3030/capitalis?query=sparql&update=update&store=data``.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise StoreError(f"adresse d'entrepôt SPARQL invalide : {url!r} (http://hôte:port attendu)")
        names = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        base = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/", "", ""))
        self.base = base.rstrip("/")
        self.query = base + names.get("query", "query").lstrip("/")
        self.update = base + names.get("update", "update").lstrip("/")
        self.store = base + names.get("store", "store").lstrip("/")


class SparqlServerStore:
    """The :class:`kg.store.Store` protocol on a SPARQL 1.1 server (public graphs) and a second dataset (private).

    ``url``: the public dataset; ``private_url``: the private one (without it, writing or reading a private
    graph raises :class:`StoreError`). ``timeout_s`` bounds every internal request (imports, domain queries);
    ``query_timeout_s`` bounds the public queries of :meth:`query_serialized`. ``read_only`` refuses writes.
    """

    #: No directory: :func:`kg.sparql.run_public_query` runs the query in-process, bounded by the server.
    path: Path | None = None

    def __init__(
        self,
        url: str,
        *,
        private_url: str | None = None,
        read_only: bool = False,
        timeout_s: float = 300.0,
        query_timeout_s: float = 10.0,
    ) -> None:
        self.url = url
        self.read_only = read_only
        self.query_timeout_s = query_timeout_s
        self._public = Endpoints(url)
        self._private = Endpoints(private_url) if private_url else None
        # connect fails fast (a server down), a read may last as long as the slowest legitimate request
        self._http = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=5.0), follow_redirects=False)

    # lifecycle
    def __enter__(self) -> SparqlServerStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def checkpoint(self) -> None:
        """Nothing to publish: every client reads the server's committed state."""

    def _endpoints(self, graph: str) -> Endpoints:
        if not is_private(graph):
            return self._public
        if self._private is None:
            raise StoreError(
                f"graphe privé {graph} : aucun entrepôt privé configuré (adresse du second jeu de données absente)"
            )
        return self._private

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"l'entrepôt SPARQL {self.url} est ouvert en lecture seule")

    # HTTP
    def _request(self, method: str, url: str, *, timeout: float | None = None, **kwargs: Any) -> httpx.Response:
        """One request; a server out of reach is a :class:`StoreError`, a refused query a :class:`QueryError`."""
        request = self._http.build_request(method, url, **kwargs)
        if timeout is not None:
            request.extensions["timeout"] = httpx.Timeout(timeout, connect=5.0).as_dict()
        response = self._send(request, stream=False)
        self._check(response)
        return response

    def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        try:
            return self._http.send(request, stream=stream)
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                raise StoreError(f"l'entrepôt SPARQL {_origin(request)} ne répond pas : {exc}") from exc
            raise _timeout(f"pas de réponse de l'entrepôt SPARQL en {_seconds(request)} s") from exc
        except httpx.TransportError as exc:
            raise StoreError(f"l'entrepôt SPARQL {_origin(request)} est injoignable : {exc}") from exc

    @staticmethod
    def _check(response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        if response.is_stream_consumed is False:
            response.read()
        text = response.text.strip()[:500]
        if response.status_code in (400, 415):  # malformed query or update, unsupported format
            raise QueryError(f"requête SPARQL invalide : {text}")
        if response.status_code in (503, 504) and _CANCELLED.search(response.content):
            raise _timeout(f"requête SPARQL interrompue par l'entrepôt : {text}")
        raise StoreError(f"l'entrepôt SPARQL a répondu {response.status_code} : {text}")

    def _query(self, ep: Endpoints, query: str, accept: str, **params: Any) -> bytes:
        return self._request("POST", ep.query, data={"query": query, **params}, headers={"Accept": accept}).content

    def _update(self, ep: Endpoints, update: str) -> None:
        self._request("POST", ep.update, data={"update": update})

    def _post_ntriples(self, ep: Endpoints, graph: str, lines: Iterable[str], *, method: str = "POST") -> None:
        """Send N-Triples lines to the graph store as one streamed request (``POST`` adds, ``PUT`` replaces)."""
        body = (line.encode() for line in lines)
        self._request(method, ep.store, params={"graph": graph}, content=body, headers={"Content-Type": _NT})

    def _graph_triples(self, ep: Endpoints, graph: str) -> Iterator[ox.Triple]:
        """A graph's triples as Oxigraph terms, streamed from the graph store (an absent graph: none)."""
        request = self._http.build_request("GET", ep.store, params={"graph": graph}, headers={"Accept": _NT})
        response = self._send(request, stream=True)
        try:
            if response.status_code == 404:
                return
            self._check(response)
            for quad in ox.parse(_Stream(response.iter_bytes()), ox.RdfFormat.N_TRIPLES):
                yield ox.Triple(quad.subject, quad.predicate, quad.object)
        except SyntaxError as exc:
            raise StoreError(f"réponse illisible de l'entrepôt SPARQL pour {graph} : {exc}") from exc
        finally:
            response.close()

    # writing
    def load(self, triples: Iterable[Triple], graph: str) -> int:
        """Add triples to a named graph, streamed to the graph store in chunks; returns how many were given."""
        self._writable()
        ep, count = self._endpoints(graph), 0
        chunk: list[str] = []
        for triple in triples:
            chunk.append(ntriples_line(triple))
            count += 1
            if len(chunk) >= LOAD_CHUNK:
                self._post_ntriples(ep, graph, chunk)
                chunk = []
        if chunk:
            self._post_ntriples(ep, graph, chunk)
        return count

    def add(self, triples: Iterable[Triple], graph: str) -> int:
        """Add a small set of triples in one request (one transaction on the server)."""
        self._writable()
        lines = [ntriples_line(t) for t in triples]
        if lines:
            self._post_ntriples(self._endpoints(graph), graph, lines)
        return len(lines)

    def remove(self, triples: Iterable[Triple], graph: str) -> None:
        """Remove the given triples from a named graph (``DELETE DATA``; blank nodes cannot be named)."""
        self._writable()
        ep = self._endpoints(graph)
        lines = [ntriples_line(t) for t in triples]
        if any(line.startswith("_:") or " _:" in line for line in lines):
            raise StoreError("un nœud anonyme ne peut pas être retiré d'un entrepôt SPARQL (DELETE DATA le refuse)")
        if lines:
            self._update(ep, f"DELETE DATA {{ GRAPH <{graph}> {{ {''.join(lines)} }} }}")

    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> int:
        """Replace a named graph by the given triples; returns how many distinct triples it now holds.

        As the embedded backend: a new graph is streamed in; an existing one gets ONE update with the diff
        (``DELETE DATA`` + ``INSERT DATA``), so readers see the old graph or the new one; a graph with blank
        nodes is replaced whole (``PUT``). If the triples fail midway, what was loaded of a new graph is dropped.
        """
        return self.replace_graph_ntriples(graph, (ntriples_line(t) for t in triples))

    def replace_graph_ntriples(self, graph: str, lines: Iterable[str]) -> int:
        """:meth:`replace_graph` for triples already written as N-Triples lines."""
        self._writable()
        ep = self._endpoints(graph)
        if self._is_new(ep, graph):
            return self._load_new(ep, graph, lines)
        try:
            parsed = ox.parse("".join(lines), ox.RdfFormat.N_TRIPLES)
            new = {ox.Triple(q.subject, q.predicate, q.object) for q in parsed}
        except SyntaxError as exc:
            raise StoreError(f"triplets invalides pour le graphe {graph} : {exc}") from exc
        old = set(self._graph_triples(ep, graph))
        removed, added = old - new, new - old
        if not removed and not added:
            return len(new)
        if any(isinstance(t, ox.BlankNode) for q in (*removed, *added) for t in (q.subject, q.object)):
            self._post_ntriples(ep, graph, (f"{t} .\n" for t in new), method="PUT")
            return len(new)
        self._update(ep, replacement(graph, old, new))
        return len(new)

    def _is_new(self, ep: Endpoints, graph: str) -> bool:
        body = self._query(ep, f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", _RESULT_MEDIA["json"])
        return not _boolean(body)

    def _load_new(self, ep: Endpoints, graph: str, lines: Iterable[str]) -> int:
        """Stream a new graph in chunks (duplicates sent once); if the lines fail midway, nothing of it stays."""
        seen: set[str] = set()
        chunk: list[str] = []
        try:
            for line in lines:
                if line not in seen:
                    seen.add(line)
                    chunk.append(line)
                    if len(chunk) >= LOAD_CHUNK:
                        self._post_ntriples(ep, graph, chunk)
                        chunk = []
            if chunk:
                self._post_ntriples(ep, graph, chunk)
        except BaseException as exc:
            self._update(ep, f"DROP SILENT GRAPH <{graph}>")
            if isinstance(exc, QueryError):  # the server refused the N-Triples
                raise StoreError(f"triplets invalides pour le graphe {graph} : {exc.message}") from exc
            raise
        return len(seen)

    def drop_graph(self, graph: str) -> None:
        self._writable()
        self._update(self._endpoints(graph), f"DROP SILENT GRAPH <{graph}>")

    # staged writes
    def staging(self, graphs: Iterable[str], parts: Mapping[str, str] | None = None) -> Store:
        """An in-memory store holding copies of ``graphs`` (public and private), read from the server: a writer
        builds its result there (an import), then :meth:`commit` makes the server hold it at once.

        ``parts`` (graphs the writer rewrites in part, :meth:`kg.store.OxigraphStore.staging`) is a saving this
        backend does not make: the graphs are copied and compared whole, which gives the same result."""
        del parts
        staged = memory_store()
        for name in graphs:
            staged.load(self.triples(name), name)
        return staged

    def commit(self, staged: Store, graphs: Iterable[str]) -> int:
        """Make ``graphs`` hold what they hold in ``staged``: ONE update per dataset (private first, then public),
        the difference as ``DELETE DATA`` + ``INSERT DATA`` (a graph with blank nodes cleared and filled anew in the
        same update), so that readers see the public graphs of the call before or after, never between.
        Returns how many triples changed."""
        self._writable()
        names, changed = list(graphs), 0
        for private in (True, False):
            parts: list[str] = []
            for name in (n for n in names if is_private(n) == private):
                old = set(self._graph_triples(self._endpoints(name), name))
                text = "".join(ntriples_line(t) for t in staged.triples(name))
                try:
                    new = {ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(text, ox.RdfFormat.N_TRIPLES)}
                except SyntaxError as exc:
                    raise StoreError(f"triplets invalides pour le graphe {name} : {exc}") from exc
                changed += len(old ^ new)
                parts.append(replacement(name, old, new))
            update = " ;\n".join(part for part in parts if part)
            if update:
                self._update(self._private_endpoints() if private else self._public, update)
        return changed

    def _private_endpoints(self) -> Endpoints:
        if self._private is None:
            raise StoreError("aucun entrepôt privé configuré (adresse du second jeu de données absente)")
        return self._private

    def update(self, update: str, **values: Node | str | int | float) -> None:
        """Run a SPARQL 1.1 UPDATE on the public dataset (one transaction); ``$name`` filled by :func:`bind`."""
        self._writable()
        try:
            self._update(self._public, bind(update, **values) if values else update)
        except QueryError as exc:
            raise QueryError(exc.message.replace("requête SPARQL", "mise à jour SPARQL", 1)) from exc

    # reading
    def graphs(self) -> list[str]:
        """Every named graph, public and private."""
        names = self._graph_names(self._public)
        if self._private is not None:
            names += self._graph_names(self._private)
        return sorted(names)

    def _graph_names(self, ep: Endpoints) -> list[str]:
        rows = self._rows(self._query(ep, "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }", _RESULT_MEDIA["json"]))
        return [str(r["g"]) for r in rows if isinstance(r.get("g"), URIRef)]

    def public_graphs(self) -> list[str]:
        """The named graphs of the public dataset: the union default graph of :meth:`query_serialized`."""
        return sorted(self._graph_names(self._public))

    def triples(self, graph: str) -> Iterator[Triple]:
        for t in self._graph_triples(self._endpoints(graph), graph):
            yield from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)

    @staticmethod
    def _rows(body: bytes) -> list[Row]:
        try:
            result = ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
            if not isinstance(result, ox.QuerySolutions):
                raise QueryError("requête SELECT attendue")
            names = [v.value for v in result.variables]
            return [
                {name: from_ox(solution[name]) for name in names if solution[name] is not None} for solution in result
            ]
        except SyntaxError as exc:
            raise _unreadable(body, exc) from exc

    def _select(self, ep: Endpoints, query: str, values: dict[str, Any]) -> list[Row]:
        text = bind(query, **values) if values else query
        kind = query_kind(text)
        if kind != "select":
            raise QueryError("requête SELECT attendue")
        return self._rows(self._query(ep, text, _RESULT_MEDIA["json"]))

    def select(self, query: str, **values: Node | str | int | float) -> list[Row]:
        """Run a SELECT on the public dataset; rows map variable names to rdflib terms (unbound: absent)."""
        return self._select(self._public, query, values)

    def select_private(self, query: str, **values: Node | str | int | float) -> list[Row]:
        """Run a SELECT on the private dataset (personal contact data): for authorised code paths only."""
        if self._private is None:
            raise StoreError("aucun entrepôt privé configuré (adresse du second jeu de données absente)")
        return self._select(self._private, query, values)

    def ask(self, query: str, **values: Node | str | int | float) -> bool:
        text = bind(query, **values) if values else query
        if query_kind(text) != "ask":
            raise QueryError("requête ASK attendue")
        return _boolean(self._query(self._public, text, _RESULT_MEDIA["json"]))

    def construct(self, query: str, **values: Node | str | int | float) -> Graph:
        """Run a CONSTRUCT or DESCRIBE on the public dataset and return an rdflib graph."""
        text = bind(query, **values) if values else query
        if query_kind(text) not in ("construct", "describe"):
            raise QueryError("requête CONSTRUCT ou DESCRIBE attendue")
        body = self._query(self._public, text, _NT)
        graph = Graph()
        try:
            for q in ox.parse(body, ox.RdfFormat.N_TRIPLES):
                graph.add((from_ox(q.subject), from_ox(q.predicate), from_ox(q.object)))
        except SyntaxError as exc:
            raise _unreadable(body, exc) from exc
        return graph

    def query_serialized(self, query: str, fmt: str, *, max_results: int | None = None) -> tuple[QueryKind, bytes]:
        """Run any query on the public graphs (their union is the default graph) and serialise the results.

        ``fmt``: json/xml/csv/tsv for SELECT and ASK, ttl/nt/jsonld/xml for CONSTRUCT and DESCRIBE. With
        ``max_results`` a SELECT runs as a sub-query under ``LIMIT max_results + 1`` and is refused when it
        would return more; a CONSTRUCT is read as a stream and refused past ``max_results`` triples.
        """
        kind = query_kind(query)
        if kind in ("select", "ask"):
            if fmt not in RESULT_FORMATS:
                raise QueryError(f"format de résultats inconnu pour {kind.upper()} : {fmt}")
        elif fmt not in RDF_FORMATS or fmt in ("nq", "trig"):
            raise QueryError(f"format RDF inconnu pour {kind.upper()} : {fmt}")
        graphs = self.public_graphs()
        # the union of the public graphs as default graph, each public graph as a named graph
        dataset = {"default-graph-uri": graphs, "named-graph-uri": graphs}
        if not graphs:  # an empty dataset: name one graph that does not exist rather than none (= server default)
            dataset = {"default-graph-uri": [_NO_GRAPH], "named-graph-uri": [_NO_GRAPH]}
        text = query
        if kind == "select" and max_results is not None:
            prologue, body = split_prologue(query)
            text = f"{prologue}\nSELECT {_projection(query)} WHERE {{ {{ {body}\n}} }} LIMIT {max_results + 1}"
        try:
            if kind in ("select", "ask"):
                payload = self._public_query(text, _RESULT_MEDIA[fmt], dataset)
                if kind == "select" and max_results is not None and count_rows(payload, fmt) > max_results:
                    raise QueryError(f"plus de {max_results} résultats : ajoutez LIMIT ou affinez la requête")
                return kind, payload
            triples = self._public_triples(text, dataset, max_results)
        except QueryTimeout as exc:  # the limit the client configured, as the embedded backend says it
            raise QueryTimeout(
                f"la requête SPARQL a dépassé la durée maximale de {self.query_timeout_s:g} s et a été interrompue "
                f"({exc.message}) : restreignez-la (motifs plus précis, LIMIT, moins de jointures ou de chemins "
                "de propriétés)"
            ) from exc
        out = io.BytesIO()
        ox.serialize(triples, out, RDF_FORMATS[fmt], prefixes=_PREFIXES if fmt == "ttl" else None)
        return kind, out.getvalue()

    def _public_query(self, text: str, accept: str, dataset: dict[str, list[str]]) -> bytes:
        response = self._request(
            "POST",
            self._public.query,
            data={"query": text, **dataset},
            headers={"Accept": accept},
            timeout=self.query_timeout_s + 1.0,  # the server's own timeout should strike first
        )
        body = response.content
        _check_complete(body, accept)
        return body

    def _public_triples(self, text: str, dataset: dict[str, list[str]], max_results: int | None) -> list[ox.Triple]:
        """A CONSTRUCT/DESCRIBE read as a stream of N-Triples, stopped at the first triple past the cap."""
        request = self._http.build_request(
            "POST", self._public.query, data={"query": text, **dataset}, headers={"Accept": _NT}
        )
        request.extensions["timeout"] = httpx.Timeout(self.query_timeout_s + 1.0, connect=5.0).as_dict()
        response = self._send(request, stream=True)
        triples: list[ox.Triple] = []
        stream = _Stream(response.iter_bytes())
        try:
            self._check(response)
            for n, quad in enumerate(ox.parse(stream, ox.RdfFormat.N_TRIPLES), start=1):
                if max_results is not None and n > max_results:
                    raise QueryError(f"plus de {max_results} triplets : ajoutez LIMIT ou affinez la requête")
                triples.append(ox.Triple(quad.subject, quad.predicate, quad.object))
        except SyntaxError as exc:  # Oxigraph writes its timeout message into a stream it had started
            raise _unreadable(stream.tail, exc) from exc
        except httpx.TimeoutException as exc:
            raise _timeout(f"pas de réponse de l'entrepôt SPARQL en {self.query_timeout_s + 1.0:g} s") from exc
        finally:
            response.close()
        return triples

    # dump / restore
    def dump(self, out: Path | IO[bytes], fmt: str = "nq", graphs: Iterable[str] | None = None) -> None:
        """Write the given named graphs (all by default) as N-Quads/TriG, or merged as Turtle/JSON-LD/N-Triples.

        A ``.gz`` path is gzip-compressed. Each graph is streamed from the graph store.
        """
        wanted = list(graphs) if graphs is not None else self.graphs()
        quads = (
            ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g))
            for g in wanted
            for t in self._graph_triples(self._endpoints(g), g)
        )
        write_dump(out, fmt, quads, _PREFIXES)

    def restore(self, path: Path) -> None:
        """Load an N-Quads dump (optionally gzip) graph by graph, private graphs into the private dataset."""
        self._writable()
        opener = gzip.open if path.suffix == ".gz" else open
        pending: dict[str, list[str]] = {}
        with opener(path, "rb") as stream:  # type: ignore[operator]
            try:
                for quad in ox.parse(stream, ox.RdfFormat.N_QUADS):
                    graph = quad.graph_name
                    if not isinstance(graph, ox.NamedNode):
                        continue  # the default graph is not ours to restore: nothing writes it
                    lines = pending.setdefault(graph.value, [])
                    lines.append(f"{quad.subject} {quad.predicate} {quad.object} .\n")
                    if len(lines) >= LOAD_CHUNK:
                        self._post_ntriples(self._endpoints(graph.value), graph.value, lines)
                        lines.clear()
            except SyntaxError as exc:
                raise StoreError(f"sauvegarde illisible {path} : {exc}") from exc
        for graph, lines in pending.items():
            if lines:
                self._post_ntriples(self._endpoints(graph), graph, lines)

    def to_graph(self, graphs: Iterable[str] | None = None) -> Graph:
        """Copy named graphs (all by default) into one rdflib Graph, their union (for pyshacl and tooling)."""
        graph = Graph()
        for g in graphs if graphs is not None else self.graphs():
            for t in self.triples(g):
                graph.add(t)
        return graph

    def shacl(self, shapes: Graph) -> tuple[bool, Graph]:
        """Validate the union of every graph, public and private, against SHACL ``shapes``, on an in-memory copy
        (:func:`kg.backend.shacl_snapshot`, as the embedded backend does)."""
        return shacl_snapshot((t for g in self.graphs() for t in self._graph_triples(self._endpoints(g), g)), shapes)


def from_settings(settings: Any, *, read_only: bool = False) -> SparqlServerStore:
    """The server store the settings name (``store`` URL, ``store_prive`` URL, SPARQL timeout)."""
    return SparqlServerStore(
        settings.store,
        private_url=getattr(settings, "store_prive", None),
        read_only=read_only,
        query_timeout_s=settings.sparql_timeout_s,
    )


# --- helpers -------------------------------------------------------------------------------------------------

_NO_GRAPH = "https://w3id.org/capitalis/graph/aucun"

_PREFIXES = {p: ns for p, ns in PREFIXES.items() if p not in ("sh", "owl")}


def _timeout(message: str) -> Exception:
    return QueryTimeout(message)


def _origin(request: httpx.Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc.decode()}"


def _seconds(request: httpx.Request) -> str:
    read = (request.extensions.get("timeout") or {}).get("read")
    return f"{read:g}" if isinstance(read, int | float) else "?"


def _unreadable(body: bytes, exc: Exception) -> Exception:
    if _CANCELLED.search(body) or _CANCELLED.search(str(exc).encode()):
        return _timeout("requête SPARQL interrompue par l'entrepôt (délai dépassé)")
    return QueryError(f"réponse illisible de l'entrepôt SPARQL : {exc}")


def _check_complete(body: bytes, accept: str) -> None:
    """Oxigraph answers 200, starts streaming, and writes its timeout message into the body when it stops."""
    if accept == _RESULT_MEDIA["json"]:
        tail = body.rstrip()[-200:]
        if not tail.endswith(b"}"):
            raise _unreadable(tail, ValueError("réponse JSON tronquée"))
    elif accept == _RESULT_MEDIA["xml"]:
        if not body.rstrip().endswith(b">"):
            raise _unreadable(body[-200:], ValueError("réponse XML tronquée"))
    elif _CANCELLED.search(body[-200:]):
        raise _unreadable(body[-200:], ValueError("réponse tronquée"))


def _boolean(body: bytes) -> bool:
    try:
        result = ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
    except SyntaxError as exc:
        raise _unreadable(body, exc) from exc
    if not isinstance(result, ox.QueryBoolean):
        raise QueryError("requête ASK attendue")
    return bool(result)


def _projection(query: str) -> str:
    """The projected variables of a SELECT, in order (``*`` when it projects everything), read by rdflib's
    parser: the sub-query wrapper must keep the columns and their order."""
    try:
        parsed = parseQuery(query)
    except Exception as exc:  # pyparsing's own errors: let the server word it
        raise QueryError(f"requête SPARQL invalide : {str(exc).splitlines()[0][:300]}") from None
    projection = parsed[1].get("projection")
    if not isinstance(projection, list):  # SELECT *
        return "*"
    # a CompValue's .get returns the key itself when absent: test membership
    names = [f"?{item['evar'] if 'evar' in item else item['var']}" for item in projection]
    return " ".join(names)


class _Stream(io.RawIOBase):
    """A readable binary file over an iterator of byte chunks (an HTTP body), for Oxigraph's streaming parser."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._rest = b""
        self.tail = b""  # the last bytes read: where a server writes why it stopped a streamed answer

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            try:
                self._rest = next(self._chunks)
                self.tail = (self.tail + self._rest)[-300:]
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n
