"""A real API over a real store: the samples imported once per session, served by uvicorn on a free port.

The store holds the Villes Internet, OTeN and NetPublic samples and the territories they name (the whole
referential takes half a minute), a search index built with the ``hash`` embedder (no model), and three
accounts (contributeur, moderateur, admin). Tests talk to it over HTTP, as any client would.

``CAPITALIS_TEST_BACKEND=server`` runs the same suite on the SPARQL server backend: two ``oxigraph serve``
(public, private) hold the samples, imported through the backend; the home keeps the index and the accounts.
The few tests about the embedded store alone are marked :func:`embedded_only` and skip there.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn

from kg.settings import Settings
from tests.utils.servers import OxigraphServer, start_oxigraph

CAP = "https://w3id.org/capitalis/ontology#"
ID = "https://w3id.org/capitalis/id/"
PASSWORD = "mot-de-passe-de-test"


def server_backend() -> bool:
    """Whether this run serves the API on the SPARQL server backend (``CAPITALIS_TEST_BACKEND=server``)."""
    return os.environ.get("CAPITALIS_TEST_BACKEND", "embedded").strip().lower() == "server"


def embedded_only(reason: str) -> pytest.MarkDecorator:
    """Skip on the server backend: ``reason`` says what of the embedded store alone the test checks."""
    return pytest.mark.skipif(server_backend(), reason=f"embedded backend only: {reason}")


@dataclass
class Api:
    """What the tests need to know about the running server."""

    url: str
    home: Path
    settings: Settings
    app: object
    keys: dict[str, str] = field(default_factory=dict)  # role → API key
    collectivite: str = ""  # the contributeur's collectivity (it carries experiences)

    def client(self, role: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_home(home: Path, settings: Settings | None = None) -> str:
    """Import the samples and a referential subset into ``home`` (or the store ``settings`` name), build the index;
    return a carrier's IRI."""
    from ingest.samples import import_samples, load_referential_subset
    from kg.context import Context
    from search import update_index

    with Context.open(settings or Settings(home=home, embedder="hash")) as context:
        store = context.store
        import_samples(store)
        load_referential_subset(store)
        update_index(context)
        rows = store.select(
            f"""SELECT ?c (COUNT(?e) AS ?n) WHERE {{ GRAPH ?g {{ ?e <{CAP}porteur> ?c }}
                GRAPH ?h {{ ?c a <{CAP}Commune> }} }} GROUP BY ?c ORDER BY DESC(?n) ?c LIMIT 1"""
        )
        return str(rows[0]["c"])


def serve(app: object, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    """Start uvicorn in a thread and wait until it accepts connections."""
    from capitalis.commands.serve import H11_MAX_HEAD

    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        h11_max_incomplete_event_size=H11_MAX_HEAD,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name=f"uvicorn-{port}")
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("le serveur de test n'a pas démarré")
        time.sleep(0.05)
    return server, thread


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The session's API server (generous rate limits; a 3 s SPARQL timeout), on the backend the run selects."""
    root = tmp_path_factory.mktemp("api")
    home = root / "home"
    stores: dict[str, str] = {}
    servers: list[OxigraphServer] = []
    if server_backend():
        servers = [start_oxigraph(root / "public", timeout_s=3), start_oxigraph(root / "prive")]
        stores = {"store": servers[0].url, "store_prive": servers[1].url}
    try:
        yield from _serve_api(home, stores)
    finally:
        for server in servers:
            server.stop()


def _serve_api(home: Path, stores: dict[str, str]) -> Iterator[Api]:
    from api.main import create_app
    from contributions.accounts import open_accounts

    collectivite = build_home(home, Settings(home=home, embedder="hash", **stores) if stores else None)
    accounts = open_accounts(home)
    keys = {}
    for role in ("contributeur", "moderateur", "admin"):
        accounts.add_user(
            f"{role}-test", role, password=PASSWORD, collectivite=collectivite if role == "contributeur" else None
        )
        keys[role] = accounts.api_key(f"{role}-test")
    accounts.add_user("autre-contributeur", "contributeur", password=PASSWORD, collectivite=collectivite)
    keys["autre"] = accounts.api_key("autre-contributeur")
    accounts.close()
    settings = Settings(
        home=home,
        embedder="hash",
        sparql_timeout_s=3,
        sparql_workers=2,
        api_rate_write_per_min=100_000,
        api_rate_sparql_per_min=100_000,
        explorer_url="http://explorateur.example",
        **stores,
    )
    app = create_app(settings)
    port = free_port()
    server, thread = serve(app, port)
    try:
        yield Api(f"http://127.0.0.1:{port}", home, settings, app, keys, collectivite)
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="session")
def http(api: Api) -> Iterator[httpx.Client]:
    with api.client() as client:
        yield client


@pytest.fixture
def keep_settings() -> None:
    """Nothing to restore any more: the command line builds its own settings and changes no process state.

    Kept for the tests that still ask for it; remove it with them."""
