"""The ``capitalis`` command line: the composition root, made of small Typer apps.

Data goes to stdout (JSON when asked), messages to stderr. A :class:`CapitalisError` becomes one red line
on stderr and its exit code; no traceback reaches a user.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from kg.errors import CapitalisError, InvalidInput

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class _Group(TyperGroup):
    """A Typer group that turns Capitalis errors into a red line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CapitalisError as exc:
            err.print(f"[bold red]Erreur :[/] {exc.message}", highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("[red]Interrompu.[/]")
            raise typer.Exit(130) from None
        except (click.exceptions.Exit, click.ClickException, typer.Exit):
            raise
        except Exception as exc:  # a bug: say so in one line, keep the traceback for developers
            if os.environ.get("CAPITALIS_DEBUG"):
                raise
            err.print(
                f"[bold red]Erreur interne :[/] {type(exc).__name__}: {exc} "
                "(relancez avec CAPITALIS_DEBUG=1 pour le détail)",
                highlight=False,
            )
            raise typer.Exit(70) from None


def _app(name: str, help_text: str) -> typer.Typer:
    return typer.Typer(
        name=name,
        help=help_text,
        cls=_Group,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )


app = _app("capitalis", "Capitalis : l'observatoire des projets numériques des collectivités.")
territories_app = _app("territories", "Référentiel territorial (Code officiel géographique de l'INSEE).")
app.add_typer(territories_app)


@app.callback()
def _root(
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Dossier de l'entrepôt (défaut : $CAPITALIS_HOME ou ./var).", envvar=None),
    ] = None,
) -> None:
    """Capitalis : graphe de connaissances des expériences numériques des collectivités."""
    from kg.settings import configure

    configure(home=home)


def _store(read_only: bool = False):
    from kg.store import open_store

    return open_store(read_only=read_only)


def emit_json(data: Any) -> None:
    """Print JSON to stdout, unformatted by rich so that scripts can read it."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


# --- territories ---------------------------------------------------------------------------------------


@territories_app.command("load")
def territories_load(
    reference: Annotated[
        Path | None, typer.Option(help="Dossier du référentiel (défaut : data/reference du projet).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Résumé en JSON.")] = False,
) -> None:
    """Charge le référentiel territorial (communes, EPCI, départements, régions) dans le graphe."""
    from ingest.load import load_territories

    with _store() as store:
        summary = load_territories(store, reference, progress=not json_output)
    if json_output:
        emit_json(summary)
    else:
        state = "mis à jour" if summary["changed"] else "inchangé"
        err.print(
            f"Référentiel {state} : {summary['triples']:,} triplets, {summary['communes']:,} communes, "
            f"{summary['epci']:,} EPCI, {summary['departements']} départements, {summary['regions']} régions."
        )


# --- ingest -------------------------------------------------------------------------------------------------

ingest_app = _app("ingest", "Importe les exports des sources (Villes Internet, NetPublic, OTeN).")
app.add_typer(ingest_app)

JsonOpt = Annotated[bool, typer.Option("--json", help="Rapport JSON sur la sortie standard.")]
IndexOpt = Annotated[
    bool, typer.Option("--index/--no-index", help="Mettre à jour l'index de recherche après l'import.")
]


def _ingest(paths: list[tuple[Path, str | None]], options: dict[str, Any], json_output: bool, index: bool) -> None:
    """Import files one after the other; one file's failure never stops the others."""
    from ingest.load import import_file
    from kg.errors import IngestError

    reports: list[dict[str, Any]] = []
    code = 0
    with _store() as store:
        for path, source in paths:
            if not path.is_file():
                failure = {
                    "file": str(path),
                    "errors": [{"file": str(path), "row_or_record": "", "field": "", "message": "fichier introuvable"}],
                }
                reports.append(failure)
                err.print(f"[bold red]Erreur :[/] {path} : fichier introuvable")
                code = 2
                continue
            try:
                report = import_file(store, path, source=source, options=options, progress=not json_output)
            except IngestError as exc:
                reports.append({"file": str(path), "errors": [exc.fault.as_dict()]})
                err.print(f"[bold red]Erreur :[/] {exc.message}", highlight=False)
                code = 2
                continue
            except InvalidInput as exc:
                reports.append(
                    {
                        "file": str(path),
                        "errors": [{"file": str(path), "row_or_record": "", "field": "", "message": exc.message}],
                    }
                )
                err.print(f"[bold red]Erreur :[/] {exc.message}", highlight=False)
                code = 2
                continue
            reports.append(report.as_dict())
            code = max(code, report.exit_code)
            if not json_output:
                _print_report(report.as_dict())
        if index and any("source" in r for r in reports):
            from capitalis.commands.search import refresh_index

            refresh_index(store, quiet=json_output)
    if json_output:
        emit_json(reports[0] if len(reports) == 1 else reports)
    if code:
        raise typer.Exit(code)


