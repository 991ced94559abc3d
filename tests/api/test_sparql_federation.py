"""SSRF through SPARQL ``SERVICE``: refused from the parsed query, and the workers cannot reach the network.

A local HTTP stub counts every request it receives; the endpoint is sent ``SERVICE`` in every spelling this
module can generate and must answer 400 to each, and the stub must see nothing. Then the worker pool is
given a federated query directly (past the check), and the sandbox keeps the stub silent all the same.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from kg.errors import CapitalisError
from kg.sparql import QueryPool, check_query
from tests.api.conftest import Api, embedded_only


class _Stub(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def _answer(self) -> None:
        type(self).hits.append(self.path)
        body = b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"literal","value":"SECRET"}}]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def stub() -> Iterator[str]:
    _Stub.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def _escape(word: str, positions: tuple[int, ...], long: bool = False) -> str:
    return "".join(
        (f"\\U{ord(c):08X}" if long else f"\\u{ord(c):04X}") if i in positions else c for i, c in enumerate(word)
    )


def federated_queries(url: str) -> list[str]:
    """At least fifty spellings of a query that calls ``url`` through SERVICE."""
    pattern = "{ ?x ?y ?s }"
    keywords = ["SERVICE", "service", "Service", "sErViCe", "SERVICE SILENT", "service silent"]
    keywords += [_escape("SERVICE", (0,)), _escape("SERVICE", (3, 6)), _escape("service", (1,), long=True)]
    queries: list[str] = []
    for kw in keywords:
        queries += [
            f"SELECT ?s WHERE {{ {kw} <{url}admin> {pattern} }}",
            f"PREFIX e: <{url}> SELECT ?s WHERE {{ {kw} e:admin {pattern} }}",
            f"PREFIX e: <{url}> SELECT ?s WHERE {{ {kw}e:admin {pattern} }}",
            f"PREFIX : <{url}> SELECT ?s WHERE {{{kw}:admin{pattern}}}",
        ]
    queries += [
        f"SELECT ?s WHERE {{ SERVICE#comment\n<{url}> {pattern} }}",
        f"SELECT ?s WHERE {{ SERVICE\t\n <{url}> {pattern} }}",
        f"SELECT ?s WHERE {{ SERVICE # {{ }} ' \"\n SILENT # x\n <{url}> {pattern} }}",
        f"BASE <{url}> SELECT ?s WHERE {{ SERVICE <admin> {pattern} }}",
        f"SELECT ?s WHERE {{ VALUES ?e {{ <{url}> }} SERVICE ?e {pattern} }}",
        f"SELECT ?s WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {pattern} }}",
        f"SELECT ?s WHERE {{ OPTIONAL {{ SERVICE <{url}> {pattern} }} }}",
        f"SELECT ?s WHERE {{ {{ ?a ?b ?c }} UNION {{ SERVICE <{url}> {pattern} }} }}",
        f"SELECT ?s WHERE {{ ?a ?b ?c MINUS {{ SERVICE <{url}> {pattern} }} }}",
        f"SELECT ?s WHERE {{ ?a ?b ?c FILTER EXISTS {{ SERVICE <{url}> {pattern} }} }}",
        f"SELECT ?s WHERE {{ ?a ?b ?c FILTER NOT EXISTS {{ SERVICE <{url}> {pattern} }} }}",
        f"SELECT ?s WHERE {{ {{ SELECT ?s WHERE {{ SERVICE <{url}> {pattern} }} }} }}",
        f"SELECT ?s WHERE {{ GRAPH ?g {{ SERVICE <{url}> {pattern} }} }}",
        f"SELECT (COUNT(*) AS ?n) WHERE {{ SERVICE <{url}> {pattern} }} GROUP BY ?s",
        f"ASK {{ SERVICE <{url}> {pattern} }}",
        f"CONSTRUCT {{ ?x ?y ?s }} WHERE {{ SERVICE <{url}> {pattern} }}",
        f"DESCRIBE ?s WHERE {{ SERVICE <{url}> {pattern} }}",
        f"# SELECT * {{ }}\nSELECT ?s WHERE {{ SERVICE <{url}> {pattern} }}",
        f"SELECT ?s WHERE {{ SERVICE <{url}> {{ SERVICE <{url}x> {pattern} }} }}",
        f"PREFIX service: <{url}> SELECT ?s WHERE {{ SERVICE service: {pattern} }}",
        f"PREFIX service: <{url}> SELECT ?s WHERE {{ SERVICE service:service {pattern} }}",
        f"SELECT ?s WHERE {{ SERVICE <{_escape(url, (0, 1))}> {pattern} }}",
    ]
    return queries


def test_every_spelling_of_service_is_refused_and_reaches_nothing(api: Api, http: httpx.Client, stub: str) -> None:
    queries = federated_queries(stub)
    assert len(queries) >= 50
    for query in queries:
        for response in (
            http.get("/sparql", params={"query": query}),
            http.post("/sparql", data={"query": query}),
            http.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"}),
        ):
            assert response.status_code == 400, (query, response.status_code, response.text)
            assert "SECRET" not in response.text
    assert _Stub.hits == []


def test_the_check_reads_the_algebra_not_the_text() -> None:
    """Words that look like SERVICE but are not the keyword stay allowed; a parse failure is refused."""
    cap = "https://w3id.org/capitalis/ontology#"
    assert check_query(f"PREFIX cap: <{cap}> SELECT ?s WHERE {{ ?e cap:service ?s }}") == "select"
    assert check_query("SELECT ?service WHERE { ?service ?p 'SERVICE <http://x/> { }' }") == "select"
    assert check_query("ASK { <http://x/SERVICE> ?p ?o }") == "ask"
    with pytest.raises(CapitalisError, match="invalide"):
        check_query("SELECT ?s WHERE { ?s ?p }")
    with pytest.raises(CapitalisError, match="lecture seule"):
        check_query("INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }")


@embedded_only("the seccomp sandbox of the SPARQL worker processes, which read the embedded store's files")
def test_worker_cannot_open_a_connection_even_when_handed_a_service_query(api: Api, stub: str) -> None:
    """Past the check (as a parser discrepancy would be), the worker's engine still reaches nobody."""
    pool = QueryPool(Path(api.home) / "store", size=1)
    try:
        with pytest.raises(CapitalisError):
            pool.run(f"SELECT ?s WHERE {{ SERVICE <{stub}admin> {{ ?x ?y ?s }} }}", "json", 10, 30)
        # the worker survived the refusal and still answers
        kind, body = pool.run("ASK { ?s ?p ?o }", "json", 10, 30)
        assert kind == "ask" and b"true" in body
    finally:
        pool.close()
    assert _Stub.hits == []


def test_sandbox_refuses_network_sockets_and_keeps_local_ones(stub: str) -> None:
    port = stub.rsplit(":", 1)[1].strip("/")
    script = f"""
import socket
from kg.sandbox import forbid_network
forbid_network()
a, b = socket.socketpair()  # AF_UNIX still works
a.sendall(b"ok"); assert b.recv(2) == b"ok"
for family in (socket.AF_INET, socket.AF_INET6):
    try:
        socket.socket(family)
    except PermissionError:
        continue
    raise SystemExit("socket opened")
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
except PermissionError:
    print("refused")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refused"
    assert _Stub.hits == []
