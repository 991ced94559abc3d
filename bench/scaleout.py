"""Scale-out: API throughput of one replica on the embedded store vs on the SPARQL server backend (same run, same
data, same requests), and Neo4j sync throughput (nodes + relationships written per second).

    python bench/scaleout.py                       # samples + referential subset; 20 s per backend; 20k for Neo4j
    python bench/scaleout.py --seconds 30 --neo4j-size 100000

The API part: the samples imported into an embedded home and into ``oxigraph serve`` (public + private datasets),
one ``capitalis serve`` on each in turn, ``--clients`` threads sending a fixed mix of reads (search, an
experience's page, /stats, a SPARQL count) for ``--seconds``. The Neo4j part: ``--neo4j-size`` synthetic
experiences (bench/synthetic.py) projected and synchronised over Bolt to ArcadeDB (the Neo4j stand-in of this
machine, tests/utils/servers.py), then synchronised again with nothing changed. Prints one table each.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.synthetic import generate, load_into, percentile, sample_docs  # noqa: E402
from ingest.samples import import_samples, load_referential_subset  # noqa: E402
from kg.context import Context  # noqa: E402
from kg.settings import Settings  # noqa: E402
from kg.store import memory_store  # noqa: E402
from projection.neo4j import connect, sync  # noqa: E402
from search import update_index  # noqa: E402
from tests.utils.servers import free_port, start_arcadedb, start_oxigraph  # noqa: E402

CAP = "https://w3id.org/capitalis/ontology#"


def prepare(settings: Settings) -> list[str]:
    """Import the samples and the referential subset, build the index; return a few experience keys."""
    with Context.open(settings) as context:
        import_samples(context.store)
        load_referential_subset(context.store)
        update_index(context)
        rows = context.store.select(f"SELECT ?e WHERE {{ GRAPH ?g {{ ?e a <{CAP}Experience> }} }} ORDER BY ?e LIMIT 50")
    return [str(r["e"]).rsplit("/", 1)[-1] for r in rows]


def serve(settings: Settings, log: Path) -> tuple[str, subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPITALIS_")}
    env.update(CAPITALIS_HOME=str(settings.home), CAPITALIS_EMBEDDER=settings.embedder)
    env.update(CAPITALIS_API_RATE_WRITE_PER_MIN="1000000", CAPITALIS_API_RATE_SPARQL_PER_MIN="1000000")
    if settings.store:
        env.update(CAPITALIS_STORE=settings.store, CAPITALIS_STORE_PRIVE=settings.store_prive or "")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "capitalis.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=ROOT, stdout=open(log, "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/experiences", params={"limit": 1}, timeout=10).status_code == 200:
                return url, process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"capitalis serve n'a pas démarré ({log})")


def load(url: str, keys: list[str], seconds: float, clients: int) -> dict[str, Any]:
    """Send the request mix from ``clients`` threads for ``seconds``; throughput and latency percentiles."""
    targets = [
        ("/experiences", {"q": "portail famille", "limit": 10}),
        ("/stats", {}),
        ("/sparql", {"query": f"SELECT (COUNT(?e) AS ?n) WHERE {{ ?e a <{CAP}Experience> }}"}),
        *[(f"/experiences/{k}", {}) for k in keys[:20]],
    ]
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run(offset: int) -> None:
        n = offset
        with httpx.Client(base_url=url, timeout=60) as client:
            while time.monotonic() < stop:
                path, params = targets[n % len(targets)]
                n += 1
                started = time.perf_counter()
                ok = client.get(path, params=params).status_code == 200
                with lock:
                    latencies.append(time.perf_counter() - started)
                    errors[0] += not ok

    threads = [threading.Thread(target=run, args=(i * 7,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * percentile(latencies, 50),
        "p95_ms": 1000 * percentile(latencies, 95),
        "errors": errors[0],
    }


def api_bench(root: Path, seconds: float, clients: int) -> dict[str, dict[str, Any]]:
    embedded = Settings(home=root / "embedded", embedder="hash")
    public, private = start_oxigraph(root / "public"), start_oxigraph(root / "prive")
    server = Settings(home=root / "server", embedder="hash", store=public.url, store_prive=private.url)
    results = {}
    try:
        for name, settings in (("embarqué", embedded), ("serveur SPARQL", server)):
            started = time.perf_counter()
            keys = prepare(settings)
            print(f"{name} : données prêtes en {time.perf_counter() - started:.1f} s", file=sys.stderr)
            url, process = serve(settings, root / f"{name.split()[0]}.log")
            try:
                load(url, keys, 3, clients)  # warm-up
                results[name] = load(url, keys, seconds, clients)
            finally:
                process.terminate()
                process.wait(30)
    finally:
        public.stop()
        private.stop()
    return results


def neo4j_bench(root: Path, size: int) -> dict[str, Any]:
    store = memory_store()
    started = time.perf_counter()
    load_into(store, generate(sample_docs(), size, seed=1))
    prepared = time.perf_counter() - started
    server = start_arcadedb(root / "arcadedb")
    try:
        driver = connect(server.url, server.user, server.password)
        try:
            started = time.perf_counter()
            first = sync(store, driver, server.database)
            first_s = time.perf_counter() - started
            started = time.perf_counter()
            again = sync(store, driver, server.database)
            again_s = time.perf_counter() - started
        finally:
            driver.close()
    finally:
        server.stop()
    written = first.created + first.relationships
    return {
        "experiences": size,
        "prepared_s": prepared,
        "nodes": first.created,
        "relationships": first.relationships,
        "sync_s": first_s,
        "per_s": written / first_s,
        "resync_s": again_s,
        "resync_written": again.created + again.updated + again.relationships,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--neo4j-size", type=int, default=20_000)
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--skip-neo4j", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="capitalis-scaleout-") as tmp:
        root = Path(tmp)
        if not args.skip_api:
            results = api_bench(root, args.seconds, args.clients)
            print(f"\nAPI, une réplique, {args.clients} clients, {args.seconds:g} s")
            print(f"{'entrepôt':<16} {'requêtes':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'erreurs':>8}")
            for name, r in results.items():
                print(
                    f"{name:<16} {r['requests']:>9} {r['rps']:>8.1f} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} "
                    f"{r['errors']:>8}"
                )
        if not args.skip_neo4j:
            r = neo4j_bench(root, args.neo4j_size)
            print(f"\nSynchronisation Neo4j (ArcadeDB Bolt), {r['experiences']:,} expériences synthétiques")
            print(f"{'nœuds':>8} {'relations':>10} {'sync s':>8} {'(n+r)/s':>9} {'resync s':>9} {'réécrits':>9}")
            print(
                f"{r['nodes']:>8} {r['relationships']:>10} {r['sync_s']:>8.1f} {r['per_s']:>9.0f} "
                f"{r['resync_s']:>9.1f} {r['resync_written']:>9}"
            )


if __name__ == "__main__":
    main()
