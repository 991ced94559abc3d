"""Collectivités (communes, EPCI, départements, régions, structures de mutualisation) and their experiences."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from api.deps import Limit, Offset, StoreDep
from api.pagination import set_links
from api.problems import responses
from api.routes._schemas import PROPRIETES, ExperienceSummariesPublic, Properties, cle, examples
from fiches import resources

router = APIRouter(prefix="/collectivites", tags=["collectivités"])

Code = cle(
    "Code de la collectivité : INSEE (commune), SIREN (EPCI), dep-XX, reg-XX ou nom de structure.",
    pessac=("Pessac, commune de Gironde (INSEE)", "33318"),
    arcais=("Arçais, commune des Deux-Sèvres (INSEE)", "79010"),
    epci=("Communauté de communes Mellois en Poitou (SIREN)", "200069755"),
)


class CollectivitePublic(BaseModel):
    """A collectivité: names, codes, population, territory, number of experiences carried."""

    model_config = examples(
        {
            "iri": "https://w3id.org/capitalis/id/collectivite/33318",
            "code": "33318",
            "nom": "Pessac",
            "type": "cap:Commune",
            "types": ["cap:Commune"],
            "insee": "33318",
            "siren": None,
            "population": 63808,
            "territoire": "https://w3id.org/capitalis/id/commune/33318",
            "experiences": 3,
            "proprietes": PROPRIETES,
        },
        description=(
            "Une collectivité : noms, codes, population, territoire administré, nombre d'expériences portées, "
            "et toutes ses valeurs publiques avec leur graphe."
        ),
    )

    iri: str
    code: str
    nom: str
    type: str
    types: list[str]
    insee: str | None
    siren: str | None
    population: int | None
    territoire: str | None
    experiences: int
    proprietes: Properties


@router.get("/{code}", response_model=CollectivitePublic, responses=responses(404))
def collectivites_get(code: Code, store: StoreDep) -> dict[str, Any]:
    """Une collectivité par son code : INSEE (commune), SIREN (EPCI), dep-XX, reg-XX ou nom de structure."""
    return resources.collectivite(store, code)


@router.get("/{code}/experiences", response_model=ExperienceSummariesPublic, responses=responses(404))
def collectivites_experiences(
    request: Request, response: Response, code: Code, store: StoreDep, limit: Limit = 20, offset: Offset = 0
) -> dict[str, Any]:
    """Les expériences portées par une collectivité, des plus récentes aux plus anciennes."""
    iri = resources.collectivite_iri(store, code)
    data, count = resources.experiences_of(store, "porteur", iri, limit, offset)
    set_links(response, request, offset, limit, count)
    return {"data": data, "count": count}
