"""The ATLAAS taxonomy as a tree, with the number of experiences under each node."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import StoreDep
from api.problems import responses
from fiches import resources

router = APIRouter(prefix="/services", tags=["taxonomie"])


class ServiceNode(BaseModel):
    notation: str
    iri: str
    label: str
    alias: list[str]
    experiences: int = Field(description="Expériences classées sous ce nœud ou ses descendants.")
    enfants: list[ServiceNode]


class ServicesPublic(BaseModel):
    data: list[ServiceNode]
    count: int = Field(description="Nombre d'axes.")


@router.get("", response_model=ServicesPublic, responses=responses())
def services_tree(store: StoreDep) -> dict[str, Any]:
    """La taxonomie ATLAAS (axes > enjeux > usages > services) avec le nombre d'expériences de chaque nœud."""
    data = resources.services(store)
    return {"data": data, "count": len(data)}
