"""The ASGI guard in front of every route: rate limits (writes, /sparql), request body size, security headers.

It runs outermost (``api.main._add_middlewares``), before routing, so that a refusal costs no parsing and every
response, a refusal included, carries the same security headers.

- Rate limits key on a verified identity (:func:`api.deps.identify`): the account behind a valid bearer token,
  else the client's address. A made-up token buys no bucket of its own. On ``/sparql`` an invalid token is a
  401: a client that sends credentials wants them used, and silently demoting it to anonymous would hide an
  expired key behind a smaller share; the 401 is counted in the address's bucket first, so a flood of made-up
  tokens ends in 429 too. Elsewhere an invalid token counts in the address's bucket and the route answers 401.
- The body size is counted as the body arrives (``receive`` is wrapped), not only from ``Content-Length``: a
  chunked body past :data:`MAX_BODY` gets its 413 at once, and the route never reads the rest.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import State

from api.deps import CLIENT_KEY, RateLimiter, identify
from api.problems import PROBLEM_TYPE
from api.routes import docs, guide
from kg.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_BODY = 1_000_000
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"geolocation=(), camera=(), microphone=()"),
    (b"strict-transport-security", b"max-age=31536000"),
]
_CSP_API = b"default-src 'none'; frame-ancestors 'none'"
_NO_STORE = ("/auth", "/contributions")


class Guard:
    """ASGI middleware: rate limits (writes, /sparql), body size, security headers on every response."""

    def __init__(self, app: ASGIApp, settings: Settings, limiter: RateLimiter, state: State) -> None:
        self.app = app
        self.settings = settings
        self.limiter = limiter
        self.state = state  # the app's state: the accounts, once the lifespan opened them

    async def __call__(
        self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method", "GET")
        headers = dict(scope.get("headers") or [])
        refusal = self._refusal(path, method, headers, scope)
        if refusal is not None:
            status, body, extra = refusal
            await self._send_problem(send, status, body, extra, path)
            return
        if path in docs.PAGES:
            csp = docs.CSP
        elif path == "/guide" or path.startswith("/guide/"):
            csp = guide.CSP
        else:
            csp = _CSP_API

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers") or [])
                raw += _SECURITY_HEADERS
                raw.append((b"content-security-policy", csp))
                if path.startswith(_NO_STORE):
                    raw.append((b"cache-control", b"no-store"))
                message["headers"] = raw
            await send(message)

        received = 0
        refused = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > MAX_BODY:
                    refused = True
                    if not started:
                        body = {"title": "Requête trop volumineuse", "detail": f"corps de plus de {MAX_BODY} octets"}
                        await self._send_problem(send, 413, body, [(b"connection", b"close")], path)
                    return {"type": "http.disconnect"}  # the route stops reading: nothing more is parsed
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:  # the 413 went out: what the route answers after its read failed is dropped
                return
            started = True
            await send_with_headers(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    def _refusal(
        self, path: str, method: str, headers: dict[bytes, bytes], scope: Scope
    ) -> tuple[int, dict[str, Any], list[tuple[bytes, bytes]]] | None:
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY:
            return 413, {"title": "Requête trop volumineuse", "detail": f"corps de plus de {MAX_BODY} octets"}, []
        if method == "OPTIONS":
            return None
        if path == "/sparql":
            bucket, limit = "sparql", self.settings.api_rate_sparql_per_min
        elif method in WRITE_METHODS:
            bucket, limit = "write", self.settings.api_rate_write_per_min
        else:
            return None
        address = str((scope.get("client") or ("?", 0))[0])
        client, valid = identify(getattr(self.state, "accounts", None), headers.get(b"authorization", b""), address)
        scope.setdefault("state", {})[CLIENT_KEY] = client
        wait = self.limiter.hit(bucket, client, limit)
        if wait is None:
            if not valid and bucket == "sparql":
                detail = "jeton invalide, expiré ou révoqué : retirez-le ou renouvelez-le"
                body = {"title": "Non authentifié", "detail": detail}
                return 401, body, [(b"www-authenticate", b"Bearer")]
            return None
        what = "requêtes SPARQL" if bucket == "sparql" else "écritures"
        body = {"title": "Trop de requêtes", "detail": f"plus de {limit} {what} par minute : réessayez dans {wait} s"}
        return 429, body, [(b"retry-after", str(wait).encode())]

    @staticmethod
    async def _send_problem(
        send: Callable[[Message], Awaitable[None]],
        status: int,
        body: dict[str, Any],
        extra: list[tuple[bytes, bytes]],
        path: str,
    ) -> None:
        payload = json.dumps({"type": "about:blank", "status": status, "instance": path, **body}, ensure_ascii=False)
        data = payload.encode()
        headers = [
            (b"content-type", PROBLEM_TYPE.encode()),
            (b"content-length", str(len(data)).encode()),
            *extra,
            *_SECURITY_HEADERS,
            (b"content-security-policy", _CSP_API),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})
