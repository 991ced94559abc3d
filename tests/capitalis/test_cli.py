"""The foundation commands through Typer's CliRunner on a real store."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from rdflib import RDF, Literal, URIRef
from rdflib.compare import isomorphic
from typer.testing import CliRunner

from capitalis.cli import app
from ingest.load import ensure_ontology, private_graph
from kg.store import open_store
from ontology import iri
from ontology.namespaces import CAP

runner = CliRunner()
EXP = iri.experience("villes-internet", "999")


def _seed(home: Path, *, title: bool = True) -> None:
    """A tiny store: the ontology, one experience, one person's e-mail in the private graph."""
    with open_store(home / "store") as store:
        ensure_ontology(store)
        porteur = iri.collectivite("commune", "79202")
        triples = [(EXP, RDF.type, CAP.Experience), (EXP, CAP.porteur, porteur)]
        if title:
            triples.append((EXP, URIRef("http://purl.org/dc/terms/title"), Literal("Portail famille", lang="fr")))
        store.load(triples, str(iri.graph("villes-internet")))
        person = iri.personne("Jeanne Martin", "79202")
        store.load([(person, CAP.courriel, Literal("jeanne.martin@mairie.example"))], private_graph("villes-internet"))


def run(home: Path, *args: str) -> object:
    return runner.invoke(app, ["--home", str(home), *args])


def test_help_everywhere() -> None:
    for args in ([], ["territories"], ["territories", "load"], ["sparql"], ["stats"], ["export"], ["validate"]):
        result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, args
        assert "Usage : capitalis" in result.output
        assert "Afficher ce message et quitter." in result.output


def test_sparql_formats(tmp_path: Path) -> None:
    _seed(tmp_path)
    query = f"SELECT ?t WHERE {{ <{EXP}> <http://purl.org/dc/terms/title> ?t }}"
    result = run(tmp_path, "sparql", query, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["results"]["bindings"][0]["t"]["value"] == "Portail famille"
    result = run(tmp_path, "sparql", query, "--format", "csv")
    assert result.stdout.splitlines() == ["t", "Portail famille"]
    result = run(tmp_path, "sparql", query)
    assert "Portail famille" in result.stdout
    result = run(tmp_path, "sparql", f"CONSTRUCT {{ <{EXP}> ?p ?o }} WHERE {{ <{EXP}> ?p ?o }}", "--format", "ttl")
    assert "Portail famille" in result.stdout


def test_sparql_refuses_updates_and_bad_queries_without_traceback(tmp_path: Path) -> None:
    _seed(tmp_path)
    result = run(tmp_path, "sparql", "DROP ALL")
    assert result.exit_code == 2
    assert "lecture seule" in result.stderr
    result = run(tmp_path, "sparql", "SELECT ?x WHERE {")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "invalide" in result.stderr


def test_private_data_is_not_queryable(tmp_path: Path) -> None:
    _seed(tmp_path)
    query = "SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?o), 'mairie.example')) }"
    result = run(tmp_path, "sparql", query, "--format", "json")
    assert json.loads(result.stdout)["results"]["bindings"] == []


def test_stats_json(tmp_path: Path) -> None:
    _seed(tmp_path)
    result = run(tmp_path, "stats", "--json")
    data = json.loads(result.stdout)
    assert data["graphs"]["villes-internet"] == 3
    assert data["classes"][str(CAP.Experience)] == 1
    assert "prive" not in json.dumps(data["graphs"])


def test_export_then_restore_gives_the_same_quads(tmp_path: Path) -> None:
    _seed(tmp_path)
    out = tmp_path / "dump.nq.gz"
    result = run(tmp_path, "export", str(out), "--format", "nq")
    assert result.exit_code == 0, result.output
    with gzip.open(out, "rt", encoding="utf-8") as f:
        text = f.read()
    assert "mairie.example" not in text  # the private graph is never exported
    with open_store(tmp_path / "store", read_only=True) as source, open_store(tmp_path / "restored") as target:
        target.restore(out)
        public = [g for g in source.graphs() if "prive" not in g]
        assert target.graphs() == public
        for graph in public:
            assert isomorphic(source.to_graph([graph]), target.to_graph([graph])), graph
    for fmt, marker in (("ttl", "@prefix"), ("jsonld", "@id")):
        result = run(tmp_path, "export", str(tmp_path / f"dump.{fmt}"), "--format", fmt)
        assert result.exit_code == 0
        assert marker in (tmp_path / f"dump.{fmt}").read_text(encoding="utf-8")


def test_validate_conforms_then_fails_on_a_violation(tmp_path: Path) -> None:
    _seed(tmp_path)
    result = run(tmp_path, "validate")
    assert result.exit_code == 0, result.output
    bad = tmp_path / "bad"
    _seed(bad, title=False)
    result = run(bad, "validate", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert not report["conforms"]
    assert any(v["focus"] == str(EXP) and v["path"].endswith("title") for v in report["violations"])
    assert all(v["message"] for v in report["violations"])


@pytest.mark.slow
def test_territories_load_counts_and_idempotence(tmp_path: Path) -> None:
    result = run(tmp_path, "territories", "load", "--json")
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)
    assert first["changed"]
    stats = json.loads(run(tmp_path, "stats", "--json").stdout)
    igeo = "http://rdf.insee.fr/def/geo#"
    assert stats["classes"][igeo + "Commune"] == 34_875
    assert stats["classes"][igeo + "Intercommunalite"] == 1_253
    assert stats["classes"][igeo + "Departement"] == 101
    assert stats["classes"][igeo + "Region"] == 18
    second = json.loads(run(tmp_path, "territories", "load", "--json").stdout)
    assert not second["changed"]
    assert second["triples"] == first["triples"]
    assert json.loads(run(tmp_path, "stats", "--json").stdout) == stats
    result = run(tmp_path, "sparql", "@" + str(Path(__file__).parents[2] / "bench/queries/region_population.rq"),
                 "--format", "json")
    rows = json.loads(result.stdout)["results"]["bindings"]
    assert len(rows) == 18
    assert sum(int(r["communes"]["value"]) for r in rows) == 34_875
