"""Cached access to the knowledge graph for the explorer's pages: thin wrappers over the domain functions.

This is the explorer's root: it builds its own :class:`~kg.context.Context` from the environment (``capitalis
explore`` passes ``CAPITALIS_HOME``), on the store opened READ-ONLY, and caches it with ``st.cache_resource``. On
the embedded store a reader opens the writer's latest snapshot (the API or an import may be writing: see
:class:`kg.store.OxigraphStore`), so the context is keyed by the snapshot's generation (and a signature of the
store directory) and reopened when a writer published a newer one. On a SPARQL server (``CAPITALIS_STORE``) the
context stays open and answers are kept :data:`SERVER_TTL_S` seconds. Results are cached with ``st.cache_data``
under the same signature, so a new import or a recorded parrainage shows up at the next rerun.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from importlib import import_module
from pathlib import Path
from typing import Any

import streamlit as st

from kg.context import Context
from kg.errors import CapitalisError, Forbidden, InvalidInput, StoreError
from kg.settings import Settings
from kg.sparql import run_public_query, store_signature
from kg.store import Store
from parrainage import lifecycle as parrainage
from search import Filters
from territoires.collectivites import find_collectivites, point_of_collectivite

QUERIES_DIR = Path(__file__).resolve().parent / "queries"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"
_TTL = 3600
#: On a SPARQL server no file tells when the graph changed: cached answers live this long.
SERVER_TTL_S = 30


def settings() -> Settings:
    """The explorer's settings, from the environment (``CAPITALIS_*``, ``.env``): cheap, read at each rerun."""
    return Settings()


def store_path() -> Path:
    return settings().store_path


def signature() -> str:
    """The state of the store the answers come from: the snapshot generation and files of the embedded store
    (they change with every commit of a writer), or a time slot of :data:`SERVER_TTL_S` on a SPARQL server."""
    current = settings()
    if current.store:
        return f"{current.store}@{int(time.time() // SERVER_TTL_S)}"
    path = current.store_path
    return str(hash((str(path), store_signature(path))))


def _context_key(sig: str) -> str:
    """What the context is reopened on: the store state (embedded), never (a server: the connection stays)."""
    return "serveur" if settings().store else sig


@st.cache_resource(max_entries=1, show_spinner=False)
def _open(settings_json: str, sig: str) -> Context:
    """The read-only context for one state of the store (``sig``); the previous one is dropped."""
    del sig
    current = Settings.model_validate_json(settings_json)
    if not current.store and not (current.store_path / "public").is_dir():
        raise StoreError(
            f"aucun entrepôt dans {current.store_path} : chargez les données avec `capitalis territories load` "
            "puis `capitalis ingest all data/samples` (ou `make demo`)"
        )
    return Context.open(current, read_only=True)


def context() -> Context:
    """The explorer's context (settings, store opened read-only, domain caches), reopened when a writer changed
    the store."""
    return _open(settings().model_dump_json(), _context_key(signature()))


def store() -> Store:
    """The store, opened read-only, reopened when a writer changed it."""
    return context().store


def refresh() -> None:
    """Forget every cached answer and handle (after a write by this process)."""
    st.cache_data.clear()
    st.cache_resource.clear()


# --- one cache for every kg call ---------------------------------------------------------------------------


def _kg(name: str) -> Any:
    """The domain function behind a cached call (imported by name: a page loads only what it uses)."""
    module, _, func = name.rpartition(".")
    return getattr(import_module(module), func)


@st.cache_data(ttl=_TTL, max_entries=2000, show_spinner=False)
def _call(
    name: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...], sig: str, *, with_context: bool = False
) -> Any:
    """``<name>(store or context, *args, **kwargs)`` cached per store state ``sig`` (kept in the key, not used)."""
    del sig
    first = context() if with_context else store()
    return _kg(name)(first, *args, **dict(kwargs))


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``<package>.<module>.<function>(store, …)``, cached until the store changes."""
    return _call(name, args, tuple(sorted(kwargs.items())), signature())


def call_with_context(name: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``<package>.<module>.<function>(context, …)`` (a domain function that takes the explorer's
    :class:`~kg.context.Context`), cached until the store changes."""
    return _call(name, args, tuple(sorted(kwargs.items())), signature(), with_context=True)


# --- fiches ----------------------------------------------------------------------------------------------


def fiche(iri: str) -> Any:
    return call("fiches.fiche.fiche", iri)


def neighbourhood(iri: str, limit: int = 60) -> Any:
    return call("fiches.fiche.neighbourhood", iri, limit)


def find(text: str, kind: str | None = None, limit: int = 20) -> list[dict[str, str]]:
    return call("fiches.fiche.find", text, kind, limit)


def similar(iri: str, limit: int = 5) -> Any:
    return call_with_context("search.similar", iri, limit)


# --- search ----------------------------------------------------------------------------------------------


def search(query: str, filters: Any, limit: int = 10, offset: int = 0) -> Any:
    """:func:`search.search`; ``filters`` is a :class:`search.Filters` (sent to the cache as JSON)."""
    return call_with_context("search.search", query, filters, limit, offset)


def points() -> dict[str, tuple[float, float]]:
    return call("territoires.carte.points")


def taxonomy_labels() -> dict[str, str]:
    return call("fiches.dashboard.taxonomy_labels")


def region_names() -> dict[str, str]:
    return {r["code"]: r["nom"] for r in call("fiches.dashboard.regions")}


def departement_names() -> dict[str, str]:
    return {d["code"]: d["nom"] for d in call("fiches.dashboard.departements")}


# --- home ----------------------------------------------------------------------------------------------


