"""Answering a query: hybrid (dense + lexical) ranking lifted by the graph, pages of hits, similar, relevance.

How a query is answered (:func:`search`):

1. the filters select the experiences allowed (index arrays, no SPARQL at query time);
2. **lexical**: BM25 over French-analysed text (folded, stop words out, Snowball stems, typos corrected
   into words of the corpus); the query's framing (« je voudrais mettre en place … »,
   :data:`search.analysis.STOP_PHRASES`) is dropped first, so that it never decides a ranking; the indexed
   text holds what the graph knows of an experience besides its own words (:mod:`search.corpus`);
3. **dense**: cosine between the vector of the query without its framing (:func:`dense_query`) and the
   experience vectors (title + summary), exact with numpy, or through an HNSW graph (usearch) past
   ``search_ann_min`` experiences;
4. the two rankings are fused (weighted sum of max-normalised scores), then **graph feedback**: the ATLAAS
   concepts of the best hits and the concepts the query names (a label or alt label of the taxonomy) lift
   the experiences classified under them (pseudo-relevance feedback over SKOS);
5. an experience *matches* when its lexical score is at least ``LEXICAL_FLOOR`` of the best one, when it is
   among the ``dense_k`` nearest above the embedder's similarity floor, or when it carries a concept the
   query names. ``total`` and the facets count the matches; results are the best of them.

Every entry point reads the context's index (:func:`search.index.open_index`): none of them builds it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np
from rdflib.namespace import PROV

from kg.context import Context
from kg.errors import InvalidInput, NotFound
from kg.settings import Settings
from ontology.namespaces import CAP, ID
from search.analysis import highlight, strip_framing, tokens
from search.corpus import local_key
from search.dense import cosines, dense_floor, query_vector
from search.facets import is_fine_concept
from search.index import Index, open_index
from search.kernels import lift_docs
from search.models import Filters, Hit, Porteur, SearchResult, SourceRef, Why

# Ranking parameters, tuned on bench/data/search_eval.json only (set A); bench/search_quality.py prints the effect
# on it and on the report-only set B (bench/data/search_eval_b.json), never used to choose them. Sweeps on A
# (docs/benchmarks.md) found a plateau around these values: none of them was moved for a gain within noise.
LEXICAL_FLOOR = 0.25  # share of the best lexical score an experience needs to count as a lexical match
W_DENSE = 0.4  # weight of the dense score in the fusion (the lexical one has 1 - W_DENSE)
W_FEEDBACK = 0.25  # weight of the concepts of the best hits (pseudo-relevance feedback over SKOS)
W_QUERY_CONCEPT = 0.3  # weight of a concept the query names (label or alt label)
FEEDBACK_DEPTH = 5  # how many first-pass hits give their concepts
#: Dense neighbours kept per query (the settings' default).
DENSE_K = Settings.model_fields["search_dense_k"].default
# Weights of what two experiences share in :func:`similar`, besides their cosine.
W_SIMILAR_CONCEPTS = 0.15
W_SIMILAR_TECHNOLOGIES = 0.05
_SOURCE_OF_KEY = {"vi": "villes-internet", "oten": "oten"}  # experience key prefix -> source


#: Keys sampled by :func:`_top` and :func:`_best` to bound the k-th best before its partition.
_TOP_SAMPLE = 4096


def _sampled_bound(key: np.ndarray, k: int) -> float | None:
    """The k-th best of an evenly spread sample of ``key`` when ``key`` is large enough to sample (else None): the
    k-th best of all is at least as good, so every one of the k best reaches it."""
    if len(key) > 2 * _TOP_SAMPLE and k < _TOP_SAMPLE:
        return np.partition(key[:: len(key) // _TOP_SAMPLE], -k)[-k]
    return None


def _top(ids: np.ndarray, key: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` first of ``ids`` ordered by ``key`` descending then id ascending (a full sort's first k).

    A partition finds the k-th key; only the ids at or above it are sorted, so a page of 10 out of 50,000
    matches costs one linear pass instead of a full sort. Ties at the k-th key are all kept before sorting,
    so the answer is exactly the full sort's. With many ids, the k-th best key of an evenly spread sample
    first bounds the answer (the k-th best of all is at least as good: every id of the answer reaches it), and
    one comparison leaves the partition the few ids that reach it (at a million experiences, a partition of
    every match took 2-5 ms a query, the comparison takes a tenth of that).
    """
    if k <= 0 or not len(ids):
        return ids[:0]
    bound = _sampled_bound(key, k)
    if bound is not None:
        keep = key >= bound
        ids, key = ids[keep], key[keep]
    neg = -key
    if len(ids) > k:
        kth = np.partition(neg, k - 1)[k - 1]
        keep = neg <= kth
        ids, neg = ids[keep], neg[keep]
    return ids[np.lexsort((ids, neg))][:k]


