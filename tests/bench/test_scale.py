"""bench/scale.py's ``replicate`` step: the store it makes for the 1M column holds every experience of the
imported store again under new IRIs, with its texts, links and source records, and titles told apart."""

from __future__ import annotations

from pathlib import Path

from bench.scale import DEFAULT_STEPS, step_replicate
from ingest.samples import OTEN, WORKBOOK, import_samples
from kg.context import Context
from kg.settings import Settings

EXPERIENCES = """PREFIX cap: <https://w3id.org/capitalis/ontology#>
SELECT ?e WHERE { GRAPH ?g { ?e a cap:Experience } }"""
PER_EXPERIENCE = """PREFIX cap: <https://w3id.org/capitalis/ontology#>
PREFIX dct: <http://purl.org/dc/terms/> PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?e ?t ?p ?r WHERE { GRAPH ?g { ?e a cap:Experience ; dct:title ?t ; prov:wasDerivedFrom ?r .
                                      OPTIONAL { ?e cap:porteur ?p } } }"""


def _rows(home: Path) -> list[dict]:
    with Context.open(Settings(home=home, embedder="hash"), read_only=True) as ctx:
        return [{k: str(v) for k, v in r.items()} for r in ctx.store.select(PER_EXPERIENCE)]


def test_replicate_copies_each_experience_under_new_iris(tmp_path: Path) -> None:
    work = tmp_path / "work"
    with Context.open(Settings(home=work / "2" / "home", embedder="hash")) as ctx:
        import_samples(ctx.store, (WORKBOOK, OTEN))
    out = step_replicate(work / "6", 6, "hash")
    assert (out["from"], out["copies"]) == (2, 3)

    before, after = _rows(work / "2" / "home"), _rows(work / "6" / "home")
    assert len(after) == 3 * len(before) > 0
    for k in (1, 2):
        copies = {(r["e"], r["t"], r.get("p"), r["r"]) for r in after if r["e"].endswith(f"-c{k}")}
        expected = {(r["e"] + f"-c{k}", r["t"] + f" (copie {k})", r.get("p"), r["r"] + f"-c{k}") for r in before}
        assert copies == expected  # texts, carriers (shared) and source records (copied) follow each experience
    with Context.open(Settings(home=work / "6" / "home", embedder="hash"), read_only=True) as ctx:
        assert len({r["e"] for r in ctx.store.select(EXPERIENCES)}) == out["experiences"] == 3 * len(
            {r["e"] for r in before})  # a reader sees the copies: a snapshot was published
    assert "replicate" not in DEFAULT_STEPS  # it replaces an imported store: only when asked for