def latest(limit: int = 5) -> Any:
    """The newest experiences (the answer of an empty search is ordered newest first)."""
    return search("", Filters(), limit, 0)


def figures() -> dict[str, int]:
    """The observatory in four figures: experiences, carriers' régions, technologies, mediation places."""
    overview = call_with_context("fiches.dashboard.overview")
    facets = overview["facets"]
    return {
        "experiences": overview["total"],
        "regions": len(facets.get("region", {})),
        "technologies": len(facets.get("technologie", {})),
        "lieux": sum(x["lieux"] for x in call("fiches.dashboard.epn_per_departement")),
    }


# --- dashboard -------------------------------------------------------------------------------------------


def dashboard() -> dict[str, Any]:
    """Every indicator of the dashboard."""
    return {
        "overview": call_with_context("fiches.dashboard.overview"),
        "axe": call_with_context("fiches.dashboard.per_year", "axe"),
        "enjeu": call_with_context("fiches.dashboard.per_year", "enjeu"),
        "regions": call_with_context("fiches.dashboard.per_region"),
        "tailles": call_with_context("fiches.dashboard.per_taille"),
        "technologies": call_with_context("fiches.dashboard.top_technologies", 15),
        "epn": call("fiches.dashboard.epn_per_departement"),
    }


@st.cache_data(show_spinner=False)
def shapes(name: str) -> dict[str, Any]:
    """The simplified outlines of the départements or régions (``explorer/assets``, built by a tool)."""
    return json.loads((ASSETS_DIR / f"{name}.geojson").read_text(encoding="utf-8"))


# --- SPARQL ----------------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False)
def examples() -> list[dict[str, str]]:
    """The documented example queries of ``explorer/queries/*.rq`` (title and question in the header)."""
    out = []
    for path in sorted(QUERIES_DIR.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        meta = {"id": path.stem, "titre": path.stem, "question": "", "query": text}
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            key, _, value = line.lstrip("# ").partition(":")
            if key.strip().lower() == "titre":
                meta["titre"] = value.strip()
            elif key.strip().lower() == "question":
                meta["question"] = value.strip()
        out.append(meta)
    return out


def sparql(query: str, fmt: str = "json") -> tuple[str, bytes]:
    """``kg.sparql.run_public_query``: (kind, serialised body); not cached (the console is for live data)."""
    current = context()
    result = run_public_query(current.store, query, fmt, settings=current.settings)
    return result.kind, result.body


# --- parrainage ------------------------------------------------------------------------------------------


def match(
    collectivite: str,
    besoin: str | None = None,
    services: tuple[str, ...] = (),
    limit: int = 10,
    rayon_km: float | None = None,
) -> Any:
    return call_with_context(
        "parrainage.matching.match",
        collectivite,
        besoin=besoin or None,
        services=list(services) or None,
        limit=limit,
        rayon_km=rayon_km,
    )


def grappes(departement: str, **kwargs: Any) -> Any:
    return call_with_context("parrainage.grappes.grappes", departement, **kwargs)


def collectivites(text: str, limit: int = 20) -> list[dict[str, str]]:
    """Any collectivity of the COG by name or code (for choosing a filleul)."""
    return find_collectivites(text, limit)


def point_of(code: str) -> tuple[float, float] | None:
    return point_of_collectivite(code)


def parrainages() -> list[dict[str, Any]]:
    return call("parrainage.lifecycle.lister")


def propose(
    parrain: str,
    filleuls: list[str],
    services: list[str],
    besoin: str | None,
    note: str | None,
    experiences: list[str],
    score: float | None,
) -> str:
    """Record a proposed parrainage; returns its IRI.

    The explorer reads through a read-only handle, so the write goes through a short-lived read-write open
    of the store when no other process holds its lock; when one does (the API serving the same store), it
    goes through the API (``CAPITALIS_API_URL``, with the contributor key ``CAPITALIS_API_KEY``).
    """
    current = settings()
    try:
        writer = Context.open(current)
    except StoreError as locked:
        if not current.api_url:
            raise StoreError(
                "l'entrepôt est ouvert en écriture par un autre processus (l'API ?) : indiquez l'adresse de l'API "
                "(CAPITALIS_API_URL) et une clé de contributeur (CAPITALIS_API_KEY) pour enregistrer par elle"
            ) from locked
        iri = _propose_through_api(
            current.api_url, current.api_key, parrain, filleuls, services, besoin, note, experiences, score
        )
    else:
        with writer:
            iri = parrainage.proposer(
                writer.store, parrain, filleuls, services, besoin, note, experiences=experiences, score=score
            )
    refresh()
    return iri


def _propose_through_api(
    api_url: str,
    api_key: str | None,
    parrain: str,
    filleuls: list[str],
    services: list[str],
    besoin: str | None,
    note: str | None,
    experiences: list[str],
    score: float | None,
) -> str:
    """POST /parrainages on the API; its problem+json errors become the same French errors."""
    body = json.dumps(
        {
            "parrain": parrain,
            "filleuls": filleuls,
            "services": services,
            "besoin": besoin,
            "note": note,
            "experiences": experiences,
            "score": score,
        }
    ).encode()
    request = urllib.request.Request(
        f"{api_url.rstrip('/')}/parrainages",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return json.loads(response.read())["iri"]
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("detail", "")
        except (ValueError, AttributeError):
            detail = ""
        error = {401: Forbidden, 403: Forbidden, 422: InvalidInput}.get(exc.code, CapitalisError)
        raise error(f"l'API a refusé le parrainage ({exc.code}) : {detail or exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise StoreError(f"l'API {api_url} ne répond pas : {exc}") from None