class Scored:
    """Scores of one query: per-doc arrays (size n) and the matches, ordered on demand."""

    def __init__(
        self,
        matched: np.ndarray,
        score: np.ndarray,
        lexical: np.ndarray,
        dense: np.ndarray,
        graph: np.ndarray,
        stems: set[str],
        corrections: dict[str, str],
        *,
        ordered: bool = False,
    ) -> None:
        self.matched = matched  # doc ids of the matches (ascending, or best first when ``ordered``)
        self.score = score  # final score per doc (size n)
        self.lexical = lexical
        self.dense = dense
        self.graph = graph
        self.stems = stems
        self.corrections = corrections
        self._order: np.ndarray | None = matched if ordered else None

    @property
    def total(self) -> int:
        return len(self.matched)

    @property
    def order(self) -> np.ndarray:
        """Every match, best first (score descending, then index position): a full sort, done once."""
        if self._order is None:
            ids = self.matched
            self._order = ids[np.lexsort((ids, -self.score[ids]))]
        return self._order

    def top(self, k: int) -> np.ndarray:
        """The first ``k`` of :attr:`order` without sorting every match."""
        if self._order is not None:
            return self._order[:k]
        return _top(self.matched, self.score[self.matched], k)


# --- ranking -----------------------------------------------------------------------------------------------


def rank(
    index: Index,
    query: str,
    allowed: np.ndarray | None,
    *,
    mode: str = "hybrid",
    qvec: np.ndarray | None = None,
    dense_k: int = DENSE_K,
    w_dense: float = W_DENSE,
    w_feedback: float = W_FEEDBACK,
    w_query_concept: float = W_QUERY_CONCEPT,
) -> Scored:
    """Score every experience for a query; ``mode`` is hybrid, lexical or dense (the bench compares them).

    ``qvec`` is the query's vector (:func:`search.dense.query_vector`), required when the mode uses the dense
    side and the index holds vectors. The per-doc arrays are size n, but the costly steps touch only the docs
    concerned: postings of the query terms, the dense neighbours, the docs of the named concepts and of the
    feedback concepts.
    """
    n = index.size
    terms, corrections = index.analyzer.query_terms(query)
    use_lexical = mode in ("hybrid", "lexical", "lexical+graph")
    use_dense = mode in ("hybrid", "dense", "dense+graph") and index.vectors.shape[1] > 0
    use_graph = mode in ("hybrid", "lexical+graph", "dense+graph")
    lexical = index.lexical_scores(terms, allowed) if use_lexical else np.zeros(n, np.float32)
    max_lex = float(lexical.max()) if n else 0.0
    dense, dense_ids, dense_sims = _dense_side(index, qvec if use_dense else None, allowed, dense_k, use_dense)
    base = _fuse(lexical, max_lex, dense_ids, dense_sims, use_lexical, use_dense, w_dense)
    graph = np.zeros(n, np.float32)
    named_ids = np.zeros(0, np.int64)
    if use_graph:
        named_ids = _lift_named_concepts(index, index.query_concepts(terms), graph, w_query_concept)
        first = base + graph if len(named_ids) else base  # the first pass: no named concept, no lift yet
        _lift_feedback_concepts(index, first, base, graph, w_feedback)
    score = base + graph
    if allowed is not None:
        np.multiply(score, allowed, out=score)
    matched = _matches(index, lexical, max_lex, dense_ids, dense_sims, named_ids, allowed, use_lexical, use_dense)
    return Scored(np.flatnonzero(matched), score, lexical, dense, graph, set(terms), corrections)


