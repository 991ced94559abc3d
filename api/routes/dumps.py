"""Dumps: one gzip N-Quads file per public named graph (and one of them all), described in VoID + DCAT.

Files are written on demand under ``$CAPITALIS_HOME/dumps/`` and rewritten when the store changed since
(its files' signature, see ``kg.sparql.store_signature``). The private graphs are never dumped.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, VOID

from api.deps import SettingsDep, StoreDep
from api.negotiation import choose
from api.problems import problem, responses
from api.routes._schemas import examples, exemples
from api.routes.linked_data import RDF_MEDIA, serialize
from fiches.names import graph_name
from fiches.queries import stats
from kg.errors import NotFound
from kg.settings import Settings
from kg.sparql import store_signature
from kg.store import Store
from ontology.iri import PUBLIC_GRAPHS, graph
from ontology.namespaces import CAP, ID

router = APIRouter(prefix="/dumps", tags=["données liées"])
DATASET = URIRef(ID["dataset/capitalis"])
ALL = "capitalis"
_lock = threading.Lock()


_SITE = "https://capitalis.example"
_DUMPS = [
    {
        "nom": "capitalis.nq.gz",
        "graphe": None,
        "url": f"{_SITE}/dumps/capitalis.nq.gz",
        "triplets": 75913,
        "taille": 1843210,
    },
    {
        "nom": "villes-internet.nq.gz",
        "graphe": "https://w3id.org/capitalis/graph/villes-internet",
        "url": f"{_SITE}/dumps/villes-internet.nq.gz",
        "triplets": 19704,
        "taille": None,
    },
]


class DumpPublic(BaseModel):
    model_config = examples(_DUMPS[1])

    nom: str = Field(description="Nom du fichier.")
    graphe: str | None = Field(description="Le graphe nommé exporté (aucun : tous les graphes publics).")
    url: str
    triplets: int
    taille: int | None = Field(description="Taille en octets, une fois le fichier écrit.")


class DumpsPublic(BaseModel):
    model_config = examples({"data": _DUMPS, "count": 2})

    data: list[DumpPublic]
    count: int


def _public_graphs(store: Store) -> list[str]:
    present = set(store.graphs())
    return [str(graph(g)) for g in PUBLIC_GRAPHS if str(graph(g)) in present]


def _signature(store: Store) -> str:
    path = getattr(store, "path", None)  # only the embedded store has files that tell when it changed
    return hashlib.sha256(repr(store_signature(path)).encode()).hexdigest()[:16] if path else "memoire"


def _listing(request: Request, store: Store, settings: Settings) -> list[dict[str, Any]]:
    directory = FsPath(settings.home) / "dumps"
    counts = stats(store)["graphs"]
    items = []
    for g in [None, *_public_graphs(store)]:
        name = graph_name(g) if g else ALL
        path = directory / f"{name}.nq.gz"
        items.append(
            {
                "nom": f"{name}.nq.gz",
                "graphe": g,
                "url": str(request.url_for("dumps_file", name=f"{name}.nq.gz")),
                "triplets": counts.get(name, 0) if g else sum(counts.values()),
                "taille": path.stat().st_size if path.exists() else None,
            }
        )
    return items


def _void(request: Request, items: list[dict[str, Any]]) -> Graph:
    void = Graph()
    void.bind("void", VOID)
    void.bind("dcat", DCAT)
    void.bind("dct", DCTERMS)
    d = DATASET
    void.add((d, RDF.type, VOID.Dataset))
    void.add((d, RDF.type, DCAT.Dataset))
    void.add((d, DCTERMS.title, Literal("Capitalis : expériences numériques des collectivités", lang="fr")))
    void.add(
        (
            d,
            DCTERMS.description,
            Literal(
                "Graphe de connaissances des projets numériques des collectivités territoriales françaises.", lang="fr"
            ),
        )
    )
    void.add((d, DCTERMS.license, URIRef("https://www.etalab.gouv.fr/licence-ouverte-open-licence")))
    void.add((d, VOID.uriSpace, Literal(str(ID))))
    void.add((d, VOID.sparqlEndpoint, URIRef(str(request.url_for("sparql_get")))))
    void.add((d, VOID.vocabulary, URIRef(str(CAP))))
    for item in items:
        dist = URIRef(item["url"])
        target = d
        if item["graphe"]:
            target = URIRef(f"{DATASET}/{item['nom'].removesuffix('.nq.gz')}")
            void.add((d, VOID.subset, target))
            void.add((target, RDF.type, VOID.Dataset))
            void.add((target, DCTERMS.source, URIRef(item["graphe"])))
        void.add((target, VOID.triples, Literal(item["triplets"], datatype=XSD.integer)))
        void.add((target, VOID.dataDump, dist))
        void.add((target, DCAT.distribution, dist))
        void.add((dist, RDF.type, DCAT.Distribution))
        void.add((dist, DCAT.downloadURL, dist))
        void.add((dist, DCAT.mediaType, URIRef("https://www.iana.org/assignments/media-types/application/n-quads")))
        void.add((dist, DCAT.compressFormat, URIRef("https://www.iana.org/assignments/media-types/application/gzip")))
    return void


def _void_example(media: str) -> Any:
    """The VoID + DCAT description of one dump, in ``media``: the example of the negotiated answers."""
    g = Graph()
    g.bind("void", VOID)
    g.bind("dcat", DCAT)
    g.bind("dct", DCTERMS)
    dist = URIRef(f"{_SITE}/dumps/capitalis.nq.gz")
    g.add((DATASET, RDF.type, VOID.Dataset))
    g.add((DATASET, DCTERMS.title, Literal("Capitalis : expériences numériques des collectivités", lang="fr")))
    g.add((DATASET, VOID.sparqlEndpoint, URIRef(f"{_SITE}/sparql")))
    g.add((DATASET, VOID.triples, Literal(75913, datatype=XSD.integer)))
    g.add((DATASET, VOID.dataDump, dist))
    g.add((DATASET, DCAT.distribution, dist))
    g.add((dist, RDF.type, DCAT.Distribution))
    g.add((dist, DCAT.downloadURL, dist))
    text = serialize(g, media).decode()
    if media == "application/n-triples":  # one line a triple, in no set order: sorted, for a stable schema
        return "".join(f"{line}\n" for line in sorted(text.strip().splitlines()))
    return json.loads(text) if media == "application/ld+json" else text


@router.get(
    "",
    response_model=DumpsPublic,
    responses={
        200: {
            "description": "La liste des exports (JSON), ou leur description VoID + DCAT (Turtle, JSON-LD…).",
            "content": {"application/json": {}, **{m: {"example": _void_example(m)} for m in RDF_MEDIA}},
        },
        **responses(406),
    },
)
def dumps_list(request: Request, store: StoreDep, settings: SettingsDep) -> Any:
    """Les exports gzip N-Quads des graphes publics ; en Turtle ou JSON-LD, leur description VoID + DCAT."""
    items = _listing(request, store, settings)
    media = choose(request.headers.get("accept"), ["application/json", *RDF_MEDIA])
    if media is None:
        return problem(406, "formats disponibles : application/json, " + ", ".join(RDF_MEDIA), instance="/dumps")
    if media == "application/json":
        return {"data": items, "count": len(items)}
    return Response(serialize(_void(request, items), media), media_type=media, headers={"Vary": "Accept"})


@router.get(
    "/{name}",
    response_class=FileResponse,
    responses={
        200: {
            "description": "Le fichier N-Quads compressé.",
            "content": {
                "application/gzip": {
                    "examples": {
                        "capitalis": {
                            "summary": "Tous les graphes publics (gzip, à décompresser)",
                            "description": (
                                "Une fois décompressé, une ligne par triplet et son graphe : "
                                "<https://w3id.org/capitalis/id/collectivite/33318> "
                                "<http://www.w3.org/2000/01/rdf-schema#label> \"Pessac\"@fr "
                                "<https://w3id.org/capitalis/graph/oten> ."
                            ),
                            "externalValue": "/dumps/capitalis.nq.gz",
                        }
                    }
                }
            },
        },
        **responses(404),
    },
)
def dumps_file(
    name: Annotated[str, Path(
            pattern=r"^[a-z0-9-]{1,40}\.nq\.gz$",
            description="Nom du fichier (voir /dumps).",
            openapi_examples=exemples(
                capitalis=("Tous les graphes publics", "capitalis.nq.gz"),
                villes_internet=("Le graphe Villes Internet", "villes-internet.nq.gz"),
            ),
        )],
    store: StoreDep,
    settings: SettingsDep,
) -> FileResponse:
    """Un export gzip N-Quads (écrit à la demande, réécrit quand l'entrepôt a changé)."""
    base = name.removesuffix(".nq.gz")
    graphs = _public_graphs(store)
    wanted = graphs if base == ALL else [g for g in graphs if graph_name(g) == base]
    if not wanted:
        raise NotFound(f"aucun export {name} (voir /dumps)")
    directory = FsPath(settings.home) / "dumps"
    path, stamp = directory / name, directory / f"{name}.signature"
    signature = _signature(store)
    with _lock:
        if not path.exists() or not stamp.exists() or stamp.read_text() != signature:
            directory.mkdir(parents=True, exist_ok=True)
            partial = directory / f".partiel-{name}"  # ends in .gz: the dump is compressed
            store.dump(partial, "nq", wanted)
            partial.replace(path)
            stamp.write_text(signature)
    return FileResponse(path, media_type="application/gzip", filename=name)
