"""Schemas shared by several routers (references and experience summaries), and the sample values of the OpenAPI
examples (taken from the samples of ``data/samples``: Pessac 33318, Arçais 79010, the experience vi-1175)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

#: Sample values reused by the examples of several routes and schemas.
ID = "https://w3id.org/capitalis/id/"
PESSAC = {"iri": f"{ID}collectivite/33318", "nom": "Pessac"}
ARCAIS = {"iri": f"{ID}collectivite/79010", "nom": "Arçais"}
EXPERIENCE = {
    "iri": f"{ID}experience/vi-1175",
    "id": "vi-1175",
    "titre": "Un guichet en ligne pour la cantine et l'accueil du soir",
    "date": "2014-09-01",
}
EXPERIENCE_OTEN = {
    "iri": f"{ID}experience/oten-OTEN-2011-0037",
    "id": "oten-OTEN-2011-0037",
    "titre": "Pessac équipe ses écoles élémentaires de classes mobiles",
    "date": "2011",
}
PROPRIETES = {
    "rdfs:label": [{"value": "Pessac", "iri": False, "graph": "oten", "lang": "fr"}],
    "cap:codeInsee": [{"value": "33318", "iri": False, "graph": "oten"}],
    "cap:siteWeb": [{"value": "https://www.pessac.fr/", "iri": True, "graph": "villes-internet"}],
}


def examples(*values: Any, description: str | None = None) -> ConfigDict:
    """``model_config`` of a schema with these examples and, when given, its French description (the docstring,
    in English, stays for the code): OpenAPI shows both."""
    extra: dict[str, Any] = {"examples": list(values)}
    if description:
        extra["description"] = description
    return ConfigDict(json_schema_extra=extra)


def exemples(**values: Any) -> dict[str, dict[str, Any]]:
    """``openapi_examples`` of a parameter: ``pessac=("Pessac, commune de Gironde", "33318")`` → a named example."""
    return {name: {"summary": summary, "value": value} for name, (summary, value) in values.items()}


KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~%-]{0,199}$"
Key = Annotated[str, Field(pattern=KEY_PATTERN, description="Clé (dernier segment de l'IRI).")]


def cle(description: str, **values: tuple[str, str]) -> Any:
    """A path parameter holding a key (:data:`KEY_PATTERN`), with its description and named examples."""
    return Annotated[str, Path(pattern=KEY_PATTERN, description=description, openapi_examples=exemples(**values))]


Properties = Annotated[
    dict[str, list[dict[str, Any]]],
    Field(description="Toutes les valeurs publiques, par propriété, avec le graphe nommé d'où chacune vient."),
]


class Ref(BaseModel):
    model_config = examples(PESSAC)

    iri: str
    nom: str


class ExperienceSummaryPublic(BaseModel):
    model_config = examples(EXPERIENCE)

    iri: str
    id: str
    titre: str
    date: str | None


class ExperienceSummariesPublic(BaseModel):
    model_config = examples({"data": [EXPERIENCE, EXPERIENCE_OTEN], "count": 3})

    data: list[ExperienceSummaryPublic]
    count: int = Field(description="Nombre total (toutes pages).")
