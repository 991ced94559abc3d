"""Territories of the COG: communes, EPCI, départements, régions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.deps import ContextDep
from api.problems import responses
from api.routes._schemas import PESSAC, Properties, Ref, examples, exemples
from fiches import resources

router = APIRouter(prefix="/territoires", tags=["territoires"])


class TerritoirePublic(BaseModel):
    model_config = examples(
        {
            "iri": "https://w3id.org/capitalis/id/commune/33318",
            "niveau": "commune",
            "code": "33318",
            "nom": "Pessac",
            "population": 63808,
            "lat": 44.80553,
            "long": -0.6306,
            "parents": [{"iri": "https://w3id.org/capitalis/id/departement/33", "nom": "Gironde"}],
            "intercommunalite": "https://w3id.org/capitalis/id/epci/243300316",
            "collectivites": [PESSAC],
            "experiences": None,
            "proprietes": {
                "igeo:codeINSEE": [{"value": "33318", "iri": False, "graph": "referentiel"}],
            },
        },
        description="Un territoire du COG : nom, code, population, position, rattachements, collectivités.",
    )

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
    niveau: Annotated[
        Literal["commune", "epci", "departement", "region"],
        Path(description="Niveau du territoire.", openapi_examples=exemples(commune=("Une commune", "commune"))),
    ],
    code: Annotated[
        str,
        Path(
            pattern=r"^[0-9AB]{2,9}$",
            description="Code INSEE (SIREN pour un EPCI).",
            openapi_examples=exemples(
                pessac=("Pessac (avec le niveau commune)", "33318"),
                gironde=("La Gironde (avec le niveau departement)", "33"),
                bordeaux_metropole=("Bordeaux Métropole (avec le niveau epci)", "243300316"),
            ),
        ),
    ],
    ctx: ContextDep,
) -> dict[str, Any]:
    """Un territoire : nom, code, population, position, rattachements et collectivités."""
    return resources.territoire(ctx, niveau, code)
