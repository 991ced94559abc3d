"""Schemas shared by several routers (references and experience summaries)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

Key = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._~%-]{0,199}$", description="Clé (dernier segment de l'IRI)."),
]
Properties = Annotated[
    dict[str, list[dict[str, Any]]],
    Field(description="Toutes les valeurs publiques, par propriété, avec le graphe nommé d'où chacune vient."),
]


class Ref(BaseModel):
    iri: str
    nom: str


class ExperienceSummaryPublic(BaseModel):
    iri: str
    id: str
    titre: str
    date: str | None


class ExperienceSummariesPublic(BaseModel):
    data: list[ExperienceSummaryPublic]
    count: int = Field(description="Nombre total (toutes pages).")
