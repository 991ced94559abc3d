"""Acteurs: persons (public facts only) and organisations, with the experiences they take part in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import StoreDep
from api.problems import responses
from api.routes._schemas import EXPERIENCE, PESSAC, ExperienceSummaryPublic, Properties, Ref, cle, examples
from fiches import resources

router = APIRouter(prefix="/acteurs", tags=["acteurs"])

ActeurId = cle(
    "Clé de l'acteur (dernier segment de son IRI).",
    personne=("Une personne : le contact du portail famille de Pessac", "bebc3ab7be814761"),
    organisation=("Une organisation : le prestataire Arpège", "arpege"),
)


class ActeurExperience(ExperienceSummaryPublic):
    model_config = examples({**EXPERIENCE, "role": "contact"})

    role: str = Field(description="contact, partenaire, prestataire, financeur ou porteur.")


class ActeurPublic(BaseModel):
    """A person or an organisation: name, function, organisation, experiences (never contact details)."""

    model_config = examples(
        {
            "iri": "https://w3id.org/capitalis/id/personne/bebc3ab7be814761",
            "id": "bebc3ab7be814761",
            "type": "cap:Personne",
            "nom": "Lucas Collet",
            "fonction": "Responsable du service enfance-famille",
            "elu": False,
            "organisme": PESSAC,
            "experiences": [{**EXPERIENCE, "role": "contact"}],
            "proprietes": {
                "rdfs:label": [{"value": "Lucas Collet", "iri": False, "graph": "villes-internet"}],
            },
        },
        description=(
            "Une personne ou une organisation : nom, fonction, organisme, expériences et rôle dans chacune "
            "(jamais de coordonnées)."
        ),
    )

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
def acteurs_get(id: ActeurId, store: StoreDep) -> dict[str, Any]:
    """Un acteur (personne ou organisation) et les expériences auxquelles il prend part."""
    return resources.acteur(store, id)
