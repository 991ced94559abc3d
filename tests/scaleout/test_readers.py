"""Readers beside a writer on one embedded home: the read commands work while ``capitalis serve`` holds the
store, and readers querying while a writer commits never see a torn or failing state (they open the writer's
snapshots, never the live databases)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capitalis.cli import app
from kg.errors import StoreError
from kg.store import open_store, store_generation
from tests.scaleout.conftest import ROOT, Home, start_serve

CAP = "https://w3id.org/capitalis/ontology#"


def test_read_commands_work_while_serve_runs(embedded_home: Home, tmp_path: Path) -> None:
    home = embedded_home.settings.home
    serve = start_serve(embedded_home, tmp_path / "serve.log")
    try:
        with pytest.raises(StoreError, match="déjà ouvert en écriture"):
            open_store(home / "store")  # serve is the writer: the lock is really taken
        runner = CliRunner()
        env = {"CAPITALIS_EMBEDDER": "hash"}

        def run(*args: str) -> str:
            result = runner.invoke(app, ["--home", str(home), *args], env=env)
            assert result.exit_code == 0, (args, result.output, result.exception)
            return result.stdout

        count = json.loads(run("sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "--format", "json"))
        assert int(count["results"]["bindings"][0]["n"]["value"]) > 1000
        experience = json.loads(run("list", "experiences", "--json").splitlines()[0])["iri"]
        assert json.loads(run("show", experience, "--json"))["iri"] == experience
        assert json.loads(run("stats", "--json"))["graphs"]
        run("export", str(tmp_path / "public.nq"))
        assert (tmp_path / "public.nq").stat().st_size > 10_000
        validated = runner.invoke(app, ["--home", str(home), "validate", "--json"], env=env)
        assert validated.exit_code in (0, 1) and json.loads(validated.stdout)["triples"] > 1000, validated.output
        assert isinstance(json.loads(run("resolution", "review", "--json")), list)
        assert json.loads(run("search", "portail famille", "--json"))["results"]
        # and a write through the API reaches the readers: a contribution accepted, then seen by `capitalis sparql`
        with serve.client(embedded_home.keys["contributeur"]) as contributor:
            proposed = contributor.post("/contributions", json=_NEW)
            assert proposed.status_code == 201, proposed.text
        with serve.client(embedded_home.keys["moderateur"]) as moderator:
            accepted = moderator.post(f"/contributions/{proposed.json()['id']}/acceptation")
            assert accepted.status_code == 200, accepted.text
        target = accepted.json()["cible"]
        deadline = time.monotonic() + 10  # the writer publishes its snapshot within a second or so
        while True:
            answer = json.loads(run("sparql", f"ASK {{ GRAPH ?g {{ <{target}> ?p ?o }} }}", "--format", "json"))
            if answer["boolean"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert answer["boolean"]
    finally:
        serve.stop()
    assert serve.process.returncode is not None


_NEW = {
    "type": "experience",
    "titre": "Une borne de prêt de livres connectée",
    "synthese": "La médiathèque prête des livres sans guichet, par une borne en libre-service.",
    "services": ["S12"],
    "technologies": ["Wordpress"],
    "justification": "Inaugurée au printemps.",
}

_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from rdflib import Literal, URIRef
    from kg.store import open_store
    path, rounds = Path(sys.argv[1]), int(sys.argv[2])
    graphs = ["https://w3id.org/capitalis/graph/test-a", "https://w3id.org/capitalis/graph/test-b"]
    with open_store(path) as store:
        for version in range(1, rounds + 1):
            staged = store.staging(graphs)
            for g in graphs:  # every triple of both graphs carries the version: a mix would show
                staged.replace_graph(g, [(URIRef(f"{g}/s{i}"), URIRef("urn:p"), Literal(version)) for i in range(300)])
            store.commit(staged, graphs)
            store.load([(URIRef(f"urn:bulk/{version}/{i}"), URIRef("urn:p"), Literal(i)) for i in range(500)],
                       "https://w3id.org/capitalis/graph/test-bulk")
            time.sleep(0.02)
        print("done", flush=True)
    """
)


def test_readers_never_see_a_torn_state_while_a_writer_commits(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with open_store(path):
        pass  # an empty store: its first snapshot
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), "40"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    seen: list[int] = []
    failures: list[str] = []
    query = """SELECT ?g (COUNT(*) AS ?n) (MIN(?v) AS ?low) (MAX(?v) AS ?high) WHERE { GRAPH ?g { ?s <urn:p> ?v }
               FILTER(?g IN (<https://w3id.org/capitalis/graph/test-a>, <https://w3id.org/capitalis/graph/test-b>)) }
               GROUP BY ?g"""

    def read() -> None:
        last = 0
        while writer.poll() is None:
            try:
                with open_store(path, read_only=True) as store:
                    rows = store.select(query)
                    bulk = store.select(
                        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/capitalis/graph/test-bulk> "
                        "{ ?s ?p ?o } }"
                    )
            except Exception as exc:  # any failure of a reader is what this test looks for
                failures.append(f"{type(exc).__name__}: {exc}")
                continue
            versions = {(int(r["n"]), int(r["low"]), int(r["high"])) for r in rows}
            if rows:
                if len(rows) != 2 or len(versions) != 1:
                    failures.append(f"état déchiré : {rows}")
                    continue
                n, low, high = versions.pop()
                if n != 300 or low != high or low < last:
                    failures.append(f"état incohérent : {n} triplets, versions {low}-{high} après {last}")
                if int(bulk[0]["n"]) % 500:
                    failures.append(f"chargement partiel : {bulk[0]['n']} triplets")
                last = low
                seen.append(low)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(120)
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0 and out.strip() == b"done", err.decode()[-2000:]
    assert not failures, failures[:5]
    assert len(set(seen)) >= 3, seen  # the readers followed the writer
    with open_store(path, read_only=True) as store:  # the writer closed: its last commit is published
        assert store.generation == store_generation(path)
        assert {int(r["low"]) for r in store.select(query)} == {40}
