"""Grappes: the small communes of a département that share a need, grouped by EPCI, one sponsor per grappe.

Recommendation #7 of the 2015 report: several small collectivities of one area with the same need get one
shared sponsor. :func:`grappes` evaluates every candidate for every member (:mod:`parrainage.evaluation`)
and keeps, per grappe, the one with the best mean score over the members it may sponsor times their share.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from kg.context import Context
from kg.errors import InvalidInput, NotFound
from kg.francais import de, en, km, nombre, pluriel
from ontology import iri as mint
from parrainage.besoin import Aggregate, Need
from parrainage.evaluation import Weights, demande, evaluate, filleul_techs, party
from parrainage.explication import abstention_message, le_nom, sponsor
from parrainage.models import Couverture, Grappe, GrappesResult, MembreGrappe
from parrainage.porteurs import Porteurs
from search import Index
from territoires.collectivites import is_departement_code
from territoires.referentiel import territoires

__all__ = ["grappes"]


def grappes(
    ctx: Context,
    departement: str,
    besoin: str | None = None,
    services: Sequence[str] | None = None,
    *,
    index: Index | None = None,
    qvec: np.ndarray | None = None,
) -> GrappesResult:
    """Group the small communes of a département that have no experience on the need (one grappe per EPCI)
    and propose one sponsor per grappe: the candidate with the best mean score over the members it may
    sponsor, times the share of members it covers. A sponsor chosen for one grappe counts as one more
    sponsorship under way for the next ones, so that grappes spread over several sponsors.
    """
    s = ctx.settings
    code = _departement_code(departement)
    ref = territoires().ref
    dep = ref.departements[code]
    idx, table, wanted, w, agg, load = demande(ctx, besoin, services, index=index, qvec=qvec)
    if wanted.abstention:  # nothing addresses the need: no grappe to form around it
        return GrappesResult(departement={"code": code, "nom": dep.nom, "region": dep.region}, besoin=wanted.label,
                             services=wanted.services, grappes=[], communes=0, message=abstention_message(wanted),
                             services_proches=wanted.proches or [])
    relevant_iris = {table.iris[int(k)] for k in agg.cand}
    small = [
        c for c in ref.communes.values()
        if c.departement == code and c.population is not None and 0 < c.population <= s.match_grappe_population_max
        and str(mint.collectivite("commune", c.code_insee)) not in relevant_iris
    ]
    groups: dict[str | None, list[Any]] = defaultdict(list)
    for c in small:
        groups[c.epci_siren].append(c)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), ref.epci[kv[0]].nom if kv[0] in ref.epci else "~"))
    out: list[Grappe] = []
    provisional = np.zeros(table.size)
    for siren, members in ordered:
        members = sorted(members, key=lambda c: (-(c.population or 0), c.code_insee))
        out.append(_grappe(table, idx, wanted, agg, w, load, provisional, siren, members))
    message = None
    if agg.relevant == 0:
        message = f"Aucune expérience ne correspond au besoin « {wanted.label} » : aucune grappe n'a de parrain."
    elif not small:
        message = (f"Aucune commune de {nombre(s.match_grappe_population_max)} habitants ou moins sans expérience sur "
                   f"ce besoin {en(dep.nom, dep.tncc or 0)}.")
    elif not any(g.parrain for g in out):
        message = "Aucun parrain possible pour ces grappes (aucune collectivité plus grande ni structure couvrante)."
    return GrappesResult(
        departement={"code": code, "nom": dep.nom, "region": dep.region},
        besoin=wanted.label, services=wanted.services, grappes=out, communes=len(small), message=message,
    )


def _grappe(table: Porteurs, index: Index, need: Need, agg: Aggregate, w: Weights, load: np.ndarray,
            provisional: np.ndarray, siren: str | None, members: list[Any]) -> Grappe:
    ref = territoires().ref
    parties = [party("commune", c.code_insee) for c in members]
    evals = [evaluate(table, index, agg, p, w, load, None, filleul_techs(table, index, p)) for p in parties]
    n_cand = len(agg.cand)
    covered = np.zeros(n_cand)
    sums = np.zeros(n_cand)
    for ev in evals:
        covered += ev.selected
        sums += np.where(ev.selected, ev.score, 0.0)
    epci = ({"siren": siren, "nom": ref.epci[siren].nom, "iri": str(mint.collectivite("epci", siren))}
            if siren and siren in ref.epci else None)
    nom = epci["nom"] if epci else "Communes sans intercommunalité"
    total = len(members)
    if n_cand == 0 or not covered.any():
        membres = [MembreGrappe(iri=p.iri, nom=p.nom, insee=p.insee or "", population=p.population,
                                distance_km=None, couvert=False) for p in parties]
        return Grappe(nom=nom, epci=epci, membres=membres, parrain=None,
                      couverture=Couverture(membres=0, total=total, part=0.0),
                      explication=[f"Aucun parrain possible pour {_communes(total, nom)}."])
    mean = np.divide(sums, covered, out=np.zeros(n_cand), where=covered > 0)
    share = covered / total
    value = mean * share
    names = np.asarray(table.iris, dtype=object)[agg.cand]
    j = int(np.lexsort((names, -share, -value))[0])
    k = int(agg.cand[j])
    # The sponsor's own answer, seen from the largest member it covers (sentences and components).
    ref_member = next(i for i, ev in enumerate(evals) if ev.selected[j])
    chosen = sponsor(table, index, need, evals[ref_member], j, parties[ref_member], set(), load, w)
    chosen.score = round(float(value[j]), 4)
    membres = []
    dists = []
    for p, ev in zip(parties, evals, strict=True):
        d = ev.dist[j]
        dists.append(float(d) if not np.isnan(d) else None)
        membres.append(MembreGrappe(iri=p.iri, nom=p.nom, insee=p.insee or "", population=p.population,
                                    distance_km=None if np.isnan(d) else round(float(d), 1),
                                    couvert=bool(ev.selected[j])))
    n_cov = int(covered[j])
    known = [d for d in dists if d is not None]
    spread = f", de {km(min(known)).removesuffix(chr(160) + 'km')} à {km(max(known))}" if known else ""
    explication = [
        f"Grappe de {pluriel(total, 'commune')} {de(nom) if epci else 'sans intercommunalité'}, sans expérience "
        "sur ce besoin.",
        f"{le_nom(table.noms[k], table.tncc[k])} peut en parrainer {nombre(n_cov)} sur {nombre(total)}{spread}.",
        *chosen.explication,
    ]
    if provisional[k]:
        chosen.explication = [
            x if not x.startswith("A déjà") else
            x.replace(" en cours,", f" en cours (dont {pluriel(int(provisional[k]), 'grappe')} plus haut dans cette "
                      "liste),")
            for x in chosen.explication
        ]
    load[k] += 1  # the next grappes see this sponsor as busier
    provisional[k] += 1
    return Grappe(nom=nom, epci=epci, membres=membres, parrain=chosen,
                  couverture=Couverture(membres=n_cov, total=total, part=round(n_cov / total, 4)),
                  explication=explication)


def _communes(total: int, nom: str) -> str:
    """« les 12 communes de la communauté de communes … », « la commune sans intercommunalité »."""
    where = "sans intercommunalité" if nom == "Communes sans intercommunalité" else de(nom)
    return f"la commune {where}" if total == 1 else f"les {nombre(total)} communes {where}"


def _departement_code(departement: str) -> str:
    """The code of a département of the referential (``29``, ``2A``, ``974``; ``1`` reads as ``01``)."""
    code = (departement or "").strip().upper()
    if code.isdigit():
        code = code.zfill(2)
    if not is_departement_code(code):
        raise InvalidInput(f"code de département invalide {departement!r} (29, 2A, 974…)", field="departement")
    if territoires().record("departement", code) is None:
        raise NotFound(f"aucun département de code {code} dans le référentiel")
    return code
