"""Contributions: a contributeur proposes, a moderateur accepts or rejects, the author follows the status."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import (
    ContextDep,
    Contributeur,
    ContributionsDep,
    CurrentUser,
    Limit,
    Moderateur,
    Offset,
    StoreDep,
    WritableStoreDep,
)
from api.pagination import set_links
from api.problems import responses
from api.routes._schemas import examples, exemples
from contributions.proposals import Contribution, Correction, NouvelleExperience, Proposition
from kg.context import Context
from search import index_status, update_index

router = APIRouter(prefix="/contributions", tags=["contributions"])
log = logging.getLogger("capitalis.api")

ContributionId = Annotated[
    str,
    Path(
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        description="Identifiant.",
        openapi_examples=exemples(exemple=("Une correction de vi-1175", "3f9c2d1e-8a4b-4c6d-9e0f-1a2b3c4d5e6f")),
    ),
]
_CONTRIBUTION = Contribution.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]


class ContributionPublic(Contribution):
    """A proposal and its moderation status."""

    model_config = examples(
        _CONTRIBUTION,
        {
            **_CONTRIBUTION,
            "statut": "refusee",
            "statut_libelle": "refusée",
            "motif": "Le bilan cité n'est pas public : joignez un lien vers le document.",
            "modere_le": "2026-12-08T10:02:11+00:00",
        },
        description="Une proposition et son statut de modération.",
    )


class ContributionsPublic(BaseModel):
    model_config = examples({"data": [_CONTRIBUTION], "count": 1})

    data: list[ContributionPublic]
    count: int = Field(description="Nombre total (toutes pages).")


class Rejet(BaseModel):
    model_config = examples({"motif": "Le bilan cité n'est pas public : joignez un lien vers le document."})

    motif: str = Field(min_length=3, max_length=2_000, description="Pourquoi la contribution est refusée.")


@router.post("", response_model=ContributionPublic, status_code=201, responses=responses(401, 403, 404, 429))
def contributions_create(
    proposal: Annotated[
        Proposition,
        Body(
            description="Nouvelle expérience ou correction.",
            openapi_examples={
                "nouvelle": {
                    "summary": "Une nouvelle expérience",
                    "value": NouvelleExperience.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
                },
                "correction": {
                    "summary": "Une correction",
                    "value": Correction.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
                },
            },
        ),
    ],
    user: Contributeur,
    store: StoreDep,
    contributions: ContributionsDep,
) -> Contribution:
    """Propose une nouvelle expérience ou une correction ; elle attend la modération (« en attente »)."""
    return contributions.propose(store, user, proposal)


@router.get("", response_model=ContributionsPublic, responses=responses(401))
def contributions_list(
    request: Request,
    response: Response,
    user: CurrentUser,
    contributions: ContributionsDep,
    statut: Annotated[
        Literal["en-attente", "acceptee", "refusee"] | None,
        Query(description="Filtre.", openapi_examples=exemples(en_attente=("Celles qui attendent", "en-attente"))),
    ] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Les contributions visibles : les siennes pour un contributeur, toutes pour la modération."""
    data, count = contributions.list(user, statut, limit, offset)
    set_links(response, request, offset, limit, count)
    return {"data": data, "count": count}


@router.get("/{id}", response_model=ContributionPublic, responses=responses(401, 404))
def contributions_get(id: ContributionId, user: CurrentUser, contributions: ContributionsDep) -> Contribution:
    """Une contribution et son statut (son auteur ou la modération)."""
    return contributions.get(id, user)


@router.post("/{id}/acceptation", response_model=ContributionPublic, responses=responses(401, 403, 404, 429, 503))
async def contributions_accept(
    id: ContributionId,
    user: Moderateur,
    store: WritableStoreDep,
    contributions: ContributionsDep,
    context: ContextDep,
) -> Contribution:
    """Accepte une contribution : elle entre dans le graphe « contributions » avec sa provenance."""
    accepted = await run_in_threadpool(contributions.accept, store, user, id)
    await run_in_threadpool(_refresh_index, context)
    return accepted


@router.post("/{id}/rejet", response_model=ContributionPublic, responses=responses(401, 403, 404, 429))
def contributions_reject(
    id: ContributionId, rejet: Rejet, user: Moderateur, contributions: ContributionsDep
) -> Contribution:
    """Refuse une contribution en disant pourquoi ; son auteur lit le motif."""
    return contributions.reject(user, id, rejet.motif)


def _refresh_index(context: Context) -> None:
    """Bring the search index in line (only new texts are encoded); a failure never undoes the acceptance."""
    try:
        if index_status(context, with_store=False)["exists"]:
            update_index(context)
    except Exception:  # the acceptance stands; `capitalis index` will catch up
        log.exception("mise à jour de l'index de recherche impossible après une acceptation")
