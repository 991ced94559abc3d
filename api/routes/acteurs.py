"""Acteurs: persons (public facts only) and organisations, with the experiences they take part in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import StoreDep
from api.problems import responses
from api.routes._schemas import ExperienceSummaryPublic, Key, Properties, Ref
from fiches import resources

router = APIRouter(prefix="/acteurs", tags=["acteurs"])


class ActeurExperience(ExperienceSummaryPublic):
    role: str = Field(description="contact, partenaire, prestataire, financeur ou porteur.")


class ActeurPublic(BaseModel):
    """A person or an organisation: name, function, organisation, experiences (never contact details)."""

    iri: str
    id: str
    type: str
    nom: str
    fonction: str | None
    elu: bool | None
    organisme: Ref | None
    experiences: list[ActeurExperience]
    proprietes: Properties


@router.get("/{id}", response_model=ActeurPublic, responses=responses(404))
def acteurs_get(id: Key, store: StoreDep) -> dict[str, Any]:
    """Un acteur (personne ou organisation) et les expériences auxquelles il prend part."""
    return resources.acteur(store, id)