def _dense_side(
    index: Index, qvec: np.ndarray | None, allowed: np.ndarray | None, k: int, use_dense: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cosine per doc, ids of the ``k`` nearest, their cosines); empty when the dense side is not used."""
    dense = np.zeros(index.size, np.float32)
    if not use_dense:
        return dense, np.zeros(0, np.int64), np.zeros(0, np.float32)
    if qvec is None:
        raise ValueError("rank: the query vector is required when the index holds vectors")
    dense_ids, dense_sims = index.dense_scores(qvec, allowed, k)
    dense[dense_ids] = dense_sims
    return dense, dense_ids, dense_sims


def _fuse(
    lexical: np.ndarray, max_lex: float, dense_ids: np.ndarray, dense_sims: np.ndarray,
    use_lexical: bool, use_dense: bool, w_dense: float,
) -> np.ndarray:
    """The weighted sum of the max-normalised lexical scores and the min-max normalised positive cosines."""
    n = len(lexical)
    lex_norm = lexical / max_lex if max_lex > 0 else lexical
    p_ids = dense_ids[dense_sims > 0]
    p_norm = np.zeros(len(p_ids), np.float32)
    if len(p_ids):
        p_sims = dense_sims[dense_sims > 0]
        lo = float(p_sims.min())
        hi = float(p_sims.max())
        p_norm = (p_sims - lo) / (hi - lo) if hi > lo else np.ones(len(p_ids), np.float32)
    if use_lexical and use_dense:
        base = (1 - w_dense) * lex_norm
        base[p_ids] += w_dense * p_norm  # the docs without a dense score add w·0
    elif use_dense:
        base = np.zeros(n, np.float32)
        base[p_ids] = p_norm
    else:
        base = lex_norm.copy()
    return base


def _lift_named_concepts(index: Index, named: dict[str, float], graph: np.ndarray, weight: float) -> np.ndarray:
    """Add to ``graph`` the lift of the concepts the query names; returns the docs that carry one."""
    if not named:
        return np.zeros(0, np.int64)
    concept = index.facets["concept"]
    position = concept.position
    for notation, w in named.items():
        if notation in position:
            docs = concept.docs_of(position[notation])
            graph[docs] = (graph[docs].astype(np.float64) + weight * w).astype(np.float32)
    return np.flatnonzero(concept.mask(list(named), index.size))


def _lift_feedback_concepts(
    index: Index, first_pass: np.ndarray, base: np.ndarray, graph: np.ndarray, weight: float
) -> None:
    """Add to ``graph`` the lift of the services and usages of the best hits of the ``first_pass`` scores
    (base + named concepts), rank-weighted, for the docs with a positive ``base``."""
    concept = index.facets["concept"]
    first = _best(first_pass, FEEDBACK_DEPTH)
    weights: Counter[int] = Counter()
    for rank_, i in enumerate(first):
        for v in concept.of_doc(int(i)):
            if is_fine_concept(concept.values[int(v)]):
                weights[int(v)] += 1.0 / (rank_ + 1)
    if not weights:
        return
    total = sum(1.0 / (r + 1) for r in range(len(first)))
    concepts = np.array(sorted(weights), np.int64)
    amounts = np.array([weights[v] / total for v in concepts.tolist()], np.float32).astype(np.float64)
    order, ptr = concept.inverted()
    # Sum per doc of the weights of its concepts, capped at 1, for the docs of the weighted concepts only.
    lift_docs(graph, base, order, ptr[concepts], ptr[concepts + 1], amounts, np.float32(weight))


def _best(score: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best docs of a per-doc ``score`` among those with a positive one (score descending, then position).

    The k-th best score of an evenly spread sample bounds the answer (the k-th best of all is at least as good),
    so one comparison leaves the few docs that reach it, instead of listing every doc with a positive score.
    """
    bound = _sampled_bound(score, k)
    ids = np.flatnonzero(score >= bound) if bound is not None and bound > 0 else np.flatnonzero(score > 0)
    return _top(ids, score[ids], k)


def _matches(
    index: Index, lexical: np.ndarray, max_lex: float, dense_ids: np.ndarray, dense_sims: np.ndarray,
    named_ids: np.ndarray, allowed: np.ndarray | None, use_lexical: bool, use_dense: bool,
) -> np.ndarray:
    """Boolean mask of the matches: lexical floor, dense floor, or a concept the query names."""
    # With a positive best score, reaching the floor implies a positive score.
    matched = lexical >= LEXICAL_FLOOR * max_lex if use_lexical and max_lex > 0 else np.zeros(index.size, bool)
    if use_dense:
        matched[dense_ids[dense_sims >= dense_floor(index.embedder)]] = True
        if not use_lexical:
            matched[dense_ids[dense_sims > 0]] = True  # dense-only mode (bench): every neighbour counts
    if len(named_ids):
        matched[named_ids] = True
    if allowed is not None:
        matched &= allowed
    return matched


# --- answers -----------------------------------------------------------------------------------------------