def _print_report(report: dict[str, Any]) -> None:
    err.print(
        f"[bold]{report['source']}[/] {report['file']} : {report['read']} lus, {report['created']} créés, "
        f"{report['updated']} mis à jour, {report['unchanged']} inchangés, {report['withdrawn']} retirés, "
        f"{report['rejected']} rejetés, {report['repaired']} réparés.",
        highlight=False,
    )
    if report["errors"]:
        table = Table("ligne ou fiche", "champ", "problème", title=f"{len(report['errors'])} anomalie(s)")
        for e in report["errors"][:200]:
            table.add_row(e["row_or_record"], e["field"], e["message"])
        err.print(table)


@ingest_app.command("villes-internet")
def ingest_villes_internet(
    file: Annotated[Path, typer.Argument(help="Classeur ATLAAS (.xlsx ou .xls).")],
    labels: Annotated[Path | None, typer.Option(help="CSV du palmarès des labels (facultatif).")] = None,
    json_output: JsonOpt = False,
    index: IndexOpt = True,
) -> None:
    """Importe le classeur ATLAAS de Villes Internet (7 feuilles), et le CSV des labels avec --labels."""
    paths: list[tuple[Path, str | None]] = [(file, "villes-internet")]
    if labels is not None:
        paths.append((labels, None))
    _ingest(paths, {"labels": labels} if labels else {}, json_output, index)


@ingest_app.command("netpublic")
def ingest_netpublic(
    file: Annotated[Path, typer.Argument(help="CSV des lieux de médiation numérique, ou ancien export Latin-1.")],
    json_output: JsonOpt = False,
    index: IndexOpt = True,
) -> None:
    """Importe l'annuaire NetPublic des lieux de médiation numérique (format national ou ancien export)."""
    _ingest([(file, "netpublic")], {}, json_output, index)


@ingest_app.command("oten")
def ingest_oten(
    file: Annotated[Path, typer.Argument(help="Export XML des fiches OTeN.")],
    json_output: JsonOpt = False,
    index: IndexOpt = True,
) -> None:
    """Importe les fiches d'expérience de l'OTeN (XML)."""
    _ingest([(file, "oten")], {}, json_output, index)


@ingest_app.command("all")
def ingest_all(
    directory: Annotated[
        Path, typer.Argument(help="Dossier des exports ; chaque fichier est reconnu par son contenu.")
    ],
    json_output: JsonOpt = False,
    index: IndexOpt = True,
) -> None:
    """Importe tous les fichiers d'un dossier, chacun reconnu par son contenu (pas par son nom)."""
    from ingest.sources import sniff

    if not directory.is_dir():
        raise InvalidInput(f"{directory} n'est pas un dossier")
    paths: list[tuple[Path, str | None]] = []
    ignored: list[str] = []
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        reader = sniff(path)
        if reader is None:
            ignored.append(path.name)
        else:
            paths.append((path, reader.source))
    for name in ignored:
        err.print(f"[yellow]Ignoré :[/] {name} (format non reconnu)")
    # the workbook first: its carriers and actions are what other sources are resolved against
    order = {"villes-internet": 0, "oten": 1, "netpublic": 2}
    paths.sort(key=lambda item: (order.get(item[1] or "", 3), item[0].name))
    _ingest(paths, {}, json_output, index)


# --- list / show / resolution -----------------------------------------------------------------------------


@app.command("list")
def list_command(
    kind: Annotated[str, typer.Argument(help="experiences, collectivites, lieux, technologies ou acteurs.")],
    json_output: Annotated[bool, typer.Option("--json", help="Un objet JSON par ligne.")] = False,
) -> None:
    """Liste les entités d'un type (données publiques et leurs sources)."""
    from fiches.queries import list_entities

    with _store() as store:
        items = list_entities(store, kind)
    if json_output:
        for item in items:
            sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
        return
    table = Table("IRI", "nom", "sources")
    for item in items:
        name = item.get("titre") or item.get("nom") or ""
        table.add_row(item["iri"], name, ", ".join(f"{s['source']}:{s['id']}" for s in item.get("sources", [])))
    out.print(table)
    err.print(f"{len(items)} {kind}.")


@app.command("show")
def show_command(
    iri: Annotated[str, typer.Argument(help="IRI de l'entité (https://w3id.org/capitalis/id/...).")],
    json_output: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
) -> None:
    """Affiche une entité : ses propriétés publiques, le graphe d'où vient chacune, et ses sources."""
    from fiches.queries import show

    with _store() as store:
        entity = show(store, iri)
    if json_output:
        emit_json(entity)
        return
    out.print(f"[bold]{entity['iri']}[/] ({', '.join(entity['types'])})")
    table = Table("propriété", "valeur", "graphe")
    for prop, values in entity["properties"].items():
        for v in values:
            table.add_row(prop, v["value"], v["graph"])
    out.print(table)
    for s in entity["sources"]:
        out.print(f"source : {s['source']} {s['id']} ({s['statut']})")


resolution_app = _app("resolution", "Décisions de résolution d'entités.")
app.add_typer(resolution_app)


