"""Denial of service through the real server: rate limits by verified identity, pathological SPARQL refused
before evaluation, the SPARQL workers shared fairly between clients, request bodies counted as they arrive.

The rate-limit and body tests run their own server (tight limits, an empty store, one SPARQL worker); the SPARQL
tests use the session's server over the samples (3 s timeout, 2 workers).
"""

from __future__ import annotations

import secrets
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.main import create_app
from contributions.accounts import open_accounts
from kg.settings import Settings
from kg.sparql import check_query, get_pool
from tests.api.conftest import CAP, Api, embedded_only, free_port, serve

COUNT = f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ ?e a <{CAP}Experience> }}"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
PER_MIN = 5


@dataclass
class Strict:
    url: str
    port: int
    keys: dict[str, str]


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Strict]:
    """A server with tight rate limits on an empty store, and two accounts."""
    home: Path = tmp_path_factory.mktemp("strict") / "home"
    accounts = open_accounts(home)
    keys = {}
    for name in ("lecteur", "ecrivain"):
        accounts.add_user(name, "moderateur")
        keys[name] = accounts.api_key(name)
    accounts.close()
    settings = Settings(
        home=home,
        embedder="hash",
        sparql_workers=1,
        sparql_timeout_s=5,
        api_rate_sparql_per_min=PER_MIN,
        api_rate_write_per_min=PER_MIN,
    )
    port = free_port()
    server, thread = serve(create_app(settings), port)
    try:
        yield Strict(f"http://127.0.0.1:{port}", port, keys)
    finally:
        server.should_exit = True
        thread.join(30)


def _fake() -> dict[str, str]:
    return {"Authorization": f"Bearer cap_{secrets.token_urlsafe(24)}"}


def test_rotating_fake_tokens_does_not_escape_the_sparql_limit(strict: Strict) -> None:
    with httpx.Client(base_url=strict.url, timeout=30) as http:
        statuses = [http.get("/sparql", params={"query": "ASK {}"}, headers=_fake()).status_code for _ in range(8)]
        # an invalid token is a 401 on /sparql, counted in the address's bucket: the made-up tokens run it out
        assert statuses[:PER_MIN] == [401] * PER_MIN and statuses[PER_MIN:] == [429] * 3, statuses
        anonymous = http.get("/sparql", params={"query": "ASK {}"})
        assert anonymous.status_code == 429 and int(anonymous.headers["retry-after"]) >= 1
        # a valid key is its own client, with its own bucket
        key = {"Authorization": f"Bearer {strict.keys['lecteur']}"}
        assert http.get("/sparql", params={"query": "ASK {}"}, headers=key).status_code == 200


def test_rotating_fake_tokens_does_not_escape_the_write_limit(strict: Strict) -> None:
    with httpx.Client(base_url=strict.url, timeout=30) as http:
        statuses = [http.post("/contributions", json={}, headers=_fake()).status_code for _ in range(PER_MIN + 3)]
    assert statuses[-1] == 429 and statuses.count(429) >= 3, statuses
    assert set(statuses) <= {401, 429}, statuses  # an invalid token on a write route: 401, as before


def _chunked_upload(port: int, path: str, key: str, total: int = 30_000_000) -> tuple[int, bytes]:
    """POST ``total`` bytes of JSON in 64 KiB chunks, stopping as soon as the server answers; (bytes sent, reply)."""
    chunk = b"[" + b"1," * 32_000 + b"1]"
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sent = 0
    try:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        while sent < total:
            if select.select([sock], [], [], 0.005)[0]:
                break  # the server answered before the end of the body
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        reply = b""
        try:
            while data := sock.recv(65536):
                reply += data
        except (ConnectionResetError, TimeoutError):
            pass
        return sent, reply
    finally:
        sock.close()


@pytest.mark.parametrize("path", ["/contributions", "/parrainages"])
def test_a_chunked_body_past_the_limit_is_refused_as_it_arrives(strict: Strict, path: str) -> None:
    started = time.monotonic()
    sent, reply = _chunked_upload(strict.port, path, strict.keys["ecrivain"])
    assert reply.startswith(b"HTTP/1.1 413"), reply[:300]
    assert b"application/problem+json" in reply and b"trop volumineuse" in reply
    assert sent < 10_000_000, sent  # a third of the body at most reached the socket, not the 30 MB
    assert time.monotonic() - started < 10


def test_pathological_queries_are_refused_before_evaluation(api: Api, http: httpx.Client) -> None:
    pool = get_pool(api.home / "store", api.settings.sparql_workers)
    http.get("/sparql", params={"query": COUNT})
    workers = pool.pids
    queries = {
        "profondeur": "SELECT * WHERE " + "{" * 5000 + "?s ?p ?o" + "}" * 5000,
        "taille": "SELECT * WHERE { " + " UNION ".join(["{ ?s ?p ?o }"] * 3000) + "}",
        "opérateurs": "SELECT * WHERE { ?s ?p ?o FILTER(" + " + ".join(["1"] * 1000) + ") }",
        "motifs": "SELECT * WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(80)) + "}",
        "chemins": "SELECT * { ?s <http://x/p>*/<http://x/q>+/<http://x/r>* ?o . ?o <http://x/u>+/<http://x/v>* ?z }",
    }
    for what, query in queries.items():
        for _ in range(3):
            started = time.monotonic()
            response = http.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
            assert response.status_code == 400, (what, response.text[:300])
            assert time.monotonic() - started < 1.5, what  # refused before rdflib's slow parsing, or after a short one
            detail = response.json()["detail"]
            assert "trop complexe" in detail and what in detail and "CAPITALIS_SPARQL_MAX_" in detail, detail
    assert pool.pids == workers  # no worker died or was replaced
    assert http.get("/sparql", params={"query": COUNT}).status_code == 200


@embedded_only(
    "the per-client share of the SPARQL worker processes; the server backend sends public queries to the SPARQL "
    "server, which bounds them by its own timeout"
)
def test_a_slow_client_does_not_starve_the_others(api: Api) -> None:
    """Two runaway queries from one account hold one worker, not both: another account's queries pass at once."""
    slow = api.client("contributeur")
    other = api.client("moderateur")
    other.get("/sparql", params={"query": COUNT})  # both workers up
    results: list[int] = []

    def runaway() -> None:
        results.append(slow.get("/sparql", params={"query": RUNAWAY}).status_code)

    threads = [threading.Thread(target=runaway) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # the runaway queries are in (one running, one waiting its client's turn)
    try:
        for _ in range(5):
            started = time.monotonic()
            response = other.get("/sparql", params={"query": COUNT})
            assert response.status_code == 200, response.text
            assert time.monotonic() - started < 1.5
    finally:
        for thread in threads:
            thread.join(30)
        slow.close()
        other.close()
    assert sorted(results) == [503, 503]  # the slow client's own: cut at the deadline, or still waiting there
    deadline = time.monotonic() + 30  # the killed worker is replaced in the background
    while len(get_pool(api.home / "store", api.settings.sparql_workers).pids) < api.settings.sparql_workers:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_queries_are_checked_in_parallel_threads_without_failing() -> None:
    """The API checks queries in its thread pool; rdflib's parser, shared by every thread, is not thread-safe."""
    settings = Settings()
    failures: list[str] = []

    def check() -> None:
        for _ in range(15):
            try:
                assert check_query(COUNT, settings) == "select" and check_query(RUNAWAY, settings) == "select"
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=check) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures[:3]
