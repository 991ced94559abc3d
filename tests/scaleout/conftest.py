"""Capitalis past one process, with real processes: ``capitalis serve`` subprocesses, ``oxigraph serve`` as the
SPARQL server backend, readers and a writer side by side on one home.

Two session fixtures, each built once: an embedded home with the samples (:func:`embedded_home`) and a pair of
``oxigraph serve`` datasets (public and private) holding the samples, with a shared home for the search index and
the accounts (:func:`server_home`). The ``hash`` embedder (no model) keeps them quick.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from contributions.accounts import open_accounts
from ingest.samples import import_samples, load_referential_subset
from kg.context import Context
from kg.settings import Settings
from search import update_index
from tests.api.conftest import PASSWORD, build_home
from tests.utils.servers import OxigraphServer, free_port, start_oxigraph

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Home:
    """A home with the samples: its settings, and the API keys of its accounts by role."""

    settings: Settings
    keys: dict[str, str] = field(default_factory=dict)
    servers: list[OxigraphServer] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """The ``CAPITALIS_*`` environment of a subprocess on this home."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAPITALIS_")}
        env.update(CAPITALIS_HOME=str(self.settings.home), CAPITALIS_EMBEDDER="hash", CAPITALIS_SPARQL_TIMEOUT_S="3")
        env.update(CAPITALIS_API_RATE_WRITE_PER_MIN="100000", CAPITALIS_API_RATE_SPARQL_PER_MIN="100000")
        if self.settings.store:
            env["CAPITALIS_STORE"] = self.settings.store
            env["CAPITALIS_STORE_PRIVE"] = self.settings.store_prive or ""
        return env


def _accounts(home: Home, collectivite: str) -> None:
    accounts = open_accounts(home.settings.home)
    try:
        for role in ("contributeur", "moderateur"):
            name = f"{role}-scaleout"
            accounts.add_user(
                name, role, password=PASSWORD, collectivite=collectivite if role == "contributeur" else None
            )
            home.keys[role] = accounts.api_key(name)
    finally:
        accounts.close()


@pytest.fixture(scope="session")
def embedded_home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """An embedded store with the samples, its index and accounts (nothing holds it open)."""
    home = Home(Settings(home=tmp_path_factory.mktemp("embedded") / "home", embedder="hash"))
    _accounts(home, build_home(home.settings.home))
    return home


@pytest.fixture(scope="session")
def server_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    """Two ``oxigraph serve`` (public graphs, private graphs: 2 s server timeout) with the samples imported through
    the server backend, and a home for the search index and the accounts."""
    root = tmp_path_factory.mktemp("server")
    public = start_oxigraph(root / "public", timeout_s=2)
    private = start_oxigraph(root / "prive")
    settings = Settings(
        home=root / "home", store=public.url, store_prive=private.url, embedder="hash", sparql_timeout_s=2,
        sparql_max_results=500,
    )
    home = Home(settings, servers=[public, private])
    try:
        with Context.open(settings) as context:
            import_samples(context.store)
            load_referential_subset(context.store)
            update_index(context)
            rows = context.store.select(
                """SELECT ?c (COUNT(?e) AS ?n) WHERE { GRAPH ?g { ?e <https://w3id.org/capitalis/ontology#porteur> ?c }
                   GRAPH ?h { ?c a <https://w3id.org/capitalis/ontology#Commune> } } GROUP BY ?c ORDER BY DESC(?n) ?c
                   LIMIT 1"""
            )
        _accounts(home, str(rows[0]["c"]))
        yield home
    finally:
        for server in (public, private):
            server.stop()


@dataclass
class Serve:
    """One ``capitalis serve`` subprocess."""

    url: str
    process: subprocess.Popen[bytes]

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_serve(home: Home, log: Path) -> Serve:
    """Start ``capitalis serve`` on a free port; wait until its search is warm (``/experiences`` answers 200)."""
    port = free_port()
    command = [sys.executable, "-m", "capitalis.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    out = open(log, "wb")  # noqa: SIM115 (kept open for the process)
    process = subprocess.Popen(command, env=home.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    serve = Serve(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{serve.url}/experiences", params={"limit": 1}, timeout=10).status_code == 200:
                return serve
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            serve.stop()
            raise RuntimeError(f"capitalis serve n'a pas démarré : {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
