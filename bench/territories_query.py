"""Bench: the "communes and population per région" query on the embedded store against rdflib's memory store.

Both stores hold the same triples (the COG 2025 referential, ~394,000 triples). Prints load times and the
median query time of each, and their ratio.

    python bench/territories_query.py [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from rdflib import Graph

from ingest.territories import load_referentiel, territories_triples
from kg.store import memory_store

QUERY = (Path(__file__).parent / "queries" / "region_population.rq").read_text(encoding="utf-8")
GRAPH = "https://w3id.org/capitalis/graph/referentiel"


def _median(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per query (median reported)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    triples = list(territories_triples(load_referentiel()))

    start = time.perf_counter()
    store = memory_store()
    store.load(triples, GRAPH)
    ox_load = time.perf_counter() - start

    start = time.perf_counter()
    graph = Graph()
    for t in triples:
        graph.add(t)
    rdflib_load = time.perf_counter() - start

    ox_time, ox_rows = _median(lambda: store.query_serialized(QUERY, "json")[1], args.runs)
    rdflib_time, rdflib_rows = _median(lambda: list(graph.query(QUERY)), 1)  # minutes a run
    assert len(json.loads(ox_rows)["results"]["bindings"]) == len(rdflib_rows) == 18  # type: ignore[arg-type]

    figures = {
        "triples": len(triples),
        "load_s": {"oxigraph": round(ox_load, 2), "rdflib": round(rdflib_load, 2)},
        "query_s": {"oxigraph": round(ox_time, 3), "rdflib": round(rdflib_time, 3)},
        "ratio": round(rdflib_time / ox_time, 1),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{len(triples):,} triples (COG 2025 referential)")
    print(f"{'store':<12}{'load (s)':>10}{'query (s)':>12}")
    print(f"{'oxigraph':<12}{ox_load:>10.2f}{ox_time:>12.3f}")
    print(f"{'rdflib':<12}{rdflib_load:>10.2f}{rdflib_time:>12.3f}")
    print(f"oxigraph is {figures['ratio']}x faster on this query")


if __name__ == "__main__":
    main()
