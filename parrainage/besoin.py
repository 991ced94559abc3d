"""The need of a filleul, and which carriers answered it: similarity of every experience, then per carrier.

:func:`need` scores every indexed experience in [0, 1]: the hybrid search ranking (:func:`search.rank`,
normalised by the best match) for a text, the taxonomy for ATLAAS notations (1.0 for the concept and its
descendants, 0.5 / 0.3 for an experience classified only at the parent / grand-parent level); both given, the
larger of the two. :func:`aggregate` gathers them per carrier: best similarity, soft count, relevant experiences.

A text alone never makes an experience relevant: it must also pass an **absolute floor**, its
:func:`couverture` of the need (the share of the need's words, weighted by their rarity, that the experience
contains; ``match_pertinence_min``). The fused ranking score is relative to the best match, so a need nothing
addresses would otherwise always find "the best of the irrelevant"; the coverage does not depend on the best
match nor on the embedder. Its second signal: an experience classified by an ATLAAS service or usage the need
names (:func:`concepts_nommes`) counts too, for what the need says in other words. Calibration:
``docs/parrainage.md``. When nothing passes, :func:`services_proches`
gives the ATLAAS services nearest to the text, for the user to choose from.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from kg.context import Context
from kg.errors import InvalidInput
from parrainage.porteurs import Porteurs
from search import Index, query_vector, rank
from search.analysis import STOP_WORDS, content_words, fold, stem, tokens

__all__ = [
    "ANCESTOR_SIMILARITY", "PROCHES", "Aggregate", "Need", "aggregate", "concepts_nommes", "couverture", "need",
    "services_proches",
]

#: Similarity of an experience classified only at the parent / grand-parent level of a requested concept.
ANCESTOR_SIMILARITY = (0.5, 0.3)
#: ATLAAS services offered when a text need finds nothing, and the ranked experiences they are read from.
PROCHES = 3
_PROCHES_DEPTH = 20
_SERVICE = re.compile(r"S\d+")
_FINE = re.compile(r"S\d+|\d[a-z]\d")
_COMPOUND_MIN = 5
#: Prefixes of the taxonomy's compounds: « attaques » names « cyberattaque », « relevé » « télérelève ».
_PREFIXES = ("cyber", "tele", "video", "visio", "web", "e")


@dataclass
class Need:
    text: str | None
    notations: list[str]
    sim: np.ndarray  # similarity of every indexed experience, 0 when not relevant
    label: str
    services: list[dict[str, str]]
    #: experiences the text found with a relative score but under the absolute floor (none when it passed)
    sous_le_seuil: int = 0
    #: experiences that pass the absolute floor (or a requested notation); a carrier needs one to be proposed
    passe: np.ndarray | None = None
    #: the ATLAAS services nearest to a text that found nothing (``{notation, label}``), else empty
    proches: list[dict[str, str]] | None = None
    #: experiences that count only because the need names an ATLAAS concept that classifies them
    par_concept: np.ndarray | None = None
    #: the services and usages the need names (``{notation, label}``), when one made an experience count
    concepts_nommes: list[dict[str, str]] | None = None

    @property
    def abstention(self) -> bool:
        """A text need that no experience addresses well enough (no notation given): nobody is proposed."""
        return self.text is not None and not self.notations and not bool(self.sim[self.passe].any())


def _check_notations(table: Porteurs, index: Index, services: Sequence[str]) -> list[str]:
    known = set(table.taxonomy.label) | set(index.facets["concept"].values)
    out: list[str] = []
    for raw in services:
        v = raw.strip()
        v = v.upper() if v[:1] in ("s", "S") else v.lower()
        if not re.fullmatch(r"S\d+|\d(?:[a-z]\d?)?", v):
            raise InvalidInput(f"notation ATLAAS invalide {raw!r} (attendu : S1…S92, 1a3, 2b…)", field="service")
        if v not in known:
            raise InvalidInput(f"notation {v!r} inconnue de la taxonomie ATLAAS", field="service")
        if v not in out:
            out.append(v)
    return out


def couverture(index: Index, text: str, taxonomie: bool = False) -> np.ndarray:
    """Share of the need's words, weighted by their idf, that each experience contains, in [0, 1] (absolute).

    The words are the search analyser's stems, as typed: a word no experience contains weighs the most (df 0),
    even when the search would correct it into a neighbour, so a need about something the corpus never mentions
    covers little.
    With ``taxonomie``, a word also counts for an experience when it is in a label or alt label of an ATLAAS
    service or usage that classifies it (« ordinateurs » for a « Reconditionnement et don d'ordinateurs »).
    """
    terms, corrections = index.analyzer.query_terms(text)
    for typed, fixed in corrections.items():
        # A word the corpus lacks stays lacking here: the search guesses a neighbour for it (« concession » →
        # « conception », « pêche » → « poche »), which helps a reader with a typo find something, but for the
        # floor the guess would stand for a word the need does not say. A need with a typo still passes on its
        # other words.
        terms.pop(stem(fold(fixed)), None)
        terms[stem(typed)] = 1.0
    words = [w for w in content_words(text) if w not in STOP_WORDS and len(w) >= 2]
    for first, second in pairwise(words):
        if stem(first + second) in terms:
            # « vidéo-protection » is one thing, « vidéoprotection »: its halves (« protection » des données, a
            # « vidéo ») would otherwise count as two words of the need shared by experiences about other things
            terms.pop(stem(first), None)
            terms.pop(stem(second), None)
    n = index.size
    covered = np.zeros(n, np.float64)
    words = np.zeros(n, np.int32)  # how many of the need's words each experience contains
    total = 0.0
    by_stem = _label_stems(index) if taxonomie else {}
    concept = index.facets["concept"]
    for term, weight in terms.items():
        tid = index.terms.get(term)
        lo, hi = (int(index.term_ptr[tid]), int(index.term_ptr[tid + 1])) if tid is not None else (0, 0)
        idf = math.log(1 + (n - (hi - lo) + 0.5) / ((hi - lo) + 0.5))  # the BM25 idf of search.lexical
        total += idf * weight
        has = np.zeros(n, bool)
        if hi > lo:
            has[index.post_docs[lo:hi]] = True
        if term in by_stem:
            has |= concept.mask(by_stem[term], n)
        covered[has] += idf * weight
        words[has] += 1
    share = covered / total if total > 0 else covered
    if len(terms) >= 2:
        # one rare word shared is a coincidence, not an answer (« concession de cimetière » and a tourist kiosk
        # that names military cemeteries): a need of several words needs two of them in the experience
        share[words < 2] = 0.0
    return share


def _fine(notation: str) -> bool:
    """A service (S20) or a usage (1b2): precise enough to say what an experience deals with."""
    return bool(_FINE.fullmatch(notation))


def _label_stems(index: Index) -> dict[str, list[str]]:
    """Stem -> the services and usages one of whose labels or alt labels contains it (cached on the index)."""
    cached: dict[str, list[str]] | None = getattr(index, "_parrainage_label_stems", None)
    if cached is None:
        out: dict[str, list[str]] = defaultdict(list)
        for notation, stems, _weight in index.taxonomy_phrases:
            if _fine(notation):
                for s in stems:
                    if notation not in out[s]:
                        out[s].append(notation)
        cached = dict(out)
        index._parrainage_label_stems = cached  # type: ignore[attr-defined]
    return cached


def concepts_nommes(index: Index, text: str) -> dict[str, str]:
    """The services and usages the need names, each with the label it names it by.

    A label is named when the need holds all its words (« signaler » for « signalement », « vote des
    projets »), or two of them at least and two thirds of them (« don … ordinateurs » for « Reconditionnement
    et don d'ordinateurs »). The need's words are its stems as typed and as corrected by the search; a word
    of five letters or more also names the compound that ends with it (« attaques » → « cyberattaque »).
    """
    typed = tokens(text)
    # a verb in the third person plural the stemmer leaves whole (« votent ») names its infinitive's stem too
    said = set(typed) | {stem(t[:-2]) for t in typed if t.endswith("ent") and len(t) > 5}
    compounds = {p + t for p in _PREFIXES for t in said if len(t) >= _COMPOUND_MIN}
    found: dict[str, tuple[float, str]] = {}
    for notation, stems, weight in index.taxonomy_phrases:
        if not _fine(notation) or (len(stems) == 1 and not _SERVICE.fullmatch(notation)):
            continue  # a usage is too broad to be named by one word (« association »)
        hit = [w for w in stems if w in said or w in compounds]
        if len(hit) == len(stems) or (len(hit) >= 2 and 3 * len(hit) >= 2 * len(stems)):
            score = weight * len(hit) / len(stems)
            if score > found.get(notation, (0.0, ""))[0]:
                found[notation] = (score, " ".join(stems))
    return {n: label for n, (_, label) in sorted(found.items())}


def services_proches(index: Index, table: Porteurs, score: np.ndarray, order: np.ndarray,
                     named: Sequence[str] = ()) -> list[dict[str, str]]:
    """The ATLAAS services nearest to a text: those it names, then those of its best-ranked experiences."""
    facet = index.facets["concept"]
    weight: dict[str, float] = defaultdict(float)
    for notation in named:
        if _SERVICE.fullmatch(notation):
            weight[notation] += 100.0
    best = order[np.argsort(-score[order], kind="stable")][:_PROCHES_DEPTH] if len(order) else order
    for i in best:
        for v in facet.of_doc(int(i)):
            notation = facet.values[int(v)]
            if _SERVICE.fullmatch(notation):
                weight[notation] += float(score[i])
    ranked = sorted(weight, key=lambda k: (-weight[k], int(k[1:])))[:PROCHES]
    return [{"notation": v, "label": table.taxonomy.label.get(v, v)} for v in ranked]


def need(ctx: Context, table: Porteurs, index: Index, besoin: str | None, services: Sequence[str] | None,
         qvec: np.ndarray | None, min_similarity: float = 0.0, floor: float = 0.0, *,
         par_concept_on: bool = True) -> Need:
    """Similarity of every experience to the need (text through the search ranking, services by taxonomy).

    An experience found by the text counts when its score is at least ``min_similarity`` of the best one
    (relative) and its :func:`couverture` of the need at least ``floor`` (absolute), or, with
    ``par_concept_on``, when it is classified by an ATLAAS service or usage the need names
    (:func:`concepts_nommes`): the second signal, for experiences that say the same thing in other words.
    """
    text = (besoin or "").strip() or None
    notations = _check_notations(table, index, services or [])
    if text is None and not notations:
        raise InvalidInput("décrivez le besoin en quelques mots ou donnez un service ATLAAS", field="besoin")
    if text is not None and len(text) > 2000:
        raise InvalidInput("le besoin tient en 2 000 caractères au plus", field="besoin")
    n = index.size
    sim = np.zeros(n, np.float32)
    passe = np.zeros(n, bool)
    below = 0
    par_concept = np.zeros(n, bool)
    nommes: dict[str, str] = {}
    proches: list[dict[str, str]] | None = None
    if text is not None and n:
        if qvec is None and index.vectors.shape[1]:
            qvec = query_vector(ctx, text)
        scored = rank(index, text, None, qvec=qvec, dense_k=ctx.settings.search_dense_k)
        if len(scored.order):
            top = float(scored.score[scored.order].max())
            if top > 0:
                sim[scored.order] = np.clip(scored.score[scored.order] / top, 0, 1)
                sim[sim < min_similarity] = 0.0
                passe = (sim > 0) & (couverture(index, text) >= floor)
                if par_concept_on and floor > 0:
                    nommes = concepts_nommes(index, text)
                    if nommes:
                        classed = index.facets["concept"].mask(list(nommes), n)
                        par_concept = (sim > 0) & classed & ~passe
                        passe |= par_concept
                below = int(((sim > 0) & ~passe).sum())
        if not notations and not passe.any():
            terms, _ = index.analyzer.query_terms(text)
            proches = services_proches(index, table, scored.score, scored.order, list(index.query_concepts(terms)))
    if notations and n:
        concept = index.facets["concept"]
        tax = table.taxonomy
        for notation in notations:
            sim = np.maximum(sim, concept.mask([notation], n).astype(np.float32))
            for depth, ancestor in enumerate(tax.ancestors(notation)[1 : 1 + len(ANCESTOR_SIMILARITY)]):
                if not re.fullmatch(r"\d[a-z]\d?", ancestor):  # never a whole axe
                    continue
                only = concept.mask([ancestor], n) & ~concept.mask(table.children.get(ancestor, []), n)
                sim = np.maximum(sim, only.astype(np.float32) * ANCESTOR_SIMILARITY[depth])
        passe |= sim > 0  # a requested notation is the user's own choice: no floor
    labels = [{"notation": v, "label": table.taxonomy.label.get(v, v)} for v in notations]
    parts = [text] if text else []
    parts += [f"{s['notation']} — {s['label']}" for s in labels]
    if not notations and not passe.any():
        sim = np.zeros(n, np.float32)  # nothing addresses the need: nobody is proposed
    par_concept &= passe & (sim > 0)
    facet = index.facets["concept"]
    concepts = [{"notation": v, "label": table.taxonomy.label.get(v, v)} for v in nommes
                if (facet.mask([v], n) & par_concept).any()]
    return Need(text, notations, sim, " ; ".join(parts), labels, sous_le_seuil=below, passe=passe, proches=proches,
                par_concept=par_concept, concepts_nommes=concepts)


@dataclass
class Aggregate:
    """Per-carrier relevance of one need: the carriers of at least one relevant experience, one of them over
    the absolute floor."""

    cand: np.ndarray  # carrier ids
    best: np.ndarray  # best similarity per candidate
    soft: np.ndarray  # sum of similarities
    count: np.ndarray  # relevant experiences
    relevant: int  # relevant experiences overall
    rel_pairs: np.ndarray  # pair positions of relevant experiences


def aggregate(table: Porteurs, need: Need) -> Aggregate:
    sims = need.sim[table.pair_doc] if table.pair_doc.size else np.zeros(0, np.float32)
    rel = np.flatnonzero(sims > 0)
    carriers = table.pair_carrier[rel]
    values = sims[rel]
    n = table.size
    best = np.zeros(n, np.float32)
    np.maximum.at(best, carriers, values)
    soft = np.bincount(carriers, weights=values, minlength=n)
    count = np.bincount(carriers, minlength=n)
    passing = np.zeros(n, bool)  # a carrier is proposed only with one experience over the absolute floor
    if need.passe is not None:
        passing[carriers[need.passe[table.pair_doc[rel]]]] = True
    else:
        passing[:] = True
    cand = np.flatnonzero((best > 0) & passing)
    return Aggregate(cand, best[cand], soft[cand], count[cand], int((need.sim > 0).sum()), rel)
