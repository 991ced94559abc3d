"""Figures of the graph: triples per public named graph, instances per class."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ContextDep
from api.problems import responses
from api.routes._schemas import examples
from fiches.queries import stats
from kg.sparql import store_signature

router = APIRouter(prefix="/stats", tags=["statistiques"])


class StatsPublic(BaseModel):
    model_config = examples(
        {
            "graphs": {
                "referentiel": 23743,
                "villes-internet": 19704,
                "resolution": 11972,
                "netpublic": 9380,
                "oten": 7648,
                "ontologie": 3466,
            },
            "triples": 75913,
            "classes": {
                "https://w3id.org/capitalis/ontology#Experience": 355,
                "https://w3id.org/capitalis/ontology#Technologie": 618,
                "https://w3id.org/capitalis/ontology#LieuMediation": 228,
            },
        }
    )

    graphs: dict[str, int] = Field(description="Triplets par graphe nommé public.")
    triples: int = Field(description="Total des triplets publics.")
    classes: dict[str, int] = Field(description="Instances par classe.")


@router.get("", response_model=StatsPublic, responses=responses())
def stats_get(ctx: ContextDep) -> dict[str, Any]:
    """Triplets par graphe nommé public et instances par classe (les mêmes chiffres que `capitalis stats`)."""
    store = ctx.store
    path = getattr(store, "path", None)  # only the embedded store has files that tell when it changed
    if path is None:
        return stats(store)
    return ctx.cached("fiches.stats", lambda: stats(store), key=store_signature(path))