def _hit(index: Index, i: int, scored: Scored | None) -> Hit:
    """One result, built without validation: every value comes from our own index, already typed
    (validating ~50 nested models per page cost more than ranking the page at 100,000 experiences)."""
    p = index.payload(int(i))
    extrait = highlight(p.get("extrait") or "", scored.stems if scored else set())
    why = Why.model_construct(dense=0.0, lexical=0.0, graph=0.0)
    score = 0.0
    if scored is not None:
        why = Why.model_construct(
            dense=round(float(scored.dense[i]), 4),
            lexical=round(float(scored.lexical[i]), 4),
            graph=round(float(scored.graph[i]), 4),
        )
        score = round(float(scored.score[i]), 4)
    return Hit.model_construct(
        iri=p["iri"],
        titre=p["titre"],
        score=score,
        extrait=extrait,
        porteurs=[Porteur.model_construct(**x) for x in p.get("porteurs", [])],
        services=[dict(x) for x in p.get("services", [])],
        annee=p.get("annee"),
        technologies=list(p.get("technologies", [])),
        sources=[SourceRef.model_construct(**x) for x in p.get("sources", [])],
        why=why,
    )


def search(
    ctx: Context,
    query: str,
    filters: Filters | None = None,
    limit: int = 10,
    offset: int = 0,
    *,
    index: Index | None = None,
    qvec: np.ndarray | None = None,
) -> SearchResult:
    """Search experiences: ``query`` (French, any accents, typos tolerated) within ``filters``.

    An empty query lists the allowed experiences, newest first, with their facets. ``index`` replaces the
    context's index (tests, benches), ``qvec`` the query's vector (benches that leave encoding out).
    """
    _check_page(limit, offset)
    filters = filters or Filters()
    idx = index if index is not None else open_index(ctx)
    allowed = idx.allowed(filters)
    query = (query or "").strip()
    if not query:
        return _listing(idx, filters, allowed, limit, offset)
    if qvec is None and idx.vectors.shape[1]:
        qvec = query_vector(ctx, dense_query(query))
    scored = rank(idx, query, allowed, qvec=qvec, dense_k=ctx.settings.search_dense_k)
    hits = [_hit(idx, int(i), scored) for i in scored.top(offset + limit)[offset:]]
    message = None if scored.total else _nothing_message(filters, query)
    facets = idx.facet_counts(scored.matched)
    return SearchResult(
        query=query, total=scored.total, facets=facets, facet_values=idx.facet_values(facets), results=hits,
        message=message, corrections=scored.corrections,
    )


def dense_query(query: str) -> str:
    """What the embedder encodes of a query: the query without its framing (« je voudrais mettre en place »)."""
    return strip_framing(query)


def _check_page(limit: int, offset: int) -> None:
    if limit < 0:
        raise InvalidInput(f"le nombre de résultats doit être positif ({limit})", field="limit")
    if offset < 0:
        raise InvalidInput(f"le nombre de résultats à sauter doit être positif ({offset})", field="offset")


def _listing(index: Index, filters: Filters, allowed: np.ndarray | None, limit: int, offset: int) -> SearchResult:
    """The allowed experiences, newest first, with their facets (the answer to an empty query)."""
    ids = np.flatnonzero(allowed) if allowed is not None else np.arange(index.size)
    page = _top(ids, index.sort_key[ids].astype(np.int64), offset + limit)[offset:]
    hits = [_hit(index, int(i), None) for i in page]
    message = None if len(ids) else _nothing_message(filters)
    facets = index.facet_counts(ids)
    return SearchResult(
        query="", total=len(ids), facets=facets, facet_values=index.facet_values(facets), results=hits, message=message
    )


def _nothing_message(filters: Filters, query: str | None = None) -> str:
    active = filters.active()
    if active:
        # The filters are named as the CLI spells them (this text is part of the answer the surfaces compare).
        names = ", ".join(f"--{k.replace('_', '-')}" for k in active)
        what = f"« {query} »" if query else "ces critères"
        return f"Aucune expérience ne correspond à {what} avec ces filtres : essayez d'en retirer ({names})."
    return f"Aucune expérience ne correspond à « {query} » : essayez d'autres mots." if query else "L'index est vide."


