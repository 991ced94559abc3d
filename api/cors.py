"""CORS by path: the public read-only SPARQL endpoint answers browsers of any origin; the rest, the configured ones.

A YASGUI page on another site must be able to query ``/sparql`` (GET or POST, preflight included), as Wikidata's
endpoint allows: ``Access-Control-Allow-Origin: *`` without credentials, so no cookie nor stored login ever
travels with such a request. Every other route, writes included, keeps the origins of
``CAPITALIS_API_CORS_ORIGINS``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.middleware.cors import CORSMiddleware

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

#: The paths open to every origin: read-only, public data, no credentials.
PUBLIC_PATHS = frozenset({"/sparql"})
METHODS = ["GET", "POST", "OPTIONS"]
HEADERS = ["Authorization", "Content-Type", "Accept"]
#: What a page may read of an answer beyond the safelisted headers (a 429's wait, a list's next page).
EXPOSED = ["Retry-After", "Link"]


class Cors:
    """ASGI middleware: the open CORS policy on :data:`PUBLIC_PATHS`, the configured origins elsewhere."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        common: dict[str, Any] = {"allow_methods": METHODS, "allow_headers": HEADERS, "expose_headers": EXPOSED}
        self.public = CORSMiddleware(app, allow_origins=["*"], max_age=86400, **common)
        self.configured = CORSMiddleware(app, allow_origins=origins, max_age=600, **common)

    async def __call__(
        self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
    ) -> None:
        public = scope["type"] == "http" and scope.get("path") in PUBLIC_PATHS
        await (self.public if public else self.configured)(scope, receive, send)
