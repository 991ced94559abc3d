"""Linked data: every data IRI ``https://w3id.org/capitalis/id/...`` served at ``/id/...``, and the ontology
at ``/ontology``, with content negotiation (HTML → the explorer's page, Turtle, JSON-LD, N-Triples, RDF/XML).

The description of a resource is its public statements (every public named graph) plus the labels of the
resources it points to; never a statement of the private graphs.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from rdflib import Graph, URIRef

from api.deps import SettingsDep, StoreDep
from api.negotiation import choose
from api.problems import problem, responses
from api.routes._schemas import exemples
from fiches.deeplink import fiche_url
from fiches.resources import collectivite_du_referentiel_store
from kg.errors import NotFound
from kg.store import Store
from ontology import ONTOLOGY_FILE, ONTOLOGY_IRI
from ontology.namespaces import ID, bind

router = APIRouter(tags=["données liées"])

#: media type → rdflib serialiser
RDF_MEDIA = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}
HTML = ("text/html", "application/xhtml+xml")
_PESSAC = "https://w3id.org/capitalis/id/collectivite/33318"
#: The description of Pessac (two of its statements) in each RDF syntax: the examples of the negotiated answers.
RDF_EXAMPLES = {
    "text/turtle": (
        "@prefix cap: <https://w3id.org/capitalis/ontology#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\n"
        f"<{_PESSAC}> a cap:Commune ;\n"
        '    rdfs:label "Pessac"@fr ;\n'
        '    cap:codeInsee "33318" .\n'
    ),
    "application/ld+json": [
        {
            "@id": _PESSAC,
            "@type": ["https://w3id.org/capitalis/ontology#Commune"],
            "http://www.w3.org/2000/01/rdf-schema#label": [{"@language": "fr", "@value": "Pessac"}],
            "https://w3id.org/capitalis/ontology#codeInsee": [{"@value": "33318"}],
        }
    ],
    "application/n-triples": (
        f"<{_PESSAC}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        "<https://w3id.org/capitalis/ontology#Commune> .\n"
        f'<{_PESSAC}> <http://www.w3.org/2000/01/rdf-schema#label> "Pessac"@fr .\n'
        f'<{_PESSAC}> <https://w3id.org/capitalis/ontology#codeInsee> "33318" .\n'
    ),
    "application/rdf+xml": (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f'  <rdf:Description rdf:about="{_PESSAC}">\n'
        '    <rdf:type rdf:resource="https://w3id.org/capitalis/ontology#Commune"/>\n'
        '    <label xmlns="http://www.w3.org/2000/01/rdf-schema#" xml:lang="fr">Pessac</label>\n'
        '    <codeInsee xmlns="https://w3id.org/capitalis/ontology#">33318</codeInsee>\n'
        "  </rdf:Description>\n"
        "</rdf:RDF>\n"
    ),
}
_CONTENT = {m: {"example": RDF_EXAMPLES[m]} for m in RDF_MEDIA}
_DESCRIBED = {
    200: {"description": "La description RDF de la ressource, au format négocié.", "content": _CONTENT},
    303: {"description": "Un navigateur (HTML) est renvoyé vers la fiche de l'explorateur."},
}
_ONTOLOGY = "https://w3id.org/capitalis/ontology"
_ONTOLOGY_EXAMPLES = {
    "text/turtle": (
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix dct: <http://purl.org/dc/terms/> .\n\n"
        f"<{_ONTOLOGY}> a owl:Ontology ;\n"
        '    dct:title "Ontologie Capitalis"@fr , "Capitalis ontology"@en ;\n'
        '    owl:versionInfo "0.1.0" .\n'
    ),
    "application/ld+json": [
        {
            "@id": _ONTOLOGY,
            "@type": ["http://www.w3.org/2002/07/owl#Ontology"],
            "http://purl.org/dc/terms/title": [{"@language": "fr", "@value": "Ontologie Capitalis"}],
            "http://www.w3.org/2002/07/owl#versionInfo": [{"@value": "0.1.0"}],
        }
    ],
    "application/n-triples": (
        f"<{_ONTOLOGY}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Ontology> .\n"
        f'<{_ONTOLOGY}> <http://purl.org/dc/terms/title> "Ontologie Capitalis"@fr .\n'
    ),
    "application/rdf+xml": (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f'  <owl:Ontology xmlns:owl="http://www.w3.org/2002/07/owl#" rdf:about="{_ONTOLOGY}">\n'
        '    <title xmlns="http://purl.org/dc/terms/" xml:lang="fr">Ontologie Capitalis</title>\n'
        "  </owl:Ontology>\n"
        "</rdf:RDF>\n"
    ),
}
_ONTOLOGY_OK = {
    200: {
        "description": "L'ontologie OWL, au format négocié.",
        "content": {m: {"example": _ONTOLOGY_EXAMPLES[m]} for m in RDF_MEDIA},
    },
    303: _DESCRIBED[303],
}


def negotiate(request: Request) -> str | None:
    """``html`` or an RDF media type, by the Accept header (``format=ttl|jsonld|nt|rdfxml`` wins)."""
    forced = {
        "ttl": "text/turtle",
        "jsonld": "application/ld+json",
        "nt": "application/n-triples",
        "rdfxml": "application/rdf+xml",
        "html": "html",
    }.get(request.query_params.get("format", ""))
    if forced:
        return forced
    chosen = choose(request.headers.get("accept"), [*RDF_MEDIA, *HTML])
    return "html" if chosen in HTML else chosen


def explorer_page(settings_url: str, iri: str) -> str:
    """The explorer page of a resource: ``{explorer_url}/fiche?iri=…`` (the explorer's deep-link scheme)."""
    return fiche_url(iri, settings_url)


def serialize(graph: Graph, media: str) -> bytes:
    bind(graph)
    out = graph.serialize(format=RDF_MEDIA[media], encoding="utf-8")
    return out if isinstance(out, bytes) else out.encode()


def describe(store: Store, iri: str) -> Graph:
    """The public statements about ``iri`` and the labels of what it points to."""
    return store.construct(
        """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        CONSTRUCT { $s ?p ?o . ?o rdfs:label ?l . ?o skos:prefLabel ?pl }
        WHERE { GRAPH ?g { $s ?p ?o }
                OPTIONAL { FILTER(isIRI(?o)) GRAPH ?h { ?o rdfs:label ?l } }
                OPTIONAL { FILTER(isIRI(?o)) GRAPH ?k { ?o skos:prefLabel ?pl } } }""",
        s=URIRef(iri),
    )


@router.get("/id/{path:path}", response_class=Response, responses={**_DESCRIBED, **responses(404, 406)})
def linked_data_resource(
    path: Annotated[
        str,
        Path(
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._~%/-]{0,299}$",
            description="Chemin après /id/.",
            openapi_examples=exemples(
                pessac=("La collectivité Pessac", "collectivite/33318"),
                experience=("L'expérience vi-1175", "experience/vi-1175"),
                service=("Le service ATLAAS S3, portail famille", "service/S3"),
            ),
        ),
    ],
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    """Une ressource par son IRI : HTML → fiche de l'explorateur ; sinon Turtle, JSON-LD, N-Triples ou RDF/XML."""
    iri = str(ID) + path
    media = negotiate(request)
    if media is None:
        return problem(406, "formats disponibles : text/html, " + ", ".join(RDF_MEDIA), instance=request.url.path)
    graph = describe(store, iri)
    if len(graph) == 0 and (virtual := collectivite_du_referentiel_store(store, iri)) is not None:
        graph = describe(virtual, iri)
    if len(graph) == 0:
        raise NotFound(f"aucune ressource publique {iri}")
    if media == "html":
        return RedirectResponse(explorer_page(settings.explorer_url, iri), status_code=303, headers={"Vary": "Accept"})
    headers = {"Vary": "Accept", "Link": f'<{iri}>; rel="canonical"'}
    return Response(serialize(graph, media), media_type=media, headers=headers)


@lru_cache(maxsize=8)
def _ontology(media: str) -> bytes:
    if media == "text/turtle":
        return ONTOLOGY_FILE.read_bytes()
    graph = Graph()
    graph.parse(ONTOLOGY_FILE, format="turtle")
    return serialize(graph, media)


@router.get("/ontology", response_class=Response, responses={**_ONTOLOGY_OK, **responses(406)})
def linked_data_ontology(request: Request, settings: SettingsDep) -> Response:
    """L'ontologie Capitalis (OWL) : Turtle, JSON-LD, N-Triples ou RDF/XML ; HTML → l'explorateur."""
    media = negotiate(request)
    if media is None:
        return problem(406, "formats disponibles : text/html, " + ", ".join(RDF_MEDIA), instance=request.url.path)
    if media == "html":
        return RedirectResponse(
            explorer_page(settings.explorer_url, ONTOLOGY_IRI), status_code=303, headers={"Vary": "Accept"}
        )
    return Response(_ontology(media), media_type=media, headers={"Vary": "Accept"})
