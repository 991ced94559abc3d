"""Bench: requests/s and latency of the API under 20 concurrent clients on loopback; fairness under 50.

    PYTHONPATH=. .venv/bin/python bench/api_load.py [--clients 20] [--requests 400] [--seconds 30]
                                                    [--mixed-clients 50] [--mixed-seconds 60] [--only-mixed]
                                                    [--embedder hash] [--home DIR] [--json]

A home with the samples (Villes Internet, OTeN, NetPublic) and the territories they name is built in a
temporary directory (or ``--home`` is reused), then ``capitalis serve`` runs in its own process on a free
loopback port (rate limits raised so that they do not count). The load generator (asyncio + httpx, in this
process) sends, for each scenario, ``--requests`` requests from ``--clients`` concurrent clients, stopping
early after ``--seconds``; every request goes to 127.0.0.1 only.

Scenarios: ``GET /`` (the floor of the stack: routing, middlewares, JSON) is the baseline; then
``GET /experiences?q=…`` (search, rotating through French queries) and a ``/sparql`` aggregate (experiences
per ATLAAS axe), and, measured in-process in the same run, ``search.search`` and the same SPARQL query
through ``kg.sparql.run_public_query`` without HTTP.

The mixed scenario: ``--mixed-clients`` clients, each with its own account (API key), for ``--mixed-seconds``,
each cycling through search, match (parrainage), fiches (experience, collectivité) and the SPARQL aggregate; run
twice in the same server, first alone (the baseline), then beside one more account sending runaway SPARQL queries,
two at a time, each cut at the server's timeout. Reported per kind: requests, 5xx, other failures, p50, p95, for
the well-behaved clients only, and what the slow client got.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CAP = "https://w3id.org/capitalis/ontology#"
QUERIES = [
    "portail famille",
    "open data",
    "wifi public",
    "médiation numérique",
    "vidéoprotection",
    "dématérialisation des marchés",
    "site internet de la mairie",
    "cartographie sig",
]
AGGREGATE = f"""PREFIX cap: <{CAP}>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?axe (COUNT(DISTINCT ?e) AS ?n) WHERE {{
  ?e a cap:Experience ; cap:service ?s .
  ?s skos:broader* ?axe . ?axe a cap:Axe .
}} GROUP BY ?axe ORDER BY ?axe"""


def build_home(home: Path, embedder: str) -> None:
    """The samples and the territories they name, and a search index (as the API tests build it)."""
    from ingest.samples import import_samples, load_referential_subset
    from kg.context import Context
    from kg.settings import Settings
    from search import update_index

    with Context.open(Settings(home=home, embedder=embedder)) as context:
        import_samples(context.store)
        load_referential_subset(context.store)
        update_index(context)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: Path, port: int, embedder: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CAPITALIS_HOME": str(home),
        "CAPITALIS_EMBEDDER": embedder,
        "CAPITALIS_API_RATE_WRITE_PER_MIN": "1000000",
        "CAPITALIS_API_RATE_SPARQL_PER_MIN": "1000000",
    }
    code = "from capitalis.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("capitalis serve s'est arrêté au démarrage")
        try:
            if httpx.get(f"{url}/", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("capitalis serve n'a pas démarré à temps")


async def load(url: str, make: Any, clients: int, total: int, seconds: float) -> dict[str, Any]:
    """``total`` requests from ``clients`` concurrent clients (or fewer when ``seconds`` runs out)."""
    import httpx

    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.monotonic() + seconds

    async def client(session: httpx.AsyncClient) -> None:
        nonlocal issued, errors
        while issued < total and time.monotonic() < deadline:
            n = issued
            issued += 1
            method, path, kwargs = make(n)
            t = time.perf_counter()
            try:
                response = await session.request(method, path, **kwargs)
                if response.status_code != 200:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append(time.perf_counter() - t)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as session:
        for n in range(min(clients, 4)):  # warm: the first query loads the index, starts the workers
            method, path, kwargs = make(n)
            await session.request(method, path, **kwargs)
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return summary(latencies, elapsed, errors)


#: The mixed scenario's SPARQL: a collectivité's experiences (what a fiche asks), not the aggregate, whose cost
#: alone (hundreds of ms a query on a loaded machine) saturates the workers at 50 clients, slow client or not.
LOOKUP = (
    f'SELECT ?e WHERE {{{{ ?e a <{CAP}Experience> ; <{CAP}porteur> ?c FILTER(STRENDS(STR(?c), "/{{}}")) }}}} LIMIT 20'
)
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
KINDS = ("recherche", "parrainage", "fiche", "sparql")


def mixed_targets(url: str) -> tuple[list[str], list[str]]:
    """Experience keys and collectivité codes of the home, found through the API itself."""
    import httpx

    experiences: list[str] = []
    with httpx.Client(base_url=url, timeout=60) as http:
        for q in QUERIES:
            for hit in http.get("/experiences", params={"q": q, "limit": 5}).json()["results"]:
                experiences.append(hit["iri"].rsplit("/", 1)[-1])
        query = f"SELECT DISTINCT ?c WHERE {{ ?e <{CAP}porteur> ?c . ?c a <{CAP}Commune> }} ORDER BY ?c LIMIT 20"
        rows = http.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
        communes = [b["c"]["value"].rsplit("/", 1)[-1] for b in rows.json()["results"]["bindings"]]
    return experiences, communes


async def mixed(
    url: str, keys: list[str], slow_key: str | None, seconds: float, targets: tuple[list[str], list[str]]
) -> dict[str, Any]:
    """Every key a client cycling through the kinds for ``seconds``; ``slow_key`` sends runaway queries, two at once."""
    import httpx

    experiences, communes = targets
    seen: dict[str, list[float]] = {kind: [] for kind in KINDS}
    server_errors = dict.fromkeys(KINDS, 0)
    failures = dict.fromkeys(KINDS, 0)
    slow: dict[str, int] = {}
    examples: dict[str, str] = {}  # the first failure of each kind, to say what it was
    deadline = time.monotonic() + seconds

    def request(kind: str, n: int) -> tuple[str, dict[str, Any]]:
        if kind == "recherche":
            return "/experiences", {"params": {"q": QUERIES[n % len(QUERIES)]}}
        if kind == "parrainage":
            besoin = QUERIES[n % len(QUERIES)]
            return "/parrainage/match", {"params": {"collectivite": communes[n % len(communes)], "besoin": besoin}}
        if kind == "fiche":
            if n % 2:
                return f"/collectivites/{communes[n % len(communes)]}", {}
            return f"/experiences/{experiences[n % len(experiences)]}", {}
        accept = {"Accept": "application/sparql-results+json"}
        return "/sparql", {"params": {"query": LOOKUP.format(communes[n % len(communes)])}, "headers": accept}

    async def client(session: httpx.AsyncClient, number: int, key: str) -> None:
        n = number
        auth = {"Authorization": f"Bearer {key}"}
        while time.monotonic() < deadline:
            kind = KINDS[n % len(KINDS)]
            path, kwargs = request(kind, n // len(KINDS))
            kwargs["headers"] = {**kwargs.get("headers", {}), **auth}
            t = time.perf_counter()
            try:
                response = await session.get(path, **kwargs)
                status = response.status_code
                if status != 200:
                    examples.setdefault(kind, f"{status} {response.text[:200]}")
            except httpx.HTTPError as exc:
                status = 0
                examples.setdefault(kind, type(exc).__name__)
            seen[kind].append(time.perf_counter() - t)
            if status >= 500:
                server_errors[kind] += 1
            elif status != 200:
                failures[kind] += 1
            n += 1

    async def runaway(session: httpx.AsyncClient, key: str) -> None:
        while time.monotonic() < deadline:
            try:
                response = await session.get(
                    "/sparql", params={"query": RUNAWAY}, headers={"Authorization": f"Bearer {key}"}
                )
                status = str(response.status_code)
                if response.status_code != 503:
                    examples.setdefault("client lent", f"{status} {response.text[:200]}")
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            slow[status] = slow.get(status, 0) + 1

    limits = httpx.Limits(max_connections=len(keys) + 4, max_keepalive_connections=len(keys) + 4)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as session:
        tasks = [client(session, number, key) for number, key in enumerate(keys)]
        if slow_key is not None:
            tasks += [runaway(session, slow_key), runaway(session, slow_key)]
        started = time.perf_counter()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    out: dict[str, Any] = {
        kind: {**summary(seen[kind], elapsed, failures[kind]), "5xx": server_errors[kind]} for kind in KINDS
    }
    out["client lent"] = slow
    out["échecs"] = examples
    return out


def bench_keys(home: Path, count: int) -> list[str]:
    """API keys of ``count`` accounts in ``home`` (one identity per simulated client)."""
    from contributions.accounts import open_accounts

    accounts = open_accounts(home)
    try:
        keys = []
        for n in range(count):
            name = f"bench-{n}"
            try:
                accounts.by_name(name)
            except Exception:  # no such account yet
                accounts.add_user(name, "moderateur")
            keys.append(accounts.api_key(name))
        return keys
    finally:
        accounts.close()


def summary(latencies: list[float], elapsed: float, errors: int = 0) -> dict[str, Any]:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0
    return {
        "requests": len(ordered),
        "errors": errors,
        "rps": round(len(ordered) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else 0.0,
        "p95_ms": round(p95 * 1000, 1),
    }


def in_process(home: Path, embedder: str, total: int) -> dict[str, dict[str, Any]]:
    """The same work without HTTP, one call at a time: what the API adds on top."""
    from kg.context import Context
    from kg.settings import Settings
    from kg.sparql import run_public_query, shutdown_pools
    from search import Filters, open_index, search

    out: dict[str, dict[str, Any]] = {}
    with Context.open(Settings(home=home, embedder=embedder), read_only=True) as context:
        index = open_index(context)
        times = []
        started = time.perf_counter()
        for n in range(total):
            t = time.perf_counter()
            search(context, QUERIES[n % len(QUERIES)], Filters(), 10, 0, index=index)
            times.append(time.perf_counter() - t)
        out["search.search (sans HTTP, 1 client)"] = summary(times, time.perf_counter() - started)
        times = []
        run_public_query(context.store, AGGREGATE, "json", settings=context.settings)  # warm the worker
        started = time.perf_counter()
        for _ in range(max(total // 4, 20)):
            t = time.perf_counter()
            run_public_query(context.store, AGGREGATE, "json", settings=context.settings)
            times.append(time.perf_counter() - t)
        out["run_public_query agrégat (sans HTTP, 1 client)"] = summary(times, time.perf_counter() - started)
    shutdown_pools()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="Requêtes par scénario.")
    parser.add_argument("--seconds", type=float, default=30.0, help="Durée maximale d'un scénario.")
    parser.add_argument("--mixed-clients", type=int, default=50, help="Clients du scénario mixte (chacun un compte).")
    parser.add_argument("--mixed-seconds", type=float, default=60.0, help="Durée de chaque passe du scénario mixte.")
    parser.add_argument("--only-mixed", action="store_true", help="Le scénario mixte seul.")
    parser.add_argument("--embedder", default="hash", help="Encodeur de la recherche (hash : sans modèle).")
    parser.add_argument("--home", type=Path, help="Dossier déjà construit (sinon un dossier temporaire).")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="capitalis-bench-api-") as tmp:
        home = args.home or Path(tmp) / "home"
        if not (home / "store").exists():
            print(f"Construction du dossier de test dans {home}…", file=sys.stderr)
            build_home(home, args.embedder)
        keys = bench_keys(home, args.mixed_clients + 1)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = start_server(home, port, args.embedder)
        results: dict[str, dict[str, Any]] = {}
        fairness: dict[str, dict[str, Any]] = {}
        try:
            wait_ready(url, process)
            targets = mixed_targets(url)
            for name, slow_key in (("sans client lent (référence)", None), ("avec un client lent", keys[-1])):
                fairness[name] = asyncio.run(mixed(url, keys[:-1], slow_key, args.mixed_seconds, targets))
            scenarios = {
                "GET / (référence)": lambda n: ("GET", "/", {}),
                "GET /experiences?q=…": lambda n: ("GET", "/experiences", {"params": {"q": QUERIES[n % len(QUERIES)]}}),
                "GET /sparql agrégat": lambda n: (
                    "GET",
                    "/sparql",
                    {"params": {"query": AGGREGATE}, "headers": {"Accept": "application/sparql-results+json"}},
                ),
            }
            for name, make in scenarios.items() if not args.only_mixed else ():
                results[name] = asyncio.run(load(url, make, args.clients, args.requests, args.seconds))
        finally:
            process.terminate()
            process.wait(30)
        if not args.only_mixed:
            results.update(in_process(home, args.embedder, args.requests))

    if args.json:
        print(
            json.dumps(
                {"clients": args.clients, "embedder": args.embedder, "results": results, "mixte": fairness}, indent=2
            )
        )
        return
    print(f"Scénario mixte : {args.mixed_clients} clients, {args.mixed_seconds:g} s par passe, {os.cpu_count()} cœurs")
    print(f"{'passe':<30} {'type':<11} {'requêtes':>9} {'5xx':>5} {'autres':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for name, table in fairness.items():
        for kind in KINDS:
            r = table[kind]
            row = f"{r['requests']:>9} {r['5xx']:>5} {r['errors']:>7} {r['p50_ms']:>8} {r['p95_ms']:>8}"
            print(f"{name:<30} {kind:<11} {row}")
        if table["client lent"]:
            print(f"{name:<30} client lent : {table['client lent']}")
        for kind, example in table["échecs"].items():
            print(f"{name:<30} premier échec ({kind}) : {example}")
    if not results:
        return
    print(f"{args.clients} clients simultanés, encodeur {args.embedder}, {os.cpu_count()} cœurs")
    print(f"{'scénario':<50} {'requêtes':>9} {'erreurs':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, r in results.items():
        print(f"{name:<50} {r['requests']:>9} {r['errors']:>8} {r['rps']:>8} {r['p50_ms']:>8} {r['p95_ms']:>8}")


if __name__ == "__main__":
    main()