@resolution_app.command("review")
def resolution_review(json_output: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False) -> None:
    """Liste les rapprochements douteux entre expériences de sources différentes (non fusionnées)."""
    from ingest.merge import review

    with _store() as store:
        pairs = review(store)
    if json_output:
        emit_json(pairs)
        return
    table = Table("score", "fiche OTeN", "action Villes Internet", "raison")
    for pair in pairs:
        oten, vi = pair.get("oten", {}), pair.get("villes_internet", {})
        table.add_row(
            f"{pair['score']:.2f}",
            f"{oten.get('id', '')} {oten.get('titre', '')}",
            f"{vi.get('id', '')} {vi.get('titre', '')}",
            pair["raison"],
        )
    out.print(table)
    err.print(f"{len(pairs)} rapprochement(s) à revoir.")


# --- sparql ----------------------------------------------------------------------------------------------


@app.command("sparql")
def sparql(
    query: Annotated[str, typer.Argument(help="Requête SPARQL 1.1 (SELECT, ASK, CONSTRUCT, DESCRIBE) ou @fichier.")],
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="table, json, csv (SELECT/ASK) ; ttl, nt, jsonld (CONSTRUCT)."),
    ] = "table",
) -> None:
    """Interroge le graphe en SPARQL (lecture seule, graphes publics par défaut)."""
    from kg.sparql import run_public_query

    text = Path(query[1:]).read_text(encoding="utf-8") if query.startswith("@") else query
    with _store() as store:
        if fmt == "table":
            result = run_public_query(store, text, "json")
            _print_results_table(result.body)
        else:
            result = run_public_query(store, text, fmt)
            sys.stdout.buffer.write(result.body)
            if not result.body.endswith(b"\n"):
                sys.stdout.write("\n")


def _print_results_table(body: bytes) -> None:
    data = json.loads(body)
    if "boolean" in data:
        out.print("vrai" if data["boolean"] else "faux")
        return
    variables = data["head"]["vars"]
    table = Table(*variables, show_lines=False)
    for binding in data["results"]["bindings"]:
        table.add_row(*(binding.get(v, {}).get("value", "") for v in variables))
    out.print(table)
    err.print(f"{len(data['results']['bindings'])} ligne(s).")


# --- stats ----------------------------------------------------------------------------------------------


@app.command("stats")
def stats(json_output: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False) -> None:
    """Triplets par graphe nommé et instances par classe (graphes publics)."""
    from fiches.queries import stats as compute

    with _store() as store:
        data = compute(store)
    if json_output:
        emit_json(data)
        return
    table = Table("graphe", "triplets")
    for name, n in data["graphs"].items():
        table.add_row(name, f"{n:,}")
    out.print(table)
    table = Table("classe", "instances")
    for cls, n in data["classes"].items():
        table.add_row(cls, f"{n:,}")
    out.print(table)


# --- export ----------------------------------------------------------------------------------------------


@app.command("export")
def export(
    output: Annotated[Path, typer.Argument(help="Fichier de sortie (.gz pour compresser).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="nq, ttl ou jsonld.")] = "nq",
) -> None:
    """Exporte les graphes publics (jamais le graphe des données personnelles)."""
    from ontology.iri import PUBLIC_GRAPHS, graph

    if fmt not in ("nq", "ttl", "jsonld"):
        raise InvalidInput(f"--format : {fmt!r} inconnu (nq, ttl ou jsonld)")
    with _store() as store:
        present = set(store.graphs())
        graphs = [str(graph(g)) for g in PUBLIC_GRAPHS if str(graph(g)) in present]
        store.dump(output, fmt, graphs)
    err.print(f"Exporté : {output} ({', '.join(g.rsplit('/', 1)[-1] for g in graphs)}).")


# --- validate ------------------------------------------------------------------------------------------


@app.command("validate")
def validate(
    json_output: Annotated[bool, typer.Option("--json", help="Rapport JSON.")] = False,
    limit: Annotated[int, typer.Option(help="Nombre de violations détaillées affichées.")] = 50,
) -> None:
    """Valide tout l'entrepôt contre les formes SHACL (code de sortie 1 en cas de violation)."""
    from kg.validation import validate_store

    with _store() as store, err.status("Validation SHACL…"):
        report = validate_store(store)
    if json_output:
        emit_json(report.as_dict())
    else:
        if report.conforms:
            err.print(f"[green]Conforme[/] : {report.triples:,} triplets validés.")
        else:
            err.print(f"[red]{len(report.violations)} violation(s)[/] sur {report.triples:,} triplets :")
            for message, n in report.summary().items():
                err.print(f"  {n:>5} × {message}")
            table = Table("nœud", "chemin", "valeur", "message")
            for v in report.violations[:limit]:
                table.add_row(v.focus, v.path.rsplit("#", 1)[-1], v.value, v.message)
            out.print(table)
    if not report.conforms:
        raise typer.Exit(1)


def _register_commands() -> None:
    """The commands of the other capabilities, each defined in its own module."""
    from capitalis.commands import explore as cli_explore
    from capitalis.commands import parrainage as cli_match
    from capitalis.commands import search as cli_search
    from capitalis.commands import serve as cli_api

    for module in (cli_search, cli_match, cli_api, cli_explore):
        module.register(app)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
