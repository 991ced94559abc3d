"""The ATLAAS taxonomy as a tree, with the number of experiences under each node."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import StoreDep
from api.problems import responses
from api.routes._schemas import examples
from fiches import resources

router = APIRouter(prefix="/services", tags=["taxonomie"])


def _node(notation: str, label: str, count: int, enfants: list[dict], alias: list[str] | None = None) -> dict:
    return {
        "notation": notation,
        "iri": f"https://w3id.org/capitalis/id/service/{notation}",
        "label": label,
        "alias": alias or [],
        "experiences": count,
        "enfants": enfants,
    }


_S3 = _node(
    "S3", "Portail famille", 5, [], ["cantine", "espace famille", "paiement de la cantine", "restauration scolaire"]
)
_AXE = _node(
    "1",
    "Démocratie et services publics",
    136,
    [
        _node(
            "1a",
            "Efficacité des services publics",
            68,
            [_node("1a1", "Accès des citoyens aux services publics, droits et démarches", 32, [_S3])],
        )
    ],
)


class ServiceNode(BaseModel):
    model_config = examples(_S3, description="Un nœud de la taxonomie ATLAAS (axe, enjeu, usage ou service).")

    notation: str
    iri: str
    label: str
    alias: list[str]
    experiences: int = Field(description="Expériences classées sous ce nœud ou ses descendants.")
    enfants: list[ServiceNode]


class ServicesPublic(BaseModel):
    model_config = examples({"data": [_AXE], "count": 4})

    data: list[ServiceNode]
    count: int = Field(description="Nombre d'axes.")


@router.get("", response_model=ServicesPublic, responses=responses())
def services_tree(store: StoreDep) -> dict[str, Any]:
    """La taxonomie ATLAAS (axes > enjeux > usages > services) avec le nombre d'expériences de chaque nœud."""
    data = resources.services(store)
    return {"data": data, "count": len(data)}
