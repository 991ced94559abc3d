"""The answer for one sponsor: its experiences, its components and the French sentences that explain its score.

The sentences name the experiences, the size ratio (or the role: structure, natural sponsor, peer), the
proximity level with the distance, the tools the filleul already uses and the sponsorships under way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from parrainage.besoin import Need
from parrainage.evaluation import NIVEAUX, Evaluation, Party, Weights
from parrainage.models import Composantes, ExperienceRef, Sponsor
from parrainage.porteurs import KINDS, Porteurs
from search import Index
from territoires.referentiel import territoires

__all__ = ["EXPERIENCES_SHOWN", "fois", "km", "nombre", "sponsor"]

#: Experiences named in each answer.
EXPERIENCES_SHOWN = 3


def nombre(value: float | int) -> str:
    """A French number: thousands separated by a space, a decimal comma."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", " ").replace(".", ",")
    return f"{int(value):,}".replace(",", " ")


def fois(ratio: float) -> str:
    if ratio >= 10:
        return f"{round(ratio):,}".replace(",", " ")
    return f"{ratio:.1f}".replace(".", ",").removesuffix(",0")


def km(d: float) -> str:
    return f"{d:.0f}" if d >= 10 else f"{d:.1f}".replace(".", ",")


def _titles(exps: Sequence[ExperienceRef]) -> str:
    parts = [f"« {e.titre} »" + (f" ({e.annee})" if e.annee else "") for e in exps]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " et " + parts[-1]


def _sentences(table: Porteurs, k: int, ev: Evaluation, j: int, party: Party, exps: list[ExperienceRef],
               count: int, shared: list[str], n_load: int, ratio_min: float) -> list[str]:
    """The explanation of one sponsor: its experiences, its size or role, where it is, tools, load."""
    out = [_experience_sentence(table.noms[k], exps, count),
           _role_sentence(table, k, ev, j, party, ratio_min),
           _place_sentence(ev, j, party)]
    if shared:
        out.append(f"Outils que {party.nom} utilise déjà : {', '.join(shared)}.")
    if n_load:
        out.append(f"A déjà {n_load} parrainage{'s' if n_load > 1 else ''} proposé{'s' if n_load > 1 else ''}, "
                   f"accepté{'s' if n_load > 1 else ''} ou en cours, ce qui abaisse son score.")
    return out


def _experience_sentence(nom: str, exps: list[ExperienceRef], count: int) -> str:
    more = count - len(exps)
    what = "expérience pertinente" if count == 1 else "expériences pertinentes"
    tail = f" (et {more} autre{'s' if more > 1 else ''})" if more > 0 else ""
    return f"{nom} a mené {count} {what} pour ce besoin : {_titles(exps)}{tail}."


def _role_sentence(table: Porteurs, k: int, ev: Evaluation, j: int, party: Party, ratio_min: float) -> str:
    role = ev.role[j]
    pop = table.pop[k]
    ratio = ev.ratio[j]
    if role == "structure":
        covered = sorted(set(table.deps_of[k]) & party.deps)
        return (f"Structure de mutualisation dont le territoire couvre celui de {party.nom} "
                f"({territoires().noms_departements(covered)}) : c'est sa mission d'accompagner les collectivités "
                "qu'elle couvre.")
    if role == "parrain-naturel":
        sizes = ""
        if not np.isnan(ratio):
            sizes = f" ({nombre(int(pop))} habitants contre {nombre(party.population or 0)})"
        return (f"{party.nom} est membre de cette intercommunalité : c'est un parrain naturel, "
                f"quelle que soit sa taille{sizes}.")
    if role == "pair":
        return (f"Collectivité de taille comparable ({fois(float(ratio))} fois la population de "
                f"{party.nom}) : un échange entre pairs plutôt qu'un parrainage, faute de collectivité "
                f"au moins {fois(ratio_min)} fois plus peuplée ayant mené une telle expérience.")
    if not np.isnan(ratio):
        return (f"Collectivité {fois(float(ratio))} fois plus peuplée que {party.nom} "
                f"({nombre(int(pop))} habitants contre {nombre(party.population or 0)}).")
    return f"Collectivité de {nombre(int(pop))} habitants (population de {party.nom} inconnue)."


def _place_sentence(ev: Evaluation, j: int, party: Party) -> str:
    tier = int(ev.tier[j])
    dist = ev.dist[j]
    where = {
        0: "dans votre intercommunalité",
        1: "dans votre département" if len(party.deps) == 1 else "dans l'un de vos départements",
        2: "dans votre région",
        3: "hors de votre région",
    }[tier]
    if len(party.regions) == 1 and tier in (2, 3):
        where += f" ({territoires().nom('region', next(iter(party.regions)))})"
    elif tier == 1 and len(party.deps) == 1:
        where += f" ({territoires().noms_departements(party.deps)})"
    if np.isnan(dist):
        sentence = f"{where[0].upper()}{where[1:]}."
    elif dist < 1:
        sentence = f"{where[0].upper()}{where[1:]}, à moins d'1 km."
    else:
        sentence = f"{where[0].upper()}{where[1:]}, à {km(float(dist))} km."
    if tier == 3:
        sentence = sentence[:-1] + (" : aucune collectivité de votre région ne convient." if not ev.largest
                                    else " : votre région ne compte pas de collectivité plus grande.")
    return sentence


def _experiences(table: Porteurs, index: Index, sim: np.ndarray, k: int) -> tuple[list[ExperienceRef], int]:
    docs = table.docs_of(k)
    docs = docs[sim[docs] > 0]
    order = docs[np.lexsort((docs, -sim[docs]))]
    refs = []
    for i in order[:EXPERIENCES_SHOWN]:
        p = index.payload(int(i))
        refs.append(ExperienceRef(iri=p["iri"], titre=p["titre"], similarite=round(float(sim[i]), 4),
                                  annee=p.get("annee")))
    return refs, len(docs)


def _shared_techs(table: Porteurs, index: Index, sim: np.ndarray, k: int, techs: set[int]) -> list[str]:
    if not techs:
        return []
    facet = index.facets["technologie"]
    docs = table.docs_of(k)
    found = {int(v) for i in docs[sim[docs] > 0] for v in facet.of_doc(int(i))} & techs
    return sorted(facet.values[v] for v in found)


def sponsor(table: Porteurs, index: Index, need: Need, ev: Evaluation, j: int, party: Party, techs: set[int],
             load: np.ndarray, w: Weights) -> Sponsor:
    k = int(ev.cand[j])
    exps, count = _experiences(table, index, need.sim, k)
    shared = _shared_techs(table, index, need.sim, k, techs)
    n_load = int(load[k]) if len(load) else 0
    pop = table.pop[k]
    ratio = ev.ratio[j]
    dist = ev.dist[j]
    return Sponsor(
        iri=table.iris[k],
        nom=table.noms[k],
        type=KINDS[int(table.kind[k])],
        insee=table.insee[k],
        siren=table.siren[k],
        population=None if np.isnan(pop) else int(pop),
        score=round(float(ev.score[j]), 4),
        composantes=Composantes(**{name: round(float(v[j]), 4) for name, v in ev.comps.items()}),
        experiences=exps,
        distance_km=None if np.isnan(dist) else round(float(dist), 1),
        explication=_sentences(table, k, ev, j, party, exps, count, shared, n_load, w.ratio),
        role=str(ev.role[j]),
        niveau=NIVEAUX[int(ev.tier[j])],
        ratio=None if np.isnan(ratio) or ev.role[j] == "structure" else round(float(ratio), 2),
    )
