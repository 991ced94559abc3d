"""Authentication: bearer tokens by the OAuth2 password flow, the current account, personal API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from pydantic import BaseModel, Field

from api.deps import AccountsDep, CurrentUser, SettingsDep
from api.problems import responses
from api.routes._schemas import examples

router = APIRouter(prefix="/auth", tags=["comptes"])


Username = Annotated[
    str, Form(min_length=1, max_length=64, description="Identifiant du compte.", examples=["contributrice-pessac"])
]
Password = Annotated[
    str, Form(min_length=1, max_length=1_000, description="Mot de passe.", examples=["correct-cheval-pile-agrafe"])
]
GrantType = Annotated[str | None, Form(pattern="^password$", description="« password ».", examples=["password"])]


class TokenPublic(BaseModel):
    model_config = examples(
        {"access_token": "kQ3v0yW2c8bN1xZ5rT7uP9sD4fG6hJ0lA2mE8iO1", "token_type": "bearer", "expires_in": 3600}
    )

    access_token: str = Field(description="Le jeton, à envoyer dans « Authorization: Bearer … ».")
    token_type: str = "bearer"
    expires_in: int | None = Field(description="Durée de validité en secondes (aucune : clé d'API sans expiration).")


class UserPublic(BaseModel):
    """An account as its owner sees it (never a secret)."""

    model_config = examples(
        {
            "username": "contributrice-pessac",
            "role": "contributeur",
            "collectivite": "https://w3id.org/capitalis/id/collectivite/33318",
            "created_at": "2026-12-07T05:36:38+00:00",
            "active": True,
        },
        description="Un compte tel que son titulaire le voit (jamais un secret) : identifiant, rôle, collectivité.",
    )

    username: str
    role: str
    collectivite: str | None
    created_at: str
    active: bool


@router.post("/token", response_model=TokenPublic, responses=responses(401, 429))
def auth_token(
    accounts: AccountsDep,
    settings: SettingsDep,
    username: Username,
    password: Password,
    grant_type: GrantType = None,
) -> dict[str, Any]:
    """Échange identifiant et mot de passe contre un jeton porteur (OAuth2, flux « password »)."""
    token, _ = accounts.login(username, password, settings.api_token_lifetime_min)
    return {"access_token": token, "token_type": "bearer", "expires_in": settings.api_token_lifetime_min * 60}


@router.get("/moi", response_model=UserPublic, responses=responses(401))
def auth_me(user: CurrentUser) -> dict[str, Any]:
    """Le compte du jeton présenté : identifiant, rôle, collectivité."""
    return {
        "username": user.username,
        "role": user.role,
        "collectivite": user.collectivite,
        "created_at": user.created_at,
        "active": user.active,
    }


@router.post("/cles", response_model=TokenPublic, status_code=201, responses=responses(401, 429))
def auth_api_key(user: CurrentUser, accounts: AccountsDep) -> dict[str, Any]:
    """Crée une clé d'API pour son propre compte (montrée une seule fois ; seule son empreinte est gardée)."""
    return {"access_token": accounts.api_key(user.username), "token_type": "bearer", "expires_in": None}
