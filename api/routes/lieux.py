"""Lieux de médiation numérique (national standard and old NetPublic directory)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from api.deps import Limit, Offset, StoreDep
from api.pagination import set_links
from api.problems import responses
from api.routes._schemas import examples, exemples
from fiches import resources

router = APIRouter(prefix="/lieux", tags=["lieux"])
_LIEU = {
    "iri": "https://w3id.org/capitalis/id/lieu/np-epn-0154",
    "id": "np-epn-0154",
    "nom": "Espace public numérique de Pessac",
    "code_postal": "33600",
    "lat": 44.792011,
    "long": -0.620157,
    "sources": [{"source": "netpublic", "id": "np-epn-0154"}],
}


class LieuSource(BaseModel):
    model_config = examples({"source": "netpublic", "id": "np-epn-0154"})

    source: str
    id: str


class LieuPublic(BaseModel):
    model_config = examples(_LIEU, description="Un lieu de médiation numérique : nom, code postal, position, sources.")

    iri: str
    id: str
    nom: str
    code_postal: str | None
    lat: float | None
    long: float | None
    sources: list[LieuSource]


class LieuxPublic(BaseModel):
    model_config = examples({"data": [_LIEU], "count": 1})

    data: list[LieuPublic]
    count: int = Field(description="Nombre total (toutes pages).")


@router.get("", response_model=LieuxPublic, responses=responses())
def lieux_list(
    request: Request,
    response: Response,
    store: StoreDep,
    q: Annotated[str | None, Query(
            max_length=200,
            description="Mots du nom du lieu.",
            openapi_examples=exemples(pessac=("Les lieux de Pessac", "Pessac")),
        )] = None,
    code_postal: Annotated[
        str | None, Query(
            pattern=r"^[0-9][0-9AB][0-9]{0,3}$",
            description="Début du code postal (35, 35000…).",
            openapi_examples=exemples(gironde=("La Gironde", "33"), pessac=("Pessac", "33600")),
        )
    ] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Les lieux de médiation numérique, filtrés par nom et code postal, par ordre alphabétique."""
    data, count = resources.lieux(store, q, code_postal, limit, offset)
    set_links(response, request, offset, limit, count)
    return {"data": data, "count": count}
