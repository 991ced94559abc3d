"""What the routes depend on: the settings, the store, the search index, the accounts, the current user.

The app opens each of them once (``api.main``'s lifespan) and keeps them on ``app.state``; the routes
receive them through these ``Annotated`` dependencies, never through globals.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer

from contributions.accounts import Accounts, Unauthorized, User
from contributions.proposals import Contributions
from kg.context import Context
from kg.errors import StoreError
from kg.settings import Settings
from kg.store import OxigraphStore
from search import Index, open_index


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> OxigraphStore:
    return request.app.state.store


def get_context(request: Request) -> Context:
    """The app's context (settings, store, domain caches), built once by the lifespan."""
    return request.app.state.context


def get_writable_store(request: Request) -> OxigraphStore:
    """The store, when this process holds it read-write (else 503: another process is writing)."""
    store = request.app.state.store
    if store.read_only:
        raise StoreError("l'entrepôt est ouvert en lecture seule par ce serveur (un autre processus l'écrit)")
    return store


def get_index(request: Request) -> Index:
    """The search index of the app's context (reloaded when rebuilt); 503 (:class:`MissingIndex`) without one."""
    return open_index(request.app.state.context)


def get_accounts(request: Request) -> Accounts:
    return request.app.state.accounts


def get_contributions(request: Request) -> Contributions:
    return request.app.state.contributions


SettingsDep = Annotated[Settings, Depends(get_settings)]
ContextDep = Annotated[Context, Depends(get_context)]
StoreDep = Annotated[OxigraphStore, Depends(get_store)]
WritableStoreDep = Annotated[OxigraphStore, Depends(get_writable_store)]
SearchDep = Annotated[Index, Depends(get_index)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]
ContributionsDep = Annotated[Contributions, Depends(get_contributions)]

oauth2 = OAuth2PasswordBearer(
    tokenUrl="auth/token",
    auto_error=False,
    description="Jeton obtenu par /auth/token (mot de passe) ou clé d'API (`capitalis users add --api-key`).",
)


def current_user(accounts: AccountsDep, token: Annotated[str | None, Depends(oauth2)] = None) -> User:
    """The account behind the bearer token; 401 without one."""
    if not token:
        raise Unauthorized("jeton requis : en-tête « Authorization: Bearer <jeton> »")
    return accounts.authenticate(token)


CurrentUser = Annotated[User, Depends(current_user)]


def role(*roles: str) -> Any:
    """A dependency that returns the current user when it has one of ``roles`` (403 otherwise)."""

    def check(user: CurrentUser) -> User:
        user.require(*roles)
        return user

    return Depends(check)


Contributeur = Annotated[User, role("contributeur")]
Moderateur = Annotated[User, role("moderateur")]

#: Where the guard leaves the client's identity in the ASGI scope's state, for :func:`client_id`.
CLIENT_KEY = "capitalis_client"


def identify(accounts: Accounts | None, authorization: bytes, address: str) -> tuple[str, bool]:
    """The client's key and whether its bearer token, if any, is valid: ``u:<account id>`` for a token that names
    an active account, else ``ip:<address>`` (anonymous, or a token unknown, expired or revoked)."""
    anonymous = "ip:" + address
    if not authorization.lower().startswith(b"bearer "):
        return anonymous, True
    if accounts is None:  # before the lifespan opened the accounts
        return anonymous, False
    try:
        user = accounts.authenticate(authorization[7:].strip().decode("latin-1"))
    except Unauthorized:
        return anonymous, False
    return f"u:{user.id}", True


Limit = Annotated[
    int,
    Query(
        ge=1,
        le=100,
        description="Nombre d'éléments par page (1 à 100).",
        openapi_examples={"dix": {"summary": "Dix par page", "value": 10}},
    ),
]
Offset = Annotated[
    int,
    Query(
        ge=0,
        le=1_000_000,
        description="Éléments à sauter (pagination).",
        openapi_examples={"page_2": {"summary": "La deuxième page de dix", "value": 10}},
    ),
]


def client_id(request: Request) -> str:
    """Who sends the request, as :class:`api.guard.Guard` identified it: ``u:<account id>`` for a valid bearer
    token, else ``ip:<address>`` (the key of the rate limits and of the SPARQL workers' fair share)."""
    known = request.scope.get("state", {}).get(CLIENT_KEY)
    return known or "ip:" + (request.client.host if request.client else "?")


ClientDep = Annotated[str, Depends(client_id)]


class RateLimiter:
    """Sliding one-minute windows per (bucket, client): enough for one process; a proxy does it past that.

    ``client`` is a verified identity (:func:`identify`): a token that names no account buys no window of its
    own, so rotating made-up tokens does not escape the limit.
    """

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str, client: str, per_minute: int) -> int | None:
        """Count one request; ``None`` when allowed, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            window = self._hits.setdefault((bucket, client), deque())
            while window and window[0] <= now - 60:
                window.popleft()
            if len(window) >= per_minute:
                return max(1, int(60 - (now - window[0])) + 1)
            window.append(now)
            if len(self._hits) > 100_000:  # forget idle clients
                for key in [k for k, w in self._hits.items() if not w or w[-1] <= now - 60]:
                    del self._hits[key]
        return None
