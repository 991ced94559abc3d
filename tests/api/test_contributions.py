"""Accounts, roles and the moderation round trip through the real server; rate limits; the users commands."""

from __future__ import annotations

import httpx
import pytest
from typer.testing import CliRunner

from tests.api.conftest import CAP, PASSWORD, Api, free_port, serve

PROBLEM = "application/problem+json"
NEW = {
    "type": "experience",
    "titre": "Un atelier de réparation de vélos connecté",
    "synthese": "La commune a ouvert un atelier où les habitants réservent en ligne un créneau de réparation.",
    "services": ["S12"],
    "technologies": ["Wordpress", "Capteur de vélos"],
    "date_debut": "2024-05",
    "liens": ["https://atelier.example/velos"],
    "justification": "Projet lancé l'an dernier.",
}


def test_no_token_wrong_token_wrong_role(api: Api, http: httpx.Client) -> None:
    none = http.post("/contributions", json=NEW)
    assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer"
    assert none.headers["content-type"].startswith(PROBLEM)
    wrong = http.get("/contributions", headers={"Authorization": "Bearer cap_inconnu"})
    assert wrong.status_code == 401 and "jeton" in wrong.json()["detail"]
    with api.client("moderateur") as moderator:
        refused = moderator.post("/contributions", json=NEW)
        assert refused.status_code == 403 and "contributeur" in refused.json()["detail"]
    with api.client("contributeur") as contributor:
        pending = contributor.post("/contributions", json=NEW).json()
        refused = contributor.post(f"/contributions/{pending['id']}/acceptation")
        assert refused.status_code == 403 and "moderateur" in refused.json()["detail"]


def test_password_flow_and_api_keys(api: Api, http: httpx.Client) -> None:
    bad = http.post("/auth/token", data={"username": "contributeur-test", "password": "faux-mot-de-passe"})
    assert bad.status_code == 401 and "incorrect" in bad.json()["detail"]
    token = http.post(
        "/auth/token", data={"username": "contributeur-test", "password": PASSWORD, "grant_type": "password"}
    )
    assert token.status_code == 200 and token.json()["token_type"] == "bearer"
    assert token.headers["cache-control"] == "no-store"
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    me = http.get("/auth/moi", headers=headers).json()
    assert me == {**me, "username": "contributeur-test", "role": "contributeur", "collectivite": api.collectivite}
    key = http.post("/auth/cles", headers=headers)
    assert key.status_code == 201 and key.json()["expires_in"] is None
    assert http.get("/auth/moi", headers={"Authorization": f"Bearer {key.json()['access_token']}"}).status_code == 200


def test_secrets_are_hashed_at_rest(api: Api) -> None:
    raw = (api.home / "accounts.sqlite").read_bytes()
    assert api.keys["contributeur"].encode() not in raw and PASSWORD.encode() not in raw
    assert b"$argon2id$" in raw


def test_moderation_round_trip_new_experience(api: Api, http: httpx.Client) -> None:
    contributor, other, moderator = api.client("contributeur"), api.client("autre"), api.client("moderateur")
    created = contributor.post("/contributions", json=NEW)
    assert created.status_code == 201, created.text
    pending = created.json()
    assert pending["statut"] == "en-attente" and pending["statut_libelle"] == "en attente"
    assert other.get(f"/contributions/{pending['id']}").status_code == 404  # another contributeur's
    assert pending["id"] not in {c["id"] for c in other.get("/contributions").json()["data"]}
    waiting = moderator.get("/contributions", params={"statut": "en-attente"}).json()
    assert pending["id"] in {c["id"] for c in waiting["data"]}

    accepted = moderator.post(f"/contributions/{pending['id']}/acceptation")
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["statut"] == "acceptee" and body["iri"].endswith(pending["id"])
    assert contributor.get(f"/contributions/{pending['id']}").json()["statut_libelle"] == "acceptée"
    again = moderator.post(f"/contributions/{pending['id']}/acceptation")
    assert again.status_code == 422 and "déjà modérée" in again.json()["detail"]

    # in the contributions graph, with its provenance, readable by SPARQL, the REST routes and the search
    query = f"""SELECT ?e ?who ?when WHERE {{ GRAPH <https://w3id.org/capitalis/graph/contributions> {{
        <{body["iri"]}> a <{CAP}Contribution> ; <{CAP}cible> ?e ; <{CAP}statutModeration> "acceptee" ;
            <http://www.w3.org/ns/prov#wasAttributedTo> ?who ; <http://www.w3.org/ns/prov#generatedAtTime> ?when .
        ?e <{CAP}porteur> ?who ; <http://www.w3.org/ns/prov#wasDerivedFrom> <{body["iri"]}> }} }}"""
    rows = http.get("/sparql", params={"query": query}).json()["results"]["bindings"]
    assert len(rows) == 1 and rows[0]["who"]["value"] == api.collectivite and rows[0]["e"]["value"] == body["cible"]
    key = body["cible"].rsplit("/", 1)[-1]
    detail = http.get(f"/experiences/{key}").json()
    assert detail["titre"] == NEW["titre"] and {t["nom"] for t in detail["technologies"]} >= {"WordPress"}
    assert detail["sources"] == [{"source": "contributions", "id": pending["id"], "statut": "actif"}]
    hits = http.get("/experiences", params={"q": "atelier de réparation de vélos", "limit": 3}).json()["results"]
    assert body["cible"] in {h["iri"] for h in hits}
    found = http.get("/experiences", params={"source": "contributions"}).json()  # the source facet knows them
    assert [h["iri"] for h in found["results"]] == [body["cible"]] and found["facets"]["source"]["contributions"] == 1
    for client in (contributor, other, moderator):
        client.close()


