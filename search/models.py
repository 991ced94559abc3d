"""What a search takes and gives: the facet filters (validated once, here) and the answer's models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field, model_validator

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


class Porteur(BaseModel):
    iri: str
    nom: str
    insee: str | None = None
    siren: str | None = None


class SourceRef(BaseModel):
    source: str
    id: str


class Why(BaseModel):
    """What made the score: dense cosine, BM25 score, lift from the taxonomy (all 0 when not involved)."""

    dense: float = 0.0
    lexical: float = 0.0
    graph: float = 0.0


class Hit(BaseModel):
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

    code: str
    label: str
    count: int


class SearchResult(BaseModel):
    query: str
    total: int
    facets: dict[str, dict[str, int]]  # facet -> code -> count (kept as is: clients read it)
    #: The same counts, each value with its French label (``{"code": "75", "label": "Nouvelle-Aquitaine",
    #: "count": 43}``), in the order of ``facets``.
    facet_values: dict[str, list[FacetValue]] = Field(default_factory=dict)
    results: list[Hit]
    message: str | None = None
    corrections: dict[str, str] = Field(default_factory=dict)