def _resolve(ctx: Context, index: Index, iri: str) -> int:
    """Position of an experience in the index; an IRI merged into another one resolves to the survivor."""
    iri = iri.strip()
    if not iri.startswith("http"):
        iri = f"{ID}experience/{iri}"
    if iri in index.position:
        return index.position[iri]
    source, _, ident = local_key(iri).partition("-")
    src = _SOURCE_OF_KEY.get(source)
    if src:
        rows = ctx.store.select(
            f"""SELECT ?e WHERE {{ GRAPH ?g {{ ?e <{PROV.wasDerivedFrom}> ?r }}
                GRAPH ?h {{ ?r <{CAP.source}> $src ; <{CAP.identifiantSource}> $id }} }}""",
            src=src,
            id=ident,
        )
        for r in rows:
            if str(r["e"]) in index.position:
                return index.position[str(r["e"])]
    raise NotFound(f"expérience inconnue de l'index de recherche : {iri}")


def similar(ctx: Context, iri: str, limit: int = 10, *, index: Index | None = None) -> SearchResult:
    """Experiences like a given one: nearest vectors, lifted by shared ATLAAS concepts and technologies.

    Never the experience itself, nor a record merged into it (they share its IRI).
    """
    idx = index if index is not None else open_index(ctx)
    i = _resolve(ctx, idx, iri)
    n = idx.size
    closeness = _closeness(idx, i)
    concept = idx.facets["concept"]
    fine = {int(v) for v in concept.of_doc(i) if is_fine_concept(concept.values[int(v)])}
    concepts = _shared_share(idx, "concept", fine)
    technologies = _shared_share(idx, "technologie", set(idx.facets["technologie"].of_doc(i).tolist()))
    score = closeness + W_SIMILAR_CONCEPTS * concepts + W_SIMILAR_TECHNOLOGIES * technologies
    shared = W_SIMILAR_CONCEPTS * concepts + W_SIMILAR_TECHNOLOGIES * technologies
    score[i] = -np.inf
    ids = np.arange(n)
    ids = ids[ids != i]
    order = _top(ids, score[ids], limit)
    scored = Scored(order, score, np.zeros(n, np.float32), closeness, shared,
                    set(tokens(idx.payload(i)["titre"])), {}, ordered=True)
    hits = [_hit(idx, int(j), scored) for j in order]
    facets = idx.facet_counts(np.sort(order))
    return SearchResult(
        query=idx.iris[i], total=len(ids), facets=facets, facet_values=idx.facet_values(facets), results=hits
    )


def _closeness(index: Index, i: int) -> np.ndarray:
    """Cosine of every experience to experience ``i``; without vectors, the lexical profile of its title
    and summary stands in (scaled to 0..1 by the best)."""
    if index.vectors.shape[1]:
        return cosines(index.vectors, None, np.asarray(index.vectors[i], np.float32))
    p = index.payload(i)
    terms = {t: 1.0 for t in tokens(p["titre"] + " " + (p.get("extrait") or "")[:600])}
    lex = index.lexical_scores(terms)
    return lex / lex.max() if lex.max() > 0 else lex


def _shared_share(index: Index, facet_name: str, mine: set[int]) -> np.ndarray:
    """Per doc, the share of the values ``mine`` (of one facet) it carries too."""
    n = index.size
    if not mine:
        return np.zeros(n, np.float32)
    facet = index.facets[facet_name]
    vals = np.zeros(len(facet.values), np.float32)
    vals[list(mine)] = 1.0
    return np.bincount(facet.docs, weights=vals[facet.vals], minlength=n).astype(np.float32) / len(mine)


def relevance(
    ctx: Context,
    text: str,
    experience_iris: Iterable[str] | None = None,
    *,
    index: Index | None = None,
) -> dict[str, float]:
    """Dense similarity (cosine, -1..1) of each experience to a text, for the parrainage ranking.

    ``experience_iris`` restricts the answer (unknown IRIs are left out); ``None`` scores every experience.
    Without an embedder (``none``) the score is the lexical one scaled to 0..1 by the best.
    """
    idx = index if index is not None else open_index(ctx)
    if experience_iris is None:
        ids = np.arange(idx.size)
    else:
        ids = np.asarray([idx.position[i] for i in experience_iris if i in idx.position], np.int64)
    if not len(ids):
        return {}
    if idx.vectors.shape[1]:
        sims = np.asarray(idx.vectors[ids]) @ query_vector(ctx, text)
    else:
        terms, _ = idx.analyzer.query_terms(text)
        lex = idx.lexical_scores(terms)
        top = float(lex.max())
        sims = lex[ids] / top if top > 0 else lex[ids]
    return {idx.iris[int(i)]: round(float(s), 6) for i, s in zip(ids, sims, strict=True)}
