"""The parrainage commands of ``capitalis``: ``match``, ``grappes`` and ``parrainage propose|accepter|…``.

:func:`register` adds them to the root Typer app (:mod:`capitalis.cli`). Data goes to stdout (JSON with
``--json``), messages to stderr; errors are :mod:`kg.errors` exceptions that the root app turns into one
red line.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from capitalis.console import emit_json, err, escape, out
from capitalis.group import sub_app
from capitalis.state import cli_state
from kg.francais import km, nombre, pluriel
from parrainage import lifecycle
from parrainage.explication import NIVEAUX_FR, ROLES_FR
from parrainage.grappes import grappes
from parrainage.matching import match

CollectiviteOpt = Annotated[
    str,
    typer.Option(
        "--collectivite",
        help="La collectivité à parrainer : code INSEE (commune, département), SIREN (EPCI), reg-XX ou IRI.",
    ),
]
BesoinOpt = Annotated[str | None, typer.Option("--besoin", help="Le besoin, en quelques mots.")]
ServiceOpt = Annotated[
    list[str] | None, typer.Option("--service", help="Service ou usage ATLAAS (S12, 1a3…), répétable.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON.")]


def match_command(
    ctx: typer.Context,
    collectivite: CollectiviteOpt,
    besoin: BesoinOpt = None,
    service: ServiceOpt = None,
    limit: Annotated[int, typer.Option(help="Nombre de parrains proposés.")] = 10,
    rayon_km: Annotated[
        float | None, typer.Option("--rayon-km", help="Distance maximale au filleul, en km (défaut : réglage).")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Propose des parrains à une collectivité pour un besoin, avec le détail et l'explication de chaque score."""
    with cli_state(ctx).open(read_only=True) as context:
        result = match(context, collectivite, besoin=besoin, services=service, limit=limit, rayon_km=rayon_km)
    if json_output:
        emit_json(result.model_dump())
        return
    f = result.filleul
    pop = f" ({f.population:,} hab.)".replace(",", " ") if f.population is not None else ""
    err.print(f"Parrains pour [bold]{escape(f.nom)}[/]{pop} — besoin : {escape(result.besoin)}", highlight=False)
    if result.message:
        err.print(f"[yellow]{escape(result.message)}[/]", highlight=False)
    for rank, s in enumerate(result.sponsors, start=1):
        _print_sponsor(out, rank, s)
    if result.sponsors:
        possible = pluriel(result.total, "parrain possible", "parrains possibles")
        err.print(f"{nombre(len(result.sponsors))} sur {possible}.", highlight=False)
    _print_choices(result.services_proches, ["match", "--collectivite", collectivite])


def _print_choices(proches: list[dict[str, str]], command: list[str]) -> None:
    """The nearest ATLAAS services of a need nothing addresses, as commands to run again."""
    for p in proches:
        err.print(f"  capitalis {' '.join(command)} --service {p['notation']}   [dim]# {escape(p['label'])}[/]",
                  highlight=False)


def _print_sponsor(out: Any, rank: int, s: Any, indent: str = "") -> None:
    c = s.composantes
    where = NIVEAUX_FR.get(s.niveau, s.niveau) + (f", {km(s.distance_km)}" if s.distance_km is not None else "")
    role = ROLES_FR.get(s.role, s.role)
    title = f"{indent}[bold]{rank}. {escape(s.nom)}[/] — score {nombre(s.score, 2)} ({role}, {where})"
    out.print(title, highlight=False)
    out.print(
        f"{indent}   [dim]pertinence {nombre(c.pertinence, 2)} · expérience {nombre(c.experience, 2)} · "
        f"taille {nombre(c.taille, 2)} · proximité {nombre(c.proximite, 2)} · "
        f"technologies {nombre(c.technologies, 2)} · charge {nombre(c.charge, 2)}[/]",
        highlight=False,
    )
    for sentence in s.explication:
        out.print(f"{indent}   {escape(sentence)}", highlight=False)


