"""The answers of the parrainage: sponsors of a filleul (:class:`MatchResult`) and grappes (:class:`GrappesResult`).

Pydantic models, so that the CLI's JSON, the API's schemas and the explorer read one shape.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

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


class ExperienceRef(BaseModel):
    iri: str
    titre: str
    similarite: float = Field(description="Similarité de l'expérience au besoin, de 0 à 1.")
    annee: int | None = None


class Composantes(BaseModel):
    """Each part of the score, in [0, 1]; ``charge`` is a penalty (0 = no sponsorship under way)."""

    pertinence: float
    experience: float
    taille: float
    proximite: float
    technologies: float
    charge: float


class Filleul(BaseModel):
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
    iri: str
    nom: str
    insee: str
    population: int | None
    distance_km: float | None = Field(description="Distance au parrain de la grappe.")
    couvert: bool = Field(description="Le parrain de la grappe peut parrainer cette commune.")


class Couverture(BaseModel):
    membres: int
    total: int
    part: float


class Grappe(BaseModel):
    nom: str
    epci: dict[str, str] | None
    membres: list[MembreGrappe]
    parrain: Sponsor | None
    couverture: Couverture
    explication: list[str]


class GrappesResult(BaseModel):
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

