"""Parrainage: sponsors for a collectivity and a need, grappes of small communes, recorded sponsorships."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import ContextDep, CurrentUser, Moderateur, SearchDep, StoreDep, WritableStoreDep
from api.problems import responses
from parrainage import lifecycle as P
from parrainage.grappes import grappes
from parrainage.matching import match
from parrainage.models import GrappesResult, MatchResult

router = APIRouter(tags=["parrainage"])

Code = Annotated[
    str,
    Query(
        min_length=2,
        max_length=200,
        description="Code INSEE (commune, département), SIREN (EPCI), dep-XX, reg-XX ou IRI de la collectivité.",
    ),
]
Besoin = Annotated[str | None, Query(max_length=2_000, description="Le besoin, en mots.")]
Services = Annotated[
    list[Annotated[str, Field(pattern=r"^([1-9]([a-z][1-9]?)?|S[0-9]{1,3})$")]],
    Query(max_length=20, description="Concepts ATLAAS du besoin (1a1, S12…), répétable."),
]
ParrainageId = Annotated[
    str, Path(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", description="Identifiant.")
]


class MatchPublic(MatchResult):
    """Sponsors ranked for a collectivity and a need, each score with its parts and its explanation."""


class GrappesPublic(GrappesResult):
    """Grappes of small communes of a département sharing a need, one sponsor each."""


class PartiePublic(BaseModel):
    iri: str
    nom: str


class ConceptPublic(BaseModel):
    iri: str
    notation: str
    label: str


class ParrainagePublic(BaseModel):
    iri: str
    parrain: PartiePublic
    filleuls: list[PartiePublic]
    concepts: list[ConceptPublic]
    besoin: str | None
    note: str | None
    statut: str
    statut_libelle: str
    score: float | None
    experiences: list[str]
    propose_le: str | None
    debut: str | None
    fin: str | None


class ParrainagesPublic(BaseModel):
    data: list[ParrainagePublic]
    count: int = Field(description="Nombre total (toutes pages).")


class ParrainageCreate(BaseModel):
    parrain: str = Field(min_length=2, max_length=300, description="Collectivité (code ou IRI) ou IRI de structure.")
    filleuls: list[Annotated[str, Field(min_length=2, max_length=300)]] = Field(
        min_length=1, max_length=500, description="Une collectivité, ou plusieurs (une grappe)."
    )
    services: list[
        Annotated[
            str, Field(pattern=r"^(([1-9]([a-z][1-9]?)?|S[0-9]{1,3})|https://w3id\.org/capitalis/id/service/\w{1,5})$")
        ]
    ] = Field(default_factory=list, max_length=20, description="Concepts ATLAAS (notations ou IRI).")
    besoin: str | None = Field(default=None, max_length=2_000)
    note: str | None = Field(default=None, max_length=4_000)
    experiences: list[Annotated[str, Field(max_length=300)]] = Field(default_factory=list, max_length=20)
    score: float | None = Field(default=None, ge=0, le=1)


@router.get("/parrainage/match", response_model=MatchPublic, responses=responses(404, 503))
async def parrainage_match(
    ctx: ContextDep,
    index: SearchDep,
    collectivite: Code,
    besoin: Besoin = None,
    service: Services = [],  # noqa: B006  (FastAPI copies defaults)
    limit: Annotated[int, Query(ge=1, le=50, description="Nombre de parrains.")] = 10,
    rayon_km: Annotated[float | None, Query(gt=0, le=2_000, description="Distance maximale, en km.")] = None,
) -> MatchResult:
    """Les parrains possibles d'une collectivité pour un besoin, avec le détail et l'explication de chaque score."""
    return await run_in_threadpool(
        lambda: match(ctx, collectivite, besoin, list(service), limit, rayon_km, index=index)
    )


@router.get("/parrainage/grappes", response_model=GrappesPublic, responses=responses(404, 503))
async def parrainage_grappes(
    ctx: ContextDep,
    index: SearchDep,
    departement: Annotated[str, Query(pattern=r"^([0-9]{1,3}|2[ABab])$", description="Code du département.")],
    besoin: Besoin = None,
    service: Services = [],  # noqa: B006
) -> GrappesResult:
    """Les petites communes d'un département sans expérience sur un besoin, en grappes, chacune avec un parrain."""
    return await run_in_threadpool(
        lambda: grappes(ctx, departement, besoin, list(service), index=index)
    )


@router.get("/parrainages", response_model=ParrainagesPublic, responses=responses(404))
def parrainages_list(
    store: StoreDep,
    collectivite: Annotated[str | None, Query(min_length=2, max_length=300, description="Parrain ou filleul.")] = None,
    statut: Annotated[Literal["propose", "accepte", "en-cours", "termine"] | None, Query(description="Statut.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Les parrainages enregistrés, des plus récents aux plus anciens."""
    items = P.lister(store, collectivite, statut)
    return {"data": items[offset : offset + limit], "count": len(items)}


@router.get("/parrainages/{id}", response_model=ParrainagePublic, responses=responses(404))
def parrainages_get(id: ParrainageId, store: StoreDep) -> dict[str, Any]:
    """Un parrainage : parrain, filleuls, concepts, statut et dates."""
    return P.obtenir(store, id)


@router.post(
    "/parrainages", response_model=ParrainagePublic, status_code=201, responses=responses(401, 403, 404, 429, 503)
)
def parrainages_create(body: ParrainageCreate, user: CurrentUser, store: WritableStoreDep) -> dict[str, Any]:
    """Propose un parrainage (statut « proposé ») ; il faut un compte contributeur ou de modération."""
    user.require("contributeur", "moderateur")
    iri = P.proposer(
        store,
        body.parrain,
        body.filleuls,
        body.services,
        body.besoin,
        body.note,
        experiences=body.experiences,
        score=body.score,
    )
    return P.obtenir(store, iri)


@router.post(
    "/parrainages/{id}/{action}", response_model=ParrainagePublic, responses=responses(401, 403, 404, 429, 503)
)
def parrainages_transition(
    id: ParrainageId,
    action: Literal["acceptation", "demarrage", "cloture"],
    user: Moderateur,
    store: WritableStoreDep,
) -> dict[str, Any]:
    """Fait avancer un parrainage : acceptation, démarrage ou clôture (modération)."""
    step = {"acceptation": P.accepter, "demarrage": P.demarrer, "cloture": P.cloturer}[action]
    return step(store, id)
