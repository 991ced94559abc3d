"""What a search takes and gives: the facet filters (validated once, here) and the answer's models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kg.errors import InvalidInput

#: Size classes of the carriers, in the order shown.
TAILLES: dict[str, str] = {
    "village": "commune de moins de 2 000 habitants",
    "petite-ville": "commune de 2 000 à 20 000 habitants",
    "ville-moyenne": "commune de 20 000 à 100 000 habitants",
    "grande-ville": "commune de plus de 100 000 habitants",
    "epci": "intercommunalité",
    "departement": "département",
    "region": "région",
    "mutualisation": "structure de mutualisation",
}
#: Facets returned with every answer (keys of ``SearchResult.facets``).
FACETS: tuple[str, ...] = ("axe", "enjeu", "usage", "region", "taille", "annee", "technologie", "source")
#: Sources an experience may come from.
SOURCES: tuple[str, ...] = ("villes-internet", "oten", "contributions")
#: How the sources are named to users.
SOURCE_LABELS: dict[str, str] = {
    "villes-internet": "Villes Internet",
    "oten": "OTeN",
    "contributions": "Contributions",
}

#: Notation of each level of the ATLAAS taxonomy (axe 1, enjeu 1a, usage 1a1, service S12).
NOTATION_PATTERNS: dict[str, re.Pattern[str]] = {
    "axe": re.compile(r"^[1-9]$"),
    "enjeu": re.compile(r"^[1-9][a-z]$"),
    "usage": re.compile(r"^[1-9][a-z][1-9]$"),
    "service": re.compile(r"^S\d+$"),
}
_NOTATION_EXAMPLES = {"axe": "1 à 4", "enjeu": "1a…4c", "usage": "1a1…4c2", "service": "S1…S92"}
_OF_LEVEL = {"axe": "d'axe", "enjeu": "d'enjeu", "usage": "d'usage", "service": "de service"}
_INSEE_CODE = re.compile(r"\d{2,3}|2[AB]")
_TERRITORY_LEVEL = {"region": "région", "departement": "département"}


class Filters(BaseModel):
    """Facet filters: AND between fields, OR between the values of one field.

    Validated and normalised when built (notations cased, codes padded): a value the domain refuses raises
    :class:`~kg.errors.InvalidInput` naming the field at fault, whatever the surface the values came from.
    """

    axe: list[str] = Field(default_factory=list, description="Axes ATLAAS (notation 1 à 4).")
    enjeu: list[str] = Field(default_factory=list, description="Enjeux ATLAAS (1a…4c).")
    usage: list[str] = Field(default_factory=list, description="Usages ATLAAS (1a1…4c2).")
    service: list[str] = Field(default_factory=list, description="Services ATLAAS (S1…S92).")
    region: list[str] = Field(default_factory=list, description="Codes INSEE de région du porteur.")
    departement: list[str] = Field(default_factory=list, description="Codes de département du porteur.")
    taille: list[str] = Field(default_factory=list, description="Classes de taille du porteur (TAILLES).")
    annee_min: int | None = Field(default=None, description="Première année incluse.")
    annee_max: int | None = Field(default=None, description="Dernière année incluse.")
    technologie: list[str] = Field(default_factory=list, description="Technologies (nom ou graphie connue).")
    source: list[str] = Field(default_factory=list, description="Sources (villes-internet, oten, contributions).")

    @model_validator(mode="after")
    def _validate(self) -> Filters:
        self._check_notations()
        self._check_territories()
        self._check_choices("taille", "classe de taille", TAILLES)
        self._check_choices("source", "source", SOURCES)
        self._check_years()
        return self

    def _check_notations(self) -> None:
        for level, pattern in NOTATION_PATTERNS.items():
            cleaned = []
            for raw in getattr(self, level):
                v = raw.strip()
                v = v.upper() if level == "service" else v.lower()
                if not pattern.match(v):
                    raise InvalidInput(
                        f"notation ATLAAS {_OF_LEVEL[level]} invalide : {v!r} (attendu : {_NOTATION_EXAMPLES[level]})",
                        field=level,
                    )
                cleaned.append(v)
            setattr(self, level, cleaned)

    def _check_territories(self) -> None:
        for name, level in _TERRITORY_LEVEL.items():
            cleaned = []
            for raw in getattr(self, name):
                v = raw.strip().upper()
                if not _INSEE_CODE.fullmatch(v):
                    raise InvalidInput(f"code INSEE de {level} invalide : {v!r}", field=name)
                cleaned.append(v.zfill(2))
            setattr(self, name, cleaned)

    def _check_choices(self, name: str, what: str, known: Any) -> None:
        for v in getattr(self, name):
            if v not in known:
                raise InvalidInput(f"{what} inconnue : {v!r} (attendu : {', '.join(known)})", field=name)

    def _check_years(self) -> None:
        lo, hi = self.annee_min, self.annee_max
        if lo is not None and hi is not None and lo > hi:
            raise InvalidInput(f"l'année minimale ({lo}) est après l'année maximale ({hi})", field="annee_min")

    def is_empty(self) -> bool:
        return not any(v for k, v in self.model_dump().items())

    def active(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v not in (None, [])}


#: Examples of the answer's models in the OpenAPI schema (the samples' « portail famille » search).
_PORTEUR = {
    "iri": "https://w3id.org/capitalis/id/collectivite/69290",
    "nom": "Saint-Priest",
    "insee": "69290",
    "siren": None,
}
_WHY = {"dense": 0.5883, "lexical": 7.9913, "graph": 0.55}
_HIT = {
    "iri": "https://w3id.org/capitalis/id/experience/vi-1002",
    "titre": "Portail famille nouvelle génération, connecté à FranceConnect",
    "score": 1.5479,
    "extrait": "Saint-Priest a remplacé son <mark>portail</mark> <mark>famille</mark> vieillissant par une version "
    "adaptée aux mobiles, où les parents s'identifient avec FranceConnect…",
    "porteurs": [_PORTEUR],
    "services": [{"notation": "S3", "label": "Portail famille"}, {"notation": "S27", "label": "Identité numérique"}],
    "annee": 2021,
    "technologies": ["FranceConnect", "PayFiP", "portail famille"],
    "sources": [{"source": "villes-internet", "id": "1002"}],
    "why": _WHY,
}
_FACET_VALUE = {"code": "75", "label": "Nouvelle-Aquitaine", "count": 8}


class Porteur(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"description": "Un porteur de l'expérience : IRI, nom, codes.", "examples": [_PORTEUR]}
    )

    iri: str
    nom: str
    insee: str | None = None
    siren: str | None = None


class SourceRef(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"source": "villes-internet", "id": "1002"}]})

    source: str
    id: str


class Why(BaseModel):
    """What made the score: dense cosine, BM25 score, lift from the taxonomy (all 0 when not involved)."""

    model_config = ConfigDict(
        json_schema_extra={
            "description": "Ce qui fait le score : similarité de sens (cosinus), score des mots (BM25), apport de la "
            "taxonomie (0 quand la part n'intervient pas).",
            "examples": [_WHY],
        }
    )

    dense: float = 0.0
    lexical: float = 0.0
    graph: float = 0.0


class Hit(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "description": "Une expérience trouvée : titre, score, extrait surligné, porteurs, services, technologies.",
            "examples": [_HIT],
        }
    )

    iri: str
    titre: str
    score: float
    extrait: str
    porteurs: list[Porteur]
    services: list[dict[str, str]]
    annee: int | None
    technologies: list[str]
    sources: list[SourceRef]
    why: Why


class FacetValue(BaseModel):
    """One value of a facet: its code (what a filter takes), its French label, the experiences found with it."""

    model_config = ConfigDict(
        json_schema_extra={
            "description": "Une valeur de facette : son code (ce que prend le filtre), son libellé, le nombre "
            "d'expériences trouvées avec elle.",
            "examples": [_FACET_VALUE],
        }
    )

    code: str
    label: str
    count: int


class SearchResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "query": "portail famille",
                    "total": 70,
                    "facets": {"region": {"75": 8, "84": 9}, "taille": {"village": 8, "petite-ville": 24}},
                    "facet_values": {
                        "region": [
                            {"code": "75", "label": "Nouvelle-Aquitaine", "count": 8},
                            {"code": "84", "label": "Auvergne-Rhône-Alpes", "count": 9},
                        ],
                        "taille": [
                            {"code": "village", "label": "commune de moins de 2 000 habitants", "count": 8},
                            {"code": "petite-ville", "label": "commune de 2 000 à 20 000 habitants", "count": 24},
                        ],
                    },
                    "results": [_HIT],
                    "message": None,
                    "corrections": {},
                }
            ]
        }
    )

    query: str
    total: int
    facets: dict[str, dict[str, int]]  # facet -> code -> count (kept as is: clients read it)
    #: The same counts, each value with its French label (``{"code": "75", "label": "Nouvelle-Aquitaine",
    #: "count": 43}``), in the order of ``facets``.
    facet_values: dict[str, list[FacetValue]] = Field(default_factory=dict)
    results: list[Hit]
    message: str | None = None
    corrections: dict[str, str] = Field(default_factory=dict)