def grappes_command(
    ctx: typer.Context,
    departement: Annotated[str, typer.Option("--departement", help="Code du département (29, 2A, 974…).")],
    besoin: BesoinOpt = None,
    service: ServiceOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Regroupe en grappes les petites communes d'un département sans expérience sur un besoin, un parrain chacune."""
    with cli_state(ctx).open(read_only=True) as context:
        result = grappes(context, departement, besoin=besoin, services=service)
    if json_output:
        emit_json(result.model_dump())
        return
    d = result.departement
    err.print(f"Grappes de {escape(d['nom'])} ({d['code']}) — besoin : {escape(result.besoin)}", highlight=False)
    if result.message:
        err.print(f"[yellow]{escape(result.message)}[/]", highlight=False)
    for g in result.grappes:
        cov = g.couverture
        out.print(f"[bold]{escape(g.nom)}[/] — {pluriel(cov.total, 'commune')}, couverture {cov.membres} sur "
                  f"{cov.total}", highlight=False)
        if g.parrain is None:
            for sentence in g.explication:
                out.print(f"   {escape(sentence)}", highlight=False)
            continue
        _print_sponsor(out, 1, g.parrain, indent="   ")
        members = ", ".join(
            f"{m.nom} ({km(m.distance_km)})" if m.distance_km is not None else m.nom for m in g.membres[:12]
        )
        rest = len(g.membres) - 12
        more = f" et {rest} autre{'s' if rest > 1 else ''}" if rest > 0 else ""
        out.print(f"   [dim]membres : {escape(members)}{more}[/]", highlight=False)
    communes = pluriel(result.communes, "petite commune", "petites communes")
    err.print(f"{pluriel(len(result.grappes), 'grappe')}, {communes}.", highlight=False)
    _print_choices(result.services_proches, ["grappes", "--departement", departement])


def _print_parrainage(item: dict[str, Any]) -> None:
    filleuls = ", ".join(f["nom"] for f in item["filleuls"])
    concepts = ", ".join(f"{c['notation']} {c['label']}" for c in item["concepts"])
    out.print(
        f"[bold]{escape(item['parrain']['nom'])}[/] → {escape(filleuls)} : {item['statut_libelle']}",
        highlight=False,
    )
    out.print(f"   [dim]{item['iri']}[/]", highlight=False)
    details = [x for x in (concepts, item.get("besoin")) if x]
    if details:
        out.print(f"   {escape(' — '.join(details))}", highlight=False)
    dates = [f"proposé le {item['propose_le'][:10]}" if item.get("propose_le") else "",
             f"début {item['debut']}" if item.get("debut") else "", f"fin {item['fin']}" if item.get("fin") else ""]
    if any(dates):
        out.print(f"   [dim]{', '.join(x for x in dates if x)}[/]", highlight=False)


def propose_command(
    ctx: typer.Context,
    parrain: Annotated[str, typer.Option("--parrain", help="Le parrain : code, SIREN ou IRI (structure : IRI).")],
    filleul: Annotated[list[str], typer.Option("--filleul", help="Un filleul (code, SIREN ou IRI), répétable.")],
    service: ServiceOpt = None,
    besoin: BesoinOpt = None,
    note: Annotated[str | None, typer.Option("--note", help="Une note libre.")] = None,
    experience: Annotated[
        list[str] | None, typer.Option("--experience", help="IRI d'une expérience de référence, répétable.")
    ] = None,
    score: Annotated[float | None, typer.Option("--score", help="Score de la mise en relation (0 à 1).")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Enregistre un parrainage proposé dans le graphe."""
    with cli_state(ctx).open() as context:
        node = lifecycle.proposer(
            context.store, parrain, filleul, service or [], besoin, note, experiences=experience, score=score
        )
        item = lifecycle.obtenir(context.store, node)
    if json_output:
        emit_json(item)
        return
    _print_parrainage(item)


def _transition(ctx: typer.Context, action: str, iri: str, json_output: bool) -> None:
    with cli_state(ctx).open() as context:
        item = getattr(lifecycle, action)(context.store, iri)
    if json_output:
        emit_json(item)
        return
    _print_parrainage(item)


IriArg = Annotated[str, typer.Argument(help="IRI du parrainage (ou son identifiant).")]


def accepter_command(ctx: typer.Context, iri: IriArg, json_output: JsonOpt = False) -> None:
    """Accepte un parrainage proposé."""
    _transition(ctx, "accepter", iri, json_output)


def demarrer_command(ctx: typer.Context, iri: IriArg, json_output: JsonOpt = False) -> None:
    """Démarre un parrainage accepté (statut « en cours »)."""
    _transition(ctx, "demarrer", iri, json_output)


def cloturer_command(ctx: typer.Context, iri: IriArg, json_output: JsonOpt = False) -> None:
    """Clôture un parrainage (proposé, accepté ou en cours)."""
    _transition(ctx, "cloturer", iri, json_output)


def list_command(
    ctx: typer.Context,
    collectivite: Annotated[
        str | None, typer.Option("--collectivite", help="Parrainages où elle est parrain ou filleule.")
    ] = None,
    statut: Annotated[
        str | None, typer.Option("--statut", help="proposé, accepté, en cours ou terminé.")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Liste les parrainages enregistrés, les plus récents d'abord."""
    with cli_state(ctx).open(read_only=True) as context:
        items = lifecycle.lister(context.store, collectivite=collectivite, statut=statut)
    if json_output:
        emit_json(items)
        return
    for item in items:
        _print_parrainage(item)
    err.print(f"{len(items)} parrainage(s).", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``match``, ``grappes`` and the ``parrainage`` group to the root app."""
    app.command("match")(match_command)
    app.command("grappes")(grappes_command)
    parrainage_app = sub_app("parrainage", "Parrainages enregistrés : proposer, accepter, démarrer, clôturer, lister.")
    parrainage_app.command("propose")(propose_command)
    parrainage_app.command("accepter")(accepter_command)
    parrainage_app.command("demarrer")(demarrer_command)
    parrainage_app.command("cloturer")(cloturer_command)
    parrainage_app.command("list")(list_command)
    app.add_typer(parrainage_app)