def test_moderation_round_trip_correction_rejected_then_accepted(api: Api, http: httpx.Client) -> None:
    target = http.get("/experiences", params={"limit": 1}).json()["results"][0]["iri"]
    with api.client("contributeur") as contributor, api.client("moderateur") as moderator:
        bad = contributor.post(
            "/contributions", json={"type": "correction", "cible": target, "champ": "lien", "valeur": "ftp://x"}
        )
        assert bad.status_code == 422 and "valeur" in bad.json()["detail"]
        unknown = contributor.post(
            "/contributions", json={"type": "correction", "cible": "vi-0000000", "champ": "titre", "valeur": "x"}
        )
        assert unknown.status_code == 404
        proposal = {"type": "correction", "cible": target, "champ": "titre", "valeur": "Un meilleur titre"}
        first = contributor.post("/contributions", json=proposal).json()
        no_reason = moderator.post(f"/contributions/{first['id']}/rejet", json={})
        assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["champ"] == "body.motif"
        rejected = moderator.post(
            f"/contributions/{first['id']}/rejet", json={"motif": "Le titre d'origine est exact."}
        )
        assert rejected.json()["statut"] == "refusee"
        seen = contributor.get(f"/contributions/{first['id']}").json()
        assert seen["statut_libelle"] == "refusée" and seen["motif"] == "Le titre d'origine est exact."

        link = {"type": "correction", "cible": target, "champ": "lien", "valeur": "https://projet.example/page"}
        second = contributor.post("/contributions", json=link).json()
        done = moderator.post(f"/contributions/{second['id']}/acceptation").json()
        assert done["statut"] == "acceptee" and done["cible"] == target
    detail = http.get(f"/experiences/{target.rsplit('/', 1)[-1]}").json()
    assert "https://projet.example/page" in detail["liens"]
    assert detail["titre"] != "Un meilleur titre"


def test_proposal_validation_is_french(api: Api) -> None:
    with api.client("contributeur") as contributor:
        body = contributor.post("/contributions", json={**NEW, "titre": "", "date_debut": "mai"}).json()
        fields = {e["champ"] for e in body["errors"]}
        assert {"body.experience.titre", "body.experience.date_debut"} <= fields
        assert any("date attendue" in e["message"] for e in body["errors"])
        unknown = contributor.post("/contributions", json={"type": "autre"}).json()
        assert unknown["status"] == 422 and "type" in unknown["detail"]


def test_rate_limits(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A second app with tiny limits: the third SPARQL query and the third write in a minute get a 429."""
    from api.main import create_app
    from kg.settings import Settings
    from kg.store import open_store

    open_store(tmp_path / "store").close()
    settings = Settings(home=tmp_path, api_rate_sparql_per_min=2, api_rate_write_per_min=2, sparql_workers=1)
    app = create_app(settings)
    server, thread = serve(app, port := free_port())
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            codes = [client.get("/sparql", params={"query": "ASK {}"}).status_code for _ in range(3)]
            assert codes == [200, 200, 429]
            limited = client.get("/sparql", params={"query": "ASK {}"})
            assert limited.headers["content-type"].startswith(PROBLEM) and int(limited.headers["retry-after"]) >= 1
            assert "par minute" in limited.json()["detail"]
            writes = [client.post("/auth/token", data={"username": "x", "password": "y"}).status_code for _ in range(3)]
            assert writes == [401, 401, 429]
            assert client.get("/stats").status_code == 200  # reads are not limited
    finally:
        server.should_exit = True
        thread.join(30)


def test_users_commands(tmp_path, keep_settings) -> None:  # type: ignore[no-untyped-def]
    from capitalis.cli import app
    from capitalis.commands.serve import register
    from contributions.accounts import open_accounts

    if "users" not in {g.name for g in app.registered_groups}:
        register(app)
    runner = CliRunner()
    home = ["--home", str(tmp_path)]
    added = runner.invoke(
        app,
        [*home, "users", "add", "alice", "--role", "moderateur", "--password-stdin", "--api-key"],
        input="un-long-mot-de-passe\n",
    )
    assert added.exit_code == 0, added.output
    key = added.stdout.strip().splitlines()[-1]
    assert key.startswith("cap_")
    missing = runner.invoke(app, [*home, "users", "add", "bob", "--no-password"])
    assert missing.exit_code == 2 and "collectivité" in missing.output
    listed = runner.invoke(app, [*home, "users", "list", "--json"])
    assert '"username": "alice"' in listed.stdout and "cap_" not in listed.stdout
    assert runner.invoke(app, [*home, "users", "revoke", "alice"]).exit_code == 0
    accounts = open_accounts(tmp_path)
    with pytest.raises(Exception, match="révoqué"):
        accounts.authenticate(key)
    accounts.close()
    assert runner.invoke(app, [*home, "users", "revoke", "personne"]).exit_code == 1
    assert runner.invoke(app, ["serve", "--help"]).exit_code == 0
