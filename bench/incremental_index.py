"""Bench: an index update after 1 % of the experiences changed, beside a build from scratch, at 10k and 100k.

    PYTHONPATH=. .venv/bin/python bench/incremental_index.py --sizes 10000,100000 [--share 0.01] [--json]

Synthetic experiences (:func:`bench.synthetic.generate`, seeded) are indexed and their triples loaded into a
memory store (:func:`bench.synthetic.load_into`); then a share of them is replaced by other synthetic experiences
(new IRIs at the same positions: removed and added at once), and each step is timed both ways:

- lexical postings: :func:`search.lexical.build_postings` of every doc against
  :func:`search.lexical.update_postings` of the changed positions (baseline: the build);
- the whole index (``Index.build``: postings, facets, payloads, fingerprints; no vectors, nothing to encode)
  from scratch against with ``previous`` and ``changed``, as :func:`search.update_index` calls it;
- the parrainage carrier table: :func:`parrainage.porteurs.build_porteurs` against
  :func:`parrainage.porteurs.update_porteurs`.

Each update is checked against the build it stands for (same postings, same carrier table), so that a fast
wrong update cannot pass.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import numpy as np

from bench.synthetic import generate, load_into, sample_docs
from kg.store import memory_store
from parrainage.porteurs import build_porteurs, update_porteurs
from search import Index, lexical
from search.index import changed_positions


class NoVectors:
    """Stands for the embedder: the vectors are given empty, nothing is encoded (the lexical side is measured)."""

    name, dim = "none", 0


def _seconds(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def run(n: int, share: float) -> dict[str, Any]:
    base = sample_docs()
    docs = generate(base, n, seed=1)
    k = max(1, int(n * share))
    replacements = generate(base, n + k, seed=2)[n:]  # IRIs past the first n: new experiences
    positions = np.random.default_rng(3).choice(n, size=k, replace=False)
    after = list(docs)
    for position, doc in zip(positions.tolist(), replacements, strict=True):
        after[position] = doc
    empty = np.zeros((n, 0), np.float32)
    store = memory_store()
    load_into(store, [*docs, *replacements])

    previous, build_s = _seconds(lambda: Index.build(docs, NoVectors(), vectors=empty, ann_min=10**9)[0])  # type: ignore[arg-type]
    changed, compare_s = _seconds(lambda: changed_positions(after, previous))
    (built, update_s) = _seconds(
        lambda: Index.build(after, NoVectors(), vectors=empty, previous=previous, changed=changed,  # type: ignore[arg-type]
                            ann_min=10**9)[0]
    )
    _, rebuild_s = _seconds(lambda: Index.build(after, NoVectors(), vectors=empty, ann_min=10**9))  # type: ignore[arg-type]

    (fresh_postings, _), lexical_build_s = _seconds(lambda: lexical.build_postings(after))
    (updated_postings, _), lexical_update_s = _seconds(
        lambda: lexical.update_postings(previous_postings(previous), previous.counts, after, changed)
    )
    assert _per_term(updated_postings) == _per_term(fresh_postings), "the update differs from a build"

    table, _ = _seconds(lambda: build_porteurs(store, previous))
    updated_table, table_update_s = _seconds(lambda: update_porteurs(store, table, built))
    rebuilt_table, table_build_s = _seconds(lambda: build_porteurs(store, built))
    assert updated_table.size == rebuilt_table.size and updated_table.pair_doc.size == rebuilt_table.pair_doc.size
    store.close()
    return {
        "experiences": n, "changed": len(changed),
        "lexical": {"build_s": lexical_build_s, "update_s": lexical_update_s},
        "index": {"build_s": rebuild_s, "update_s": update_s, "compare_s": compare_s, "first_build_s": build_s},
        "carriers": {"build_s": table_build_s, "update_s": table_update_s, "size": rebuilt_table.size},
        "load_average": os.getloadavg()[0],
    }


def _per_term(postings: lexical.Postings) -> dict[str, tuple[int, float]]:
    """Each stem's number of documents and sum of impacts (ids and order within a term may differ)."""
    ptr = postings.term_ptr
    sums = np.add.reduceat(postings.post_weight.astype(np.float64), ptr[:-1]) if ptr[-1] else np.zeros(0)
    counts = np.diff(ptr)
    return {
        stem: (int(counts[i]), round(float(sums[i]) if counts[i] else 0.0, 3))
        for stem, i in postings.terms.items() if counts[i]
    }


def previous_postings(index: Index) -> lexical.Postings:
    return lexical.Postings(index.terms, index.term_ptr, index.post_docs, index.post_weight, index.vocabulary,
                            index.surfaces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="numbers of experiences, comma-separated")
    parser.add_argument("--share", type=float, default=0.01, help="share of the experiences replaced")
    parser.add_argument("--json", action="store_true", help="JSON on stdout")
    args = parser.parse_args()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        row = run(n, args.share)
        rows.append(row)
        if not args.json:
            print(f"{n:,} expériences, {row['changed']:,} remplacées (charge {row['load_average']:.1f})")
            for step in ("lexical", "index", "carriers"):
                r = row[step]
                print(f"  {step:9s} construction {r['build_s']:7.2f} s   mise à jour {r['update_s']:7.2f} s"
                      f"   ({r['build_s'] / max(r['update_s'], 1e-9):.0f}×)")
            print(f"  dont comparaison des empreintes : {row['index']['compare_s']:.2f} s", file=sys.stdout)
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
