"""The API application: ``create_app(settings)`` assembles the routers, the error translator, CORS, security
headers and rate limits, and opens the store, the accounts and the SPARQL workers for the app's lifetime.

Run it with ``capitalis serve`` (uvicorn). The store is opened read-write (contributions are written to it);
when another process holds it, the app opens it read-only and refuses writes with a 503.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from api.cors import Cors
from api.deps import RateLimiter
from api.guard import Guard
from api.problems import install
from api.routes import (
    acteurs,
    auth,
    collectivites,
    contributions,
    docs,
    dumps,
    experiences,
    guide,
    lieux,
    linked_data,
    parrainage,
    root,
    services,
    sparql,
    stats,
    technologies,
    territoires,
)
from contributions.accounts import open_accounts
from contributions.proposals import open_contributions
from kg.context import Context
from kg.errors import StoreError
from kg.settings import Settings
from kg.sparql import close_pool, get_pool
from parrainage.porteurs import prepare
from search import Index, MissingIndex, open_index, search, update_index

log = logging.getLogger("capitalis.api")


def _warm_up(app: FastAPI, context: Context) -> None:
    """Open the search index, build the parrainage carrier table and answer one query in the background at
    start-up, so that the first search and the first match cost what the next ones do (at 100,000 experiences
    the table takes seconds; the query loads the query encoder and the compiled loops of the query path, about
    half a second). Without an index yet, the index is built here, off the request path (a search never builds
    one). If the app stops meanwhile, the first request does the rest instead.
    What was prepared is kept on ``app.state.warm_up``."""
    try:
        index = _search_index(context)
        prepared = prepare(context, index=index)
        prepared["recherche"] = search(context, "services numériques", index=index).total
        app.state.warm_up = prepared
    except Exception as exc:  # a warm-up never stops the API
        log.info("préchauffage de la recherche et du parrainage non fait : %s", exc)
        app.state.warm_up = {}


def _search_index(context: Context) -> Index:
    """The context's search index, built from the graph when there is none yet."""
    try:
        return open_index(context)
    except MissingIndex:
        log.info("aucun index de recherche : construction au démarrage")
        update_index(context)
        return open_index(context)


def create_app(settings: Settings) -> FastAPI:
    """The Capitalis API for ``settings``: its context, accounts and SPARQL workers live as long as the app."""
    app = FastAPI(
        title="Capitalis",
        version=_version(),
        summary="Observatoire ouvert des projets numériques des collectivités territoriales.",
        description=(
            "API de Capitalis : recherche d'expériences, collectivités, acteurs, lieux, technologies, taxonomie "
            "ATLAAS, territoires, parrainage ; point d'accès SPARQL 1.1 ; données liées et exports ; contributions "
            "modérées. Les erreurs suivent la RFC 9457 (application/problem+json)."
        ),
        lifespan=_lifespan,
        generate_unique_id_function=lambda route: getattr(route, "name", None) or str(route),
        docs_url=None,  # api.routes.docs serves /docs and /redoc from installed assets (no CDN)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter()
    install(app)
    _include_routers(app)
    docs.install_openapi(app)  # the examples of the schemas kept whole (FastAPI drops their nulls)
    _add_middlewares(app, settings)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open what the routes use (context, accounts, contributions, SPARQL workers), warm up, close at the end."""
    settings: Settings = app.state.settings
    context = _open_context(settings)
    app.state.context = context
    app.state.store = context.store
    app.state.accounts = open_accounts(settings.home)
    app.state.contributions = open_contributions(settings.home)
    if context.store.path is not None:
        get_pool(context.store.path, settings.sparql_workers)  # workers start now, not at the first query
    app.state.warm_up = None
    warming = threading.Thread(target=_warm_up, args=(app, context), name="capitalis-warm-up", daemon=True)
    warming.start()
    try:
        yield
    finally:
        warming.join(60)  # it reads the store: let it finish before the store closes (and frees its lock)
        if context.store.path is not None:
            close_pool(context.store.path)
        app.state.contributions.close()
        app.state.accounts.close()
        context.close()


def _open_context(settings: Settings) -> Context:
    """The app's context on its store, read-write; read-only when another process holds the store."""
    try:
        return Context.open(settings)
    except StoreError as exc:
        log.warning("entrepôt ouvert en lecture seule (%s)", exc.message)
        return Context.open(settings, read_only=True)


#: The routers, in the order of the OpenAPI document.
ROUTERS = (
    root,
    experiences,
    collectivites,
    acteurs,
    lieux,
    technologies,
    services,
    territoires,
    stats,
    parrainage,
    sparql,
    linked_data,
    dumps,
    auth,
    contributions,
    guide,
    docs,
)


def _include_routers(app: FastAPI) -> None:
    for module in ROUTERS:
        docs.summarise(module.router.routes)  # French summaries from the docstrings
        app.include_router(module.router)


def _add_middlewares(app: FastAPI, settings: Settings) -> None:
    """CORS (every origin on the public SPARQL endpoint, the configured ones elsewhere: :mod:`api.cors`); the guard
    (rate limits, body size, headers) outermost."""
    app.add_middleware(Cors, origins=list(settings.api_cors_origins))
    app.add_middleware(Guard, settings=settings, limiter=app.state.rate_limiter, state=app.state)


def _version() -> str:
    try:
        return version("capitalis")
    except PackageNotFoundError:
        return "0"
