"""The API's translator of domain errors: an InvalidInput names the request's parameter for its domain field."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api.problems import PROBLEM_TYPE, install
from kg.errors import InvalidInput, NotFound


class Proposal(BaseModel):
    parrain: str
    filleuls: list[str]


def _app() -> FastAPI:
    """A small app whose routes fail as the domain functions do (real FastAPI, real translator)."""
    app = FastAPI()
    install(app)

    @app.get("/experiences")
    def experiences(
        annee_min: int | None = None, service: Annotated[list[str] | None, Query()] = None, field: str = "annee_min"
    ) -> None:
        raise InvalidInput("l'année minimale est après l'année maximale", field=field)

    @app.get("/collectivites/{code}")
    def collectivite(code: str) -> None:
        raise InvalidInput("code invalide", field="code")

    @app.post("/parrainages")
    def propose(proposal: Proposal) -> None:
        raise InvalidInput("une collectivité ne se parraine pas elle-même", field="filleuls")

    @app.get("/absent")
    def absent() -> None:
        raise NotFound("rien ici")

    return app


def test_invalid_input_names_the_query_parameter() -> None:
    with TestClient(_app()) as client:
        response = client.get("/experiences", params={"annee_min": 2015})
        body = response.json()
        assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM_TYPE)
        message = "l'année minimale est après l'année maximale"
        assert body["errors"] == [{"champ": "query.annee_min", "message": message}]
        assert body["detail"] == "annee_min : l'année minimale est après l'année maximale"
        assert body["title"] == "Entrée invalide" and body["status"] == 422 and body["instance"] == "/experiences"
        plural = client.get("/experiences", params={"field": "services"}).json()
        assert plural["errors"][0]["champ"] == "query.service"
        unknown = client.get("/experiences", params={"field": "rayon_km"}).json()
        assert unknown["errors"][0]["champ"] == "query.rayon_km"


def test_invalid_input_names_path_and_body_fields() -> None:
    with TestClient(_app()) as client:
        assert client.get("/collectivites/x").json()["errors"][0]["champ"] == "path.code"
        body = client.post("/parrainages", json={"parrain": "a", "filleuls": ["a"]}).json()
        assert body["errors"][0]["champ"] == "body.filleuls"


def test_other_errors_keep_their_shape() -> None:
    with TestClient(_app()) as client:
        body = client.get("/absent").json()
        assert body == {"type": "about:blank", "title": "Introuvable", "status": 404, "detail": "rien ici",
                        "instance": "/absent"}
