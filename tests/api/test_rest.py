"""Every REST resource through the real server: payloads, pagination, problems, security headers, CORS."""

from __future__ import annotations

import httpx

from kg.context import Context
from search import Filters, search
from tests.api.conftest import Api

PROBLEM = "application/problem+json"


def _problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"]
    return body


def test_root_and_openapi(http: httpx.Client) -> None:
    root = http.get("/").json()
    assert root["nom"] == "Capitalis" and root["liens"]["sparql"].endswith("/sparql")
    spec = http.get("/openapi.json").json()
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {
        "experiences_search",
        "experiences_get",
        "sparql_get",
        "sparql_post",
        "linked_data_resource",
        "contributions_create",
        "parrainage_match",
        "services_tree",
    } <= ids
    for path in spec["paths"].values():
        for op in path.values():
            assert op.get("summary") and op.get("description"), op["operationId"]  # one-line docstrings
    assert http.get("/docs").status_code == 200


def test_experiences_search_is_the_cli_json(api: Api, http: httpx.Client) -> None:
    response = http.get("/experiences", params={"q": "portail famille", "limit": 5, "axe": ["1", "2"]})
    assert response.status_code == 200
    body = response.json()
    with Context.open(api.settings, read_only=True) as context:
        expected = search(context, "portail famille", Filters(axe=["1", "2"]), 5, 0)
    assert body == expected.model_dump()
    assert body["total"] >= len(body["results"]) > 0
    assert set(body["facets"]) >= {"axe", "enjeu", "usage", "region", "taille", "annee", "technologie", "source"}


def test_experiences_pagination_and_filters(http: httpx.Client) -> None:
    first = http.get("/experiences", params={"limit": 3}).json()
    second = http.get("/experiences", params={"limit": 3, "offset": 3}).json()
    assert first["total"] == second["total"] > 6
    assert not {h["iri"] for h in first["results"]} & {h["iri"] for h in second["results"]}
    oten = http.get("/experiences", params={"source": "oten", "limit": 100}).json()
    assert oten["total"] > 0 and all(any(s["source"] == "oten" for s in h["sources"]) for h in oten["results"])
    years = http.get("/experiences", params={"annee_min": 2010, "annee_max": 2012, "limit": 100}).json()
    assert all(2010 <= h["annee"] <= 2012 for h in years["results"])


def test_experiences_invalid_input_is_a_french_problem(http: httpx.Client) -> None:
    body = _problem(http.get("/experiences", params={"limit": 0}), 422)
    assert body["errors"][0]["champ"] == "query.limit" and "supérieur" in body["errors"][0]["message"]
    body = _problem(http.get("/experiences", params={"axe": "x"}), 422)
    assert body["errors"][0]["champ"].startswith("query.axe")
    body = _problem(http.get("/experiences", params={"annee_min": 2015, "annee_max": 2010}), 422)
    assert "annee" in body["detail"]


def test_experience_detail_and_similar(http: httpx.Client) -> None:
    hit = http.get("/experiences", params={"q": "open data", "limit": 1}).json()["results"][0]
    key = hit["iri"].rsplit("/", 1)[-1]
    detail = http.get(f"/experiences/{key}").json()
    assert detail["iri"] == hit["iri"] and detail["titre"] == hit["titre"]
    assert detail["porteurs"] and detail["sources"]
    assert all("graph" in v for values in detail["proprietes"].values() for v in values)
    similar = http.get(f"/experiences/{key}/similaires", params={"limit": 4}).json()
    assert 0 < len(similar["results"]) <= 4 and hit["iri"] not in {h["iri"] for h in similar["results"]}
    _problem(http.get("/experiences/vi-0000000"), 404)
    _problem(http.get("/experiences/vi-0000000/similaires"), 404)
    _problem(http.get("/experiences/%20bad"), 422)


def test_collectivite_and_its_experiences(api: Api, http: httpx.Client) -> None:
    code = api.collectivite.rsplit("/", 1)[-1]
    body = http.get(f"/collectivites/{code}").json()
    assert body["iri"] == api.collectivite and body["type"] == "cap:Commune" and body["experiences"] > 0
    page = http.get(f"/collectivites/{code}/experiences", params={"limit": 1}).json()
    assert page["count"] == body["experiences"] and len(page["data"]) == 1
    _problem(http.get("/collectivites/00000"), 404)


def test_acteur_has_no_contact_details(http: httpx.Client) -> None:
    detail = None
    for hit in http.get("/experiences", params={"limit": 50}).json()["results"]:
        detail = http.get(f"/experiences/{hit['iri'].rsplit('/', 1)[-1]}").json()
        if detail["contacts"]:
            break
    assert detail and detail["contacts"]
    person = detail["contacts"][0]["iri"].rsplit("/", 1)[-1]
    body = http.get(f"/acteurs/{person}").json()
    assert body["type"] == "cap:Personne" and body["nom"]
    assert any(e["role"] == "contact" for e in body["experiences"])
    text = str(body)
    assert "@" not in text and "courriel" not in text and "telephone" not in text
    _problem(http.get("/acteurs/inconnu-0000"), 404)


