"""The answers of the parrainage: sponsors of a filleul (:class:`MatchResult`) and grappes (:class:`GrappesResult`).

Pydantic models, so that the CLI's JSON, the API's schemas and the explorer read one shape.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Composantes",
    "Couverture",
    "ExperienceRef",
    "Filleul",
    "Grappe",
    "GrappesResult",
    "MatchResult",
    "MembreGrappe",
    "Sponsor",
]


#: Examples of the models in the OpenAPI schema: Pessac sponsoring Arçais' « portail famille », from the samples.
_EXPERIENCE_REF = {
    "iri": "https://w3id.org/capitalis/id/experience/vi-1175",
    "titre": "Un guichet en ligne pour la cantine et l'accueil du soir",
    "similarite": 0.7109,
    "annee": 2014,
}
_FILLEUL = {
    "iri": "https://w3id.org/capitalis/id/collectivite/79010",
    "nom": "Arçais",
    "type": "Commune",
    "population": 613,
    "insee": "79010",
    "siren": None,
    "departement": "79",
    "region": "75",
    "epci": "200041317",
}
_SPONSOR = {
    "iri": "https://w3id.org/capitalis/id/collectivite/33318",
    "nom": "Pessac",
    "type": "Commune",
    "insee": "33318",
    "siren": None,
    "population": 63808,
    "score": 0.3904,
    "composantes": {
        "pertinence": 0.7109,
        "experience": 0.3891,
        "taille": 1.0,
        "proximite": 0.2681,
        "technologies": 0.0,
        "charge": 0.3333,
    },
    "experiences": [_EXPERIENCE_REF],
    "distance_km": 165.9,
    "explication": [
        "Pessac a mené 1 expérience pertinente pour ce besoin : « Un guichet en ligne pour la cantine et l'accueil "
        "du soir » (2014).",
        "Collectivité 104 fois plus peuplée qu'Arçais (63 808 habitants contre 613).",
        "Même région (la Nouvelle-Aquitaine), à 166 km.",
        "A déjà 1 parrainage proposé, accepté ou en cours, ce qui abaisse son score.",
    ],
    "role": "parrain",
    "niveau": "region",
    "ratio": 104.09,
}
_PARRAIN_GRAPPE = {
    **_SPONSOR,
    "score": 0.4562,
    "composantes": {
        "pertinence": 0.7109,
        "experience": 0.3891,
        "taille": 0.6981,
        "proximite": 0.2743,
        "technologies": 0.0,
        "charge": 0.0,
    },
    "distance_km": 151.3,
    "explication": [
        "Pessac a mené 1 expérience pertinente pour ce besoin : « Un guichet en ligne pour la cantine et l'accueil "
        "du soir » (2014).",
        "Collectivité 25 fois plus peuplée que Chef-Boutonne (63 808 habitants contre 2 563).",
        "Même région (la Nouvelle-Aquitaine), à 151 km.",
    ],
    "ratio": 24.9,
}
_MEMBRE = {
    "iri": "https://w3id.org/capitalis/id/collectivite/79083",
    "nom": "Chef-Boutonne",
    "insee": "79083",
    "population": 2563,
    "distance_km": 151.3,
    "couvert": True,
}
_COUVERTURE = {"membres": 55, "total": 55, "part": 1.0}
_GRAPPE = {
    "nom": "Communauté de communes Mellois en Poitou",
    "epci": {
        "siren": "200069755",
        "nom": "Communauté de communes Mellois en Poitou",
        "iri": "https://w3id.org/capitalis/id/collectivite/200069755",
    },
    "membres": [_MEMBRE],
    "parrain": _PARRAIN_GRAPPE,
    "couverture": _COUVERTURE,
    "explication": [
        "Grappe de 55 communes de la communauté de communes Mellois en Poitou, sans expérience sur ce besoin.",
        "Pessac peut en parrainer 55 sur 55, de 139 à 178 km.",
    ],
}


class ExperienceRef(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [_EXPERIENCE_REF],
        }
    )

    iri: str
    titre: str
    similarite: float = Field(description="Similarité de l'expérience au besoin, de 0 à 1.")
    annee: int | None = None


class Composantes(BaseModel):
    """Each part of the score, in [0, 1]; ``charge`` is a penalty (0 = no sponsorship under way)."""

    model_config = ConfigDict(
        json_schema_extra={
            "description": "Chaque part du score, entre 0 et 1 ; « charge » est une pénalité (0 : aucun parrainage "
            "en cours).",
            "examples": [_SPONSOR["composantes"]],
        }
    )

    pertinence: float
    experience: float
    taille: float
    proximite: float
    technologies: float
    charge: float


class Filleul(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [_FILLEUL],
        }
    )

    iri: str
    nom: str
    type: str
    population: int | None
    insee: str | None = None
    siren: str | None = None
    departement: str | None = None
    region: str | None = None
    epci: str | None = None


class Sponsor(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "description": "Un parrain possible : score et ses parts, expériences pertinentes, distance, "
            "explication en français.",
            "examples": [_SPONSOR],
        }
    )

    iri: str
    nom: str
    type: str
    insee: str | None
    siren: str | None
    population: int | None
    score: float
    composantes: Composantes
    experiences: list[ExperienceRef]
    distance_km: float | None
    explication: list[str]
    role: str = Field(description="parrain, parrain-naturel, structure ou pair.")
    niveau: str = Field(description="intercommunalite, departement, region, voisinage (autre région, à moins de "
                                    "match_voisinage_km) ou hors-region.")
    ratio: float | None = Field(default=None, description="Population du parrain / population du filleul.")


class MatchResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "filleul": _FILLEUL,
                    "besoin": "portail famille",
                    "services": [],
                    "sponsors": [_SPONSOR],
                    "total": 2,
                    "experiences_pertinentes": 14,
                    "perimetre": "region",
                    "message": None,
                    "services_proches": [],
                }
            ],
        }
    )

    filleul: Filleul
    besoin: str
    services: list[dict[str, str]] = Field(default_factory=list)
    sponsors: list[Sponsor]
    total: int = Field(description="Nombre de parrains possibles avant --limit.")
    experiences_pertinentes: int = 0
    perimetre: str = Field(description="region, hors-region, region+hors-region ou aucun.")
    message: str | None = None
    services_proches: list[dict[str, str]] = Field(
        default_factory=list,
        description="Quand aucune expérience ne traite le besoin : les services ATLAAS les plus proches du texte, "
                    "à choisir pour chercher de nouveau ({notation, label}).",
    )


class MembreGrappe(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [_MEMBRE],
        }
    )

    iri: str
    nom: str
    insee: str
    population: int | None
    distance_km: float | None = Field(description="Distance au parrain de la grappe.")
    couvert: bool = Field(description="Le parrain de la grappe peut parrainer cette commune.")


class Couverture(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "description": "Combien de communes de la grappe son parrain peut parrainer (nombre, total, part).",
            "examples": [_COUVERTURE],
        }
    )

    membres: int
    total: int
    part: float


class Grappe(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [_GRAPPE],
        }
    )

    nom: str
    epci: dict[str, str] | None
    membres: list[MembreGrappe]
    parrain: Sponsor | None
    couverture: Couverture
    explication: list[str]


class GrappesResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "departement": {"code": "79", "nom": "Deux-Sèvres", "region": "75"},
                    "besoin": "portail famille",
                    "services": [],
                    "grappes": [_GRAPPE],
                    "communes": 237,
                    "message": None,
                    "services_proches": [],
                }
            ],
        }
    )

    departement: dict[str, str]
    besoin: str
    services: list[dict[str, str]] = Field(default_factory=list)
    grappes: list[Grappe]
    communes: int = Field(description="Petites communes du département sans expérience sur le besoin.")
    message: str | None = None
    services_proches: list[dict[str, str]] = Field(
        default_factory=list,
        description="Quand aucune expérience ne traite le besoin : les services ATLAAS les plus proches du texte.",
    )

