"""The command line around the API: `capitalis serve` in its own process, `capitalis sparql` under the timeout."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from rdflib import Literal, URIRef
from typer.testing import CliRunner

from tests.api.conftest import Api, embedded_only, free_port


def test_cli_sparql_runaway_query_is_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from capitalis.cli import app
    from kg.sparql import close_pool
    from kg.store import open_store

    with open_store(tmp_path / "store") as store:
        store.load(
            ((URIRef(f"http://x/{i}"), URIRef("http://x/p"), Literal(i)) for i in range(2_000)),
            "https://w3id.org/capitalis/graph/oten",
        )
    monkeypatch.setenv("CAPITALIS_SPARQL_TIMEOUT_S", "2")
    runner = CliRunner()
    ok = runner.invoke(
        app, ["--home", str(tmp_path), "sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "-f", "csv"]
    )
    assert ok.exit_code == 0 and "2000" in ok.stdout
    started = time.monotonic()
    cut = runner.invoke(
        app, ["--home", str(tmp_path), "sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"]
    )
    assert cut.exit_code == 2 and "durée maximale de 2 s" in cut.output
    assert time.monotonic() - started < 10
    close_pool(tmp_path / "store")


@embedded_only(
    "the read-only fallback is the embedded store's single-writer lock; on a SPARQL server every replica writes "
    "(two replicas on one server: tests/scaleout/test_server_backend.py)"
)
def test_serve_command_falls_back_to_read_only(api: Api) -> None:
    """A second `capitalis serve` on a store another process writes: reads work, writes get a 503."""
    port = free_port()
    env = {**os.environ, "CAPITALIS_EMBEDDER": "hash", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [
        sys.executable,
        "-c",
        "from capitalis.cli import main; main()",
    ]
    process = subprocess.Popen(
        [*command, "--home", str(api.home), "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"{url}/experiences", params={"limit": 1}, timeout=10)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "capitalis serve n'a pas démarré"
                time.sleep(0.2)
        assert response.status_code == 200 and response.json()["total"] > 0
        pending = httpx.post(
            f"{api.url}/contributions",
            json={
                "type": "correction",
                "cible": response.json()["results"][0]["iri"],
                "champ": "lien",
                "valeur": "https://lecture-seule.example",
            },
            headers={"Authorization": f"Bearer {api.keys['contributeur']}"},
        ).json()
        refused = httpx.post(
            f"{url}/contributions/{pending['id']}/acceptation",
            headers={"Authorization": f"Bearer {api.keys['moderateur']}"},
            timeout=10,
        )
        assert refused.status_code == 503 and "lecture seule" in refused.json()["detail"]
        assert httpx.get(f"{url}/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30).json()["boolean"] is True
    finally:
        process.terminate()
        process.wait(20)