def test_lieux_technologies_services(http: httpx.Client) -> None:
    lieux = http.get("/lieux", params={"limit": 5}).json()
    assert lieux["count"] > 5 and len(lieux["data"]) == 5
    some = lieux["data"][0]
    found = http.get("/lieux", params={"q": some["nom"]}).json()
    assert some["iri"] in {x["iri"] for x in found["data"]}
    techs = http.get("/technologies", params={"limit": 3}).json()
    assert techs["count"] > 3 and techs["data"][0]["experiences"] >= techs["data"][1]["experiences"]
    top = techs["data"][0]
    detail = http.get(f"/technologies/{top['id']}").json()
    assert detail["count"] == top["experiences"] == len(detail["experiences"])
    _problem(http.get("/technologies/nulle-part"), 404)
    tree = http.get("/services").json()
    assert tree["count"] == 4
    axe = tree["data"][0]
    assert (
        axe["notation"] == "1"
        and axe["enfants"]
        and axe["experiences"] >= max(e["experiences"] for e in axe["enfants"])
    )


def test_territoires_and_stats(http: httpx.Client) -> None:
    dep = http.get("/territoires/departement/35").json()
    assert dep["nom"] == "Ille-et-Vilaine" and dep["parents"][0]["iri"].endswith("/region/53")
    _problem(http.get("/territoires/pays/35"), 422)
    _problem(http.get("/territoires/commune/99999"), 404)
    stats = http.get("/stats").json()
    assert stats["graphs"]["villes-internet"] > 0 and "prive" not in stats["graphs"]


def test_start_up_prepares_search_and_parrainage(api: Api) -> None:
    """The lifespan loads the index, builds the carrier table and answers a query in the background, before any
    match or search."""
    import time

    from parrainage.porteurs import CACHE_NAME, Porteurs

    deadline = time.monotonic() + 60
    while api.app.state.warm_up is None and time.monotonic() < deadline:
        time.sleep(0.05)
    prepared = api.app.state.warm_up
    assert prepared and prepared["experiences"] > 100 and prepared["porteurs"] > 10
    assert prepared["recherche"] > 0  # the query encoder and the query path's compiled loops are loaded
    cached = api.app.state.context.peek(CACHE_NAME)
    assert isinstance(cached, Porteurs) and cached.size == prepared["porteurs"]


def test_parrainage_routes(api: Api, http: httpx.Client) -> None:
    code = api.collectivite.rsplit("/", 1)[-1]
    result = http.get("/parrainage/match", params={"collectivite": code, "besoin": "portail famille", "limit": 3})
    assert result.status_code == 200, result.text
    assert result.json()["filleul"]["iri"] == api.collectivite
    grappes = http.get("/parrainage/grappes", params={"departement": "35", "besoin": "open data"})
    assert grappes.status_code == 200, grappes.text
    assert grappes.json()["departement"]
    sponsor = result.json()["sponsors"][0]["iri"]
    body = {"parrain": sponsor, "filleuls": [code], "services": ["S12"], "besoin": "portail famille"}
    assert http.post("/parrainages", json=body).status_code == 401
    with api.client("contributeur") as contributor, api.client("moderateur") as moderator:
        created = contributor.post("/parrainages", json=body)
        assert created.status_code == 201, created.text
        proposed = created.json()
        assert proposed["statut"] == "propose" and proposed["parrain"]["iri"] == sponsor
        key = proposed["iri"].rsplit("/", 1)[-1]
        assert contributor.post(f"/parrainages/{key}/acceptation").status_code == 403
        accepted = moderator.post(f"/parrainages/{key}/acceptation").json()
        assert accepted["statut_libelle"] == "accepté"
    listing = http.get("/parrainages", params={"collectivite": code}).json()
    assert listing["count"] == len(listing["data"]) >= 1
    assert http.get(f"/parrainages/{key}").json()["statut"] == "accepte"
    _problem(http.get("/parrainage/match", params={"collectivite": "zz", "besoin": "x"}), 422)


def test_unknown_route_and_method_are_problems(http: httpx.Client) -> None:
    _problem(http.get("/nulle-part"), 404)
    _problem(http.delete("/experiences"), 405)


def test_security_headers_and_cors(api: Api, http: httpx.Client) -> None:
    response = http.get("/stats")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    origin = api.settings.api_cors_origins[0]
    preflight = http.options("/experiences", headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == origin
    stranger = http.get("/stats", headers={"Origin": "https://ailleurs.example"})
    assert "access-control-allow-origin" not in stranger.headers
