"""The API commands of ``capitalis``: ``serve`` (uvicorn) and ``users add|list|revoke`` (API accounts).

:func:`register` adds them to the root Typer app (:mod:`capitalis.cli`).
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rdflib import URIRef
from rich.table import Table

from capitalis.console import emit_json, err, out
from capitalis.group import sub_app
from capitalis.state import CliState, cli_state
from contributions.accounts import open_accounts
from fiches.resources import check_key
from kg.errors import InvalidInput, NotFound, StoreError
from ontology.iri import ID

__all__ = ["H11_MAX_HEAD", "register"]

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")

#: Largest request head uvicorn accepts: a SPARQL query sent by GET, percent-encoded, lives in it.
H11_MAX_HEAD = 256 * 1024


def serve_command(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Adresse d'écoute (0.0.0.0 : toutes les interfaces).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port d'écoute.", min=1, max=65535)] = 8000,
    log_level: Annotated[
        str, typer.Option("--log-level", help="Niveau de journalisation : critical, error, warning, info, debug.")
    ] = "info",
) -> None:
    """Lance l'API (REST, SPARQL, données liées, contributions) ; documentation sur /docs."""
    # imported here: the API's stack (FastAPI, every router, uvicorn) is only for this command, and
    # loading it would slow every other command down
    import uvicorn

    from api.main import create_app

    if log_level not in LOG_LEVELS:
        raise InvalidInput(f"{log_level!r} inconnu ({', '.join(LOG_LEVELS)})", field="log_level")
    err.print(f"API Capitalis sur http://{host}:{port} (documentation : http://{host}:{port}/docs)")
    uvicorn.run(
        create_app(cli_state(ctx).settings),
        host=host,
        port=port,
        log_level=log_level,
        proxy_headers=False,
        h11_max_incomplete_event_size=H11_MAX_HEAD,
    )


def _collectivite_iri(code: str) -> str:
    """The IRI of a collectivité from a code (INSEE, SIREN, dep-XX, reg-XX, structure slug) or an IRI."""
    value = code.strip()
    if value.startswith(str(ID)):
        return value
    check_key(value, "--collectivite")
    return str(ID[f"structure/{value}"] if not any(c.isdigit() for c in value) else ID[f"collectivite/{value}"])


def users_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Identifiant (minuscules, chiffres, . _ -).")],
    role: Annotated[str, typer.Option("--role", help="contributeur, moderateur ou admin.")] = "contributeur",
    collectivite: Annotated[
        str | None,
        typer.Option("--collectivite", help="Collectivité du contributeur : code INSEE, SIREN, dep-XX, reg-XX ou IRI."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Lire le mot de passe sur l'entrée standard.")
    ] = False,
    no_password: Annotated[bool, typer.Option("--no-password", help="Pas de mot de passe (clé d'API seule).")] = False,
    api_key: Annotated[
        bool, typer.Option("--api-key", help="Créer et afficher une clé d'API (une seule fois).")
    ] = False,
) -> None:
    """Crée un compte de l'API ; le mot de passe est demandé (ou lu avec --password-stdin)."""
    state = cli_state(ctx)
    iri = _collectivite_iri(collectivite) if collectivite else None
    if iri is not None:
        _check_collectivite(state, iri)
    password: str | None = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not no_password:
        password = getpass.getpass("Mot de passe : ")
        if password != getpass.getpass("Encore : "):
            raise InvalidInput("mot de passe : les deux saisies diffèrent")
    accounts = open_accounts(state.settings.home)
    try:
        user = accounts.add_user(username, role, password=password or None, collectivite=iri)
        err.print(f"Compte créé : {user.username} ({user.role}{', ' + iri if iri else ''}).")
        if api_key:
            key = accounts.api_key(user.username)
            err.print("Clé d'API (elle ne sera plus affichée) :")
            out.print(key, highlight=False)
    finally:
        accounts.close()


def _check_collectivite(state: CliState, iri: str) -> None:
    """Refuse a collectivité the graph does not know (when the store can be read)."""
    try:
        context = state.open(read_only=True)
    except (StoreError, NotFound):
        return  # no store yet, or locked: the account may still be created
    with context:
        if not context.store.graphs():
            return
        if not context.store.ask("ASK { GRAPH ?g { $c a ?k } }", c=URIRef(iri)):
            raise NotFound(f"--collectivite : aucune collectivité {iri} dans le graphe")


def users_list(
    ctx: typer.Context, json_output: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False
) -> None:
    """Liste les comptes de l'API (jamais un secret)."""
    accounts = open_accounts(cli_state(ctx).settings.home)
    try:
        users = accounts.list_users()
    finally:
        accounts.close()
    if json_output:
        emit_json(
            [
                {
                    "username": u.username,
                    "role": u.role,
                    "collectivite": u.collectivite,
                    "created_at": u.created_at,
                    "active": u.active,
                }
                for u in users
            ]
        )
        return
    table = Table("identifiant", "rôle", "collectivité", "créé le", "actif")
    for u in users:
        table.add_row(u.username, u.role, u.collectivite or "", u.created_at, "oui" if u.active else "révoqué")
    out.print(table)
    err.print(f"{len(users)} compte(s).")


def users_revoke(ctx: typer.Context, username: Annotated[str, typer.Argument(help="Identifiant du compte.")]) -> None:
    """Révoque un compte : il ne peut plus se connecter et tous ses jetons et clés cessent de valoir."""
    accounts = open_accounts(cli_state(ctx).settings.home)
    try:
        user = accounts.revoke(username)
    finally:
        accounts.close()
    err.print(f"Compte révoqué : {user.username}.")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``users`` to the root app."""
    app.command("serve")(serve_command)
    users = sub_app("users", "Comptes de l'API (contributeurs, modération, administration).")
    users.command("add")(users_add)
    users.command("list")(users_list)
    users.command("revoke")(users_revoke)
    app.add_typer(users)
