"""The dashboard and the example SPARQL queries count the same thing on the samples (issue: per-région figures)."""

from __future__ import annotations

import json
from pathlib import Path

from explorer.data import QUERIES_DIR
from fiches import dashboard
from kg.context import Context
from kg.settings import Settings
from kg.sparql import run_public_query
from tests.explorer.sample_home import EMBEDDER


def test_experiences_per_region_equal_the_example_query(sample_home: Path) -> None:
    query = (QUERIES_DIR / "03_experiences_par_region.rq").read_text(encoding="utf-8")
    with Context.open(Settings(home=sample_home, embedder=EMBEDDER), read_only=True) as ctx:
        board = {r["nom"]: r["n"] for r in dashboard.per_region(ctx) if r["n"]}
        result = run_public_query(ctx.store, query, "json", timeout_s=0)
    rows = _bindings(result.body)
    by_query = {r["region"]: int(r["experiences"]) for r in rows}
    assert board == by_query
    assert board["Auvergne-Rhône-Alpes"] >= 40  # the carriers of EPCI count too (there were 44 of 50 without)


def test_default_graph_counts_a_triple_once_per_graph(sample_home: Path) -> None:
    """What the docs say of the default graph: the union keeps one copy per graph; DISTINCT counts things."""
    cap = "https://w3id.org/capitalis/ontology#"
    plain = f"SELECT (COUNT(?e) AS ?n) WHERE {{ ?e a <{cap}Experience> }}"
    distinct = f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ ?e a <{cap}Experience> }}"
    with Context.open(Settings(home=sample_home, embedder=EMBEDDER), read_only=True) as ctx:
        n_plain, n_distinct = (
            int(_bindings(run_public_query(ctx.store, q, "json", timeout_s=0).body)[0]["n"]) for q in (plain, distinct)
        )
        total = dashboard.overview(ctx)["total"]
    assert n_distinct == total < n_plain


def _bindings(body: bytes) -> list[dict[str, str]]:
    payload = json.loads(body)
    return [{k: v["value"] for k, v in b.items()} for b in payload["results"]["bindings"]]
