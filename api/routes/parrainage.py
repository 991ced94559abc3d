"""Parrainage: sponsors for a collectivity and a need, grappes of small communes, recorded sponsorships."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import ContextDep, CurrentUser, Limit, Moderateur, Offset, SearchDep, StoreDep, WritableStoreDep
from api.problems import responses
from api.routes._schemas import ARCAIS, EXPERIENCE, PESSAC, examples, exemples
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
        openapi_examples=exemples(
            arcais=("Arçais, commune des Deux-Sèvres (INSEE)", "79010"),
            iri=("La même par son IRI", ARCAIS["iri"]),
        ),
    ),
]
Besoin = Annotated[
    str | None,
    Query(
        max_length=2_000,
        description="Le besoin, en mots.",
        openapi_examples=exemples(
            portail_famille=("Un besoin en deux mots", "portail famille"),
            phrase=("Une phrase", "inscrire les enfants à la cantine et payer en ligne"),
        ),
    ),
]
Services = Annotated[
    list[Annotated[str, Field(pattern=r"^([1-9]([a-z][1-9]?)?|S[0-9]{1,3})$")]],
    Query(
        max_length=20,
        description="Concepts ATLAAS du besoin (1a1, S12…), répétable.",
        openapi_examples=exemples(portail_famille=("Service S3 : portail famille", ["S3"])),
    ),
]
_UUID = "7a1e030b-e79e-4342-ad70-7a5e5d26d4b0"
ParrainageId = Annotated[
    str,
    Path(
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        description="Identifiant.",
        openapi_examples=exemples(exemple=("Pessac parraine Arçais", _UUID)),
    ),
]
_PARRAINAGE = {
    "iri": f"https://w3id.org/capitalis/id/parrainage/{_UUID}",
    "parrain": PESSAC,
    "filleuls": [ARCAIS],
    "concepts": [{"iri": "https://w3id.org/capitalis/id/service/S3", "notation": "S3", "label": "Portail famille"}],
    "besoin": "portail famille",
    "note": "Mise en relation après la rencontre départementale des maires.",
    "statut": "propose",
    "statut_libelle": "proposé",
    "score": 0.39,
    "experiences": [EXPERIENCE["iri"]],
    "propose_le": "2026-12-07T05:37:41+00:00",
    "debut": None,
    "fin": None,
}


class MatchPublic(MatchResult):
    """Sponsors ranked for a collectivity and a need, each score with its parts and its explanation."""

    model_config = examples(
        *MatchResult.model_config["json_schema_extra"]["examples"],  # type: ignore[index]
        description=(
            "Les parrains possibles d'une collectivité pour un besoin, classés, chaque score avec ses parts et son "
            "explication."
        ),
    )


class GrappesPublic(GrappesResult):
    """Grappes of small communes of a département sharing a need, one sponsor each."""

    model_config = examples(
        *GrappesResult.model_config["json_schema_extra"]["examples"],  # type: ignore[index]
        description=(
            "Les petites communes d'un département sans expérience sur un besoin, en grappes, chacune avec un parrain."
        ),
    )


class PartiePublic(BaseModel):
    model_config = examples(PESSAC)

    iri: str
    nom: str


class ConceptPublic(BaseModel):
    model_config = examples(_PARRAINAGE["concepts"][0])

    iri: str
    notation: str
    label: str


class ParrainagePublic(BaseModel):
    model_config = examples(_PARRAINAGE)

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
    model_config = examples({"data": [_PARRAINAGE], "count": 1})

    data: list[ParrainagePublic]
    count: int = Field(description="Nombre total (toutes pages).")


class ParrainageCreate(BaseModel):
    model_config = examples(
        {
            "parrain": "33318",
            "filleuls": ["79010"],
            "services": ["S3"],
            "besoin": "portail famille",
            "note": "Mise en relation après la rencontre départementale des maires.",
            "experiences": [EXPERIENCE["iri"]],
            "score": 0.39,
        }
    )

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
    limit: Annotated[
        int, Query(ge=1, le=50, description="Nombre de parrains.", openapi_examples=exemples(cinq=("Cinq", 5)))
    ] = 10,
    rayon_km: Annotated[
        float | None,
        Query(
            gt=0,
            le=2_000,
            description="Distance maximale, en km.",
            openapi_examples=exemples(proche=("À moins de 100 km", 100)),
        ),
    ] = None,
) -> MatchResult:
    """Les parrains possibles d'une collectivité pour un besoin, avec le détail et l'explication de chaque score."""
    return await run_in_threadpool(
        lambda: match(ctx, collectivite, besoin, list(service), limit, rayon_km, index=index)
    )


@router.get("/parrainage/grappes", response_model=GrappesPublic, responses=responses(404, 503))
async def parrainage_grappes(
    ctx: ContextDep,
    index: SearchDep,
    departement: Annotated[
        str,
        Query(
            pattern=r"^([0-9]{1,3}|2[ABab])$",
            description="Code du département.",
            openapi_examples=exemples(deux_sevres=("Les Deux-Sèvres", "79")),
        ),
    ],
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
    collectivite: Annotated[
        str | None,
        Query(
            min_length=2,
            max_length=300,
            description="Parrain ou filleul.",
            openapi_examples=exemples(pessac=("Pessac", "33318"), arcais=("Arçais", "79010")),
        ),
    ] = None,
    statut: Annotated[Literal["propose", "accepte", "en-cours", "termine"] | None, Query(description="Statut.")] = None,
    limit: Limit = 20,
    offset: Offset = 0,
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
