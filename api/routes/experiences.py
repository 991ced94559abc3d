"""Experiences: hybrid search with facets (the CLI's filters and JSON), one experience, similar ones.

The search also answers in CSV (``Accept: text/csv`` or ``format=csv``) and GeoJSON (``application/geo+json``,
``format=geojson``): the explorer's downloads (:mod:`fiches.export`), one page of results; ``Link`` gives the others.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from api.deps import ContextDep, Limit, Offset, SearchDep, StoreDep
from api.negotiation import choose
from api.pagination import set_links
from api.problems import responses
from api.routes._schemas import EXPERIENCE, ID, KEY_PATTERN, PESSAC, Ref, examples, exemples
from fiches import resources
from fiches.export import experiences_csv, experiences_geojson
from search import SOURCES, TAILLES, Filters, SearchResult, search, similar

router = APIRouter(prefix="/experiences", tags=["expériences"])


class ExperiencesPublic(SearchResult):
    """A search answer: the same JSON as `capitalis search --json` (results, total, facets, corrections)."""

    model_config = examples(
        *SearchResult.model_config["json_schema_extra"]["examples"],  # type: ignore[index]
        description=(
            "Une réponse de recherche, le JSON de « capitalis search --json » : résultats, total, facettes "
            "(comptes bruts et valeurs libellées), corrections de la requête."
        ),
    )


S3 = {"iri": f"{ID}service/S3", "notation": "S3", "label": "Portail famille"}


class ServiceRef(BaseModel):
    model_config = examples(S3)

    iri: str
    notation: str
    label: str


class SourceRecord(BaseModel):
    model_config = examples({"source": "villes-internet", "id": "1175", "statut": "actif"})

    source: str
    id: str
    statut: str = "actif"


class ExperiencePublic(BaseModel):
    """One experience with its texts, carriers, taxonomy, technologies, links and sources."""

    model_config = examples(
        {
            "iri": EXPERIENCE["iri"],
            "id": "vi-1175",
            "titre": EXPERIENCE["titre"],
            "sous_titre": None,
            "date_debut": "2014-09-01",
            "date_fin": None,
            "synthese": (
                "À l'occasion de la réforme des rythmes scolaires, Pessac a refondu ses inscriptions périscolaires "
                "autour d'un espace citoyens unique, utilisable depuis un smartphone."
            ),
            "actions": (
                "Paramétrage du portail, reprise des données de 4 500 enfants, dématérialisation des justificatifs "
                "(quotient familial, assurance)."
            ),
            "resultats": "Près de huit inscriptions sur dix faites en ligne à la rentrée 2015.",
            "recommandations": None,
            "description": None,
            "porteurs": [PESSAC],
            "partenaires": [],
            "prestataires": [{"iri": f"{ID}organisation/arpege", "nom": "Arpège"}],
            "financeurs": [],
            "contacts": [{"iri": f"{ID}personne/bebc3ab7be814761", "nom": "Lucas Collet"}],
            "services": [S3],
            "technologies": [
                {"iri": f"{ID}technologie/concerto", "nom": "Concerto"},
                {"iri": f"{ID}technologie/espace-citoyens", "nom": "Espace Citoyens"},
            ],
            "thematiques": [],
            "competences": [],
            "liens": ["https://www.ville-pessac.example/un-guichet-en-ligne-pour-la-cantine-et-l"],
            "budget": None,
            "evaluation": None,
            "sources": [{"source": "villes-internet", "id": "1175", "statut": "actif"}],
            "proprietes": {
                "dct:title": [{"value": EXPERIENCE["titre"], "iri": False, "graph": "villes-internet", "lang": "fr"}],
                "cap:porteur": [
                    {"value": PESSAC["iri"], "iri": True, "graph": "villes-internet", "label": "Pessac"}
                ],
            },
        },
        description=(
            "Une expérience : textes, dates, porteurs, partenaires, prestataires, financeurs, contacts (nom seul), "
            "services ATLAAS, technologies, liens et sources."
        ),
    )

    iri: str
    id: str
    titre: str
    sous_titre: str | None
    date_debut: str | None
    date_fin: str | None
    synthese: str | None
    actions: str | None
    resultats: str | None
    recommandations: str | None
    description: str | None
    porteurs: list[Ref]
    partenaires: list[Ref]
    prestataires: list[Ref]
    financeurs: list[Ref]
    contacts: list[Ref] = Field(description="Personnes contacts : nom et fonction publics, coordonnées jamais.")
    services: list[ServiceRef]
    technologies: list[Ref]
    thematiques: list[Ref]
    competences: list[Ref]
    liens: list[str]
    budget: float | None
    evaluation: str | None
    sources: list[SourceRecord]
    proprietes: dict[str, list[dict[str, Any]]] = Field(
        description="Toutes les valeurs publiques, par propriété, avec le graphe nommé d'où chacune vient."
    )


ExperienceId = Annotated[
    str,
    Path(
        pattern=KEY_PATTERN,
        description="Clé de l'expérience (vi-1024, oten-OTEN-2009-0098, contrib-…).",
        openapi_examples=exemples(
            villes_internet=("Villes Internet : le guichet périscolaire de Pessac", "vi-1175"),
            oten=("OTeN : les classes mobiles de Pessac", "oten-OTEN-2011-0037"),
        ),
    ),
]


def _values(description: str, summary: str, *example: str) -> Any:
    """A repeatable query parameter; the search validates its values (:class:`search.Filters`)."""
    return Annotated[
        list[Annotated[str, Field(max_length=100)]],
        Query(max_length=20, description=description, openapi_examples=exemples(exemple=(summary, list(example)))),
    ]


Query_ = Annotated[
    str,
    Query(
        max_length=500,
        description="Ce que vous cherchez, en français (vide : tout).",
        openapi_examples=exemples(
            portail_famille=("Un besoin en deux mots", "portail famille"),
            phrase=("Une phrase", "inscrire les enfants à la cantine en ligne"),
        ),
    ),
]
Axes = _values("Axes ATLAAS (1 à 4).", "Axe 1 : démocratie et services publics", "1")
Enjeux = _values("Enjeux ATLAAS (1a…4c).", "Enjeu 1a : efficacité des services publics", "1a")
Usages = _values("Usages ATLAAS (1a1…4c2).", "Usage 1a1 : accès aux services publics, droits et démarches", "1a1")
Services = _values("Services ATLAAS (S1…S92).", "Service S3 : portail famille", "S3")
Regions = _values("Codes INSEE de région du porteur.", "Nouvelle-Aquitaine", "75")
Departements = _values("Codes de département du porteur.", "Gironde et Deux-Sèvres", "33", "79")
Tailles = _values(f"Classes de taille du porteur ({', '.join(TAILLES)}).", "Petites villes", "petite-ville")
Sources = _values(f"Sources ({', '.join(SOURCES)}).", "Villes Internet", "villes-internet")


def _annee(description: str, summary: str, value: int) -> Any:
    named = exemples(exemple=(summary, value))
    return Annotated[int | None, Query(ge=1900, le=2100, description=description, openapi_examples=named)]


AnneeMin = _annee("Première année (incluse).", "Depuis 2014", 2014)
AnneeMax = _annee("Dernière année (incluse).", "Jusqu'à 2021", 2021)
Technologies = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=100)]],
    Query(
        max_length=20,
        description="Technologies (toute graphie connue).",
        openapi_examples=exemples(exemple=("FranceConnect", ["FranceConnect"])),
    ),
]
Format = Annotated[
    Literal["json", "csv", "geojson"] | None,
    Query(
        description="Format de la réponse, à la place de l'en-tête Accept : json, csv ou geojson.",
        openapi_examples=exemples(csv=("Tableur (CSV)", "csv"), geojson=("Carte (GeoJSON)", "geojson")),
    ),
]
#: The search's answers by media type (JSON first: the default of a client that accepts anything).
_MEDIA = {"application/json": "json", "text/csv": "csv", "application/geo+json": "geojson"}
_SEARCH_OK = {
    200: {
        "description": (
            "Les résultats (JSON), ou la page de résultats en CSV (une ligne par expérience, cellules neutralisées "
            "pour les tableurs) ou en GeoJSON (un point par porteur localisé). En-tête Link : pages suivante, "
            "précédente, première et dernière."
        ),
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": (
                    "iri,titre,annee,porteurs,services,technologies,sources,score\r\n"
                    f"{ID}experience/vi-1002,\"Portail famille nouvelle génération, connecté à FranceConnect\",2021,"
                    "Saint-Priest,S3 Portail famille | S27 Identité numérique,FranceConnect | PayFiP | portail famille,"
                    "villes-internet:1002,1.5479\r\n"
                ),
            },
            "application/geo+json": {
                "schema": {"type": "object"},
                "example": {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [-0.6306, 44.80553]},
                            "properties": {
                                "label": "Pessac",
                                "porteur": PESSAC["iri"],
                                "experience": EXPERIENCE["iri"],
                                "titre": EXPERIENCE["titre"],
                                "annee": 2014,
                            },
                        }
                    ],
                },
            },
        },
    }
}


@router.get("", response_model=ExperiencesPublic, responses={**_SEARCH_OK, **responses(503)})
def experiences_search(
    request: Request,
    response: Response,
    context: ContextDep,
    index: SearchDep,
    q: Query_ = "",
    limit: Limit = 10,
    offset: Offset = 0,
    axe: Axes = [],  # noqa: B006  (FastAPI copies defaults)
    enjeu: Enjeux = [],  # noqa: B006
    usage: Usages = [],  # noqa: B006
    service: Services = [],  # noqa: B006
    region: Regions = [],  # noqa: B006
    departement: Departements = [],  # noqa: B006
    taille: Tailles = [],  # noqa: B006
    annee_min: AnneeMin = None,
    annee_max: AnneeMax = None,
    technologie: Technologies = [],  # noqa: B006
    source: Sources = [],  # noqa: B006
    format: Format = None,
) -> Any:
    """Recherche d'expériences (hybride : sens, mots et graphe) avec filtres, facettes et pagination ; en JSON,
    CSV ou GeoJSON."""
    filters = Filters(
        axe=axe,
        enjeu=enjeu,
        usage=usage,
        service=service,
        region=region,
        departement=departement,
        taille=taille,
        annee_min=annee_min,
        annee_max=annee_max,
        technologie=technologie,
        source=source,
    )
    result = search(context, q, filters, limit, offset, index=index)
    set_links(response, request, offset, limit, result.total)
    chosen = format or _MEDIA.get(choose(request.headers.get("accept"), list(_MEDIA)) or "", "json")
    headers = {"Link": response.headers["Link"], "Vary": "Accept"}
    if chosen == "csv":
        return Response(experiences_csv(result.results), media_type="text/csv; charset=utf-8", headers=headers)
    if chosen == "geojson":
        body = experiences_geojson(context, result.results)
        return Response(body, media_type="application/geo+json", headers=headers)
    response.headers["Vary"] = "Accept"
    return ExperiencesPublic(**result.model_dump())


@router.get("/{id}", response_model=ExperiencePublic, responses=responses(404))
def experiences_get(id: ExperienceId, store: StoreDep) -> dict[str, Any]:
    """Une expérience : textes, dates, porteurs et partenaires, services ATLAAS, technologies, liens, sources."""
    return resources.experience(store, id)


@router.get("/{id}/similaires", response_model=ExperiencesPublic, responses=responses(404, 503))
def experiences_similar(
    id: ExperienceId, context: ContextDep, index: SearchDep, limit: Limit = 10
) -> ExperiencesPublic:
    """Les expériences les plus semblables à une expérience donnée (jamais elle-même)."""
    result = similar(context, id, limit, index=index)
    return ExperiencesPublic(**result.model_dump())
