"""The API's front door: what it is and where to go."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

router = APIRouter(tags=["accueil"])


class RootPublic(BaseModel):
    nom: str
    version: str
    description: str
    liens: dict[str, str]


@router.get("/", response_model=RootPublic)
def root(request: Request) -> dict[str, Any]:
    """Présentation de l'API et liens vers la documentation, le point d'accès SPARQL et les exports."""
    base = str(request.base_url).rstrip("/")
    return {
        "nom": "Capitalis",
        "version": request.app.version,
        "description": "Observatoire ouvert des projets numériques des collectivités territoriales.",
        "liens": {
            "documentation": f"{base}/docs",
            "openapi": f"{base}/openapi.json",
            "sparql": f"{base}/sparql",
            "exports": f"{base}/dumps",
            "ontologie": f"{base}/ontology",
            "experiences": f"{base}/experiences",
        },
    }
