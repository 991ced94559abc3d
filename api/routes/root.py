"""The API's front door: what it is and where to go."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from api.routes._schemas import examples

router = APIRouter(tags=["accueil"])
_BASE = "https://capitalis.example"


class RootPublic(BaseModel):
    model_config = examples(
        {
            "nom": "Capitalis",
            "version": "0.1.0",
            "description": "Observatoire ouvert des projets numériques des collectivités territoriales.",
            "liens": {
                "documentation": f"{_BASE}/docs",
                "openapi": f"{_BASE}/openapi.json",
                "sparql": f"{_BASE}/sparql",
                "exports": f"{_BASE}/dumps",
                "ontologie": f"{_BASE}/ontology",
                "experiences": f"{_BASE}/experiences",
            },
        },
        description="Présentation de l'API : nom, version et liens vers ses grandes entrées.",
    )

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
