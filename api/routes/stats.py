"""Figures of the graph: triples per public named graph, instances per class."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import StoreDep
from api.problems import responses
from fiches.queries import stats

router = APIRouter(prefix="/stats", tags=["statistiques"])
_cache: dict[str, Any] = {}
_lock = threading.Lock()


class StatsPublic(BaseModel):
    graphs: dict[str, int] = Field(description="Triplets par graphe nommé public.")
    triples: int = Field(description="Total des triplets publics.")
    classes: dict[str, int] = Field(description="Instances par classe.")


@router.get("", response_model=StatsPublic, responses=responses())
def stats_get(store: StoreDep) -> dict[str, Any]:
    """Triplets par graphe nommé public et instances par classe (les mêmes chiffres que `capitalis stats`)."""
    from kg.sparql import store_signature

    key = repr(store_signature(store.path)) if store.path else None
    with _lock:
        if key is not None and _cache.get("key") == key:  # the store has not changed since
            return _cache["data"]
    data = stats(store)
    with _lock:
        _cache.update(key=key, data=data)
    return data
