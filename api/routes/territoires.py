"""Territories of the COG: communes, EPCI, départements, régions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.deps import ContextDep
from api.problems import responses
from api.routes._schemas import Properties, Ref
from fiches import resources

router = APIRouter(prefix="/territoires", tags=["territoires"])


class TerritoirePublic(BaseModel):
    iri: str
    niveau: str
    code: str
    nom: str
    population: int | None
    lat: float | None
    long: float | None
    parents: list[Ref]
    intercommunalite: str | None
    collectivites: list[Ref] = Field(description="Les collectivités qui administrent ce territoire.")
    experiences: int | None = Field(description="Expériences portées sur ce territoire (région, département).")
    proprietes: Properties


@router.get("/{niveau}/{code}", response_model=TerritoirePublic, responses=responses(404))
def territoires_get(
    niveau: Literal["commune", "epci", "departement", "region"],
    code: Annotated[str, Path(pattern=r"^[0-9AB]{2,9}$", description="Code INSEE (SIREN pour un EPCI).")],
    ctx: ContextDep,
) -> dict[str, Any]:
    """Un territoire : nom, code, population, position, rattachements et collectivités."""
    return resources.territoire(ctx, niveau, code)
