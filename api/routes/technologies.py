"""Technologies: one node per product with its spellings, and the experiences that use it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from api.deps import Limit, Offset, StoreDep
from api.pagination import set_links
from api.problems import responses
from api.routes._schemas import EXPERIENCE, ExperienceSummaryPublic, Properties, cle, examples, exemples
from fiches import resources

router = APIRouter(prefix="/technologies", tags=["technologies"])
_CONCERTO = {"iri": "https://w3id.org/capitalis/id/technologie/concerto", "id": "concerto", "nom": "Concerto"}
TechnologieId = cle(
    "Clé de la technologie (dernier segment de son IRI).",
    concerto=("Concerto, le logiciel du portail famille de Pessac", "concerto"),
    franceconnect=("FranceConnect", "franceconnect"),
)


class TechnologieResume(BaseModel):
    model_config = examples({**_CONCERTO, "alias": [], "experiences": 1})

    iri: str
    id: str
    nom: str
    alias: list[str]
    experiences: int = Field(description="Nombre d'expériences qui l'utilisent.")


class TechnologiesPublic(BaseModel):
    model_config = examples({"data": [{**_CONCERTO, "alias": [], "experiences": 1}], "count": 1})

    data: list[TechnologieResume]
    count: int = Field(description="Nombre total (toutes pages).")


class TechnologiePublic(BaseModel):
    model_config = examples(
        {
            **_CONCERTO,
            "alias": [],
            "experiences": [EXPERIENCE],
            "count": 1,
            "proprietes": {"skos:prefLabel": [{"value": "Concerto", "iri": False, "graph": "villes-internet"}]},
        },
        description="Une technologie : nom, graphies, expériences qui l'utilisent, valeurs publiques.",
    )

    iri: str
    id: str
    nom: str
    alias: list[str]
    experiences: list[ExperienceSummaryPublic]
    count: int = Field(description="Nombre d'expériences qui l'utilisent.")
    proprietes: Properties


@router.get("", response_model=TechnologiesPublic, responses=responses())
def technologies_list(
    request: Request,
    response: Response,
    store: StoreDep,
    q: Annotated[str | None, Query(
            max_length=200,
            description="Mots du nom ou d'une graphie.",
            openapi_examples=exemples(concerto=("Concerto", "concerto"), portail=("Les portails", "portail")),
        )] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Les technologies, des plus utilisées aux moins utilisées, avec leurs graphies."""
    data, count = resources.technologies(store, q, limit, offset)
    set_links(response, request, offset, limit, count)
    return {"data": data, "count": count}


@router.get("/{id}", response_model=TechnologiePublic, responses=responses(404))
def technologies_get(id: TechnologieId, store: StoreDep) -> dict[str, Any]:
    """Une technologie, ses graphies et les expériences qui l'utilisent."""
    return resources.technologie(store, id)
