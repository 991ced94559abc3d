"""The lexical side of the search: BM25 postings over French-analysed fields, and their scores.

Each field's words count :data:`FIELD_WEIGHT` times (a cheap BM25F); the BM25 impact of every (term, doc)
pair is computed when the index is built, so that scoring a query is a scatter of its terms' postings.

An update analyses only the documents that changed: :class:`Counts` keeps what the impacts are computed from
(each posting's weighted count, each document's length, the documents of each folded word and of each spelling),
so that the changed documents' postings are dropped by a mask, their new ones inserted, and the corpus statistics
(number of documents, document frequencies, average length) follow. The impacts are then recomputed from these
statistics in one vectorised pass: the answers are those of a full build, to the last bit.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from search.analysis import surface_forms, tokens, words
from search.corpus import Doc
from search.kernels import add_postings

FIELD_WEIGHT = {  # how many times a field's words count in the lexical document (a cheap BM25F)
    "titre": 3,
    "alternative": 2,
    "sousTitre": 2,
    "services": 2,
    "synthese": 1,
    "resume": 1,
    "actions": 1,
    "resultats": 1,
    "recommandations": 1,
    "description": 1,
    "technologies": 1,
    "lieux": 1,
}
BM25_K1 = 1.2
BM25_B = 0.75
_ANALYSED_MAX = 500_000  # distinct field values whose analysis is kept during a build
_IMPACT_BLOCK = 4_000_000  # postings whose impact is computed at a time (bounds the float64 temporaries)
_ADVANCE_EVERY = 500  # documents analysed between two calls of the progress callback

#: Called with the number of documents analysed since its last call (a progress line).
Advance = Callable[[int], None]


@dataclass
class Postings:
    """Term ids, postings (doc, BM25 impact) in CSR form, and the folded words' document frequencies."""

    terms: dict[str, int]  # stem -> term id (in id order)
    term_ptr: np.ndarray  # int64, len(terms)+1
    post_docs: np.ndarray  # int32 (a term's docs in no particular order)
    post_weight: np.ndarray  # float32 BM25 impact of the term in the doc
    vocabulary: dict[str, int]  # folded word -> document frequency (typo correction)
    surfaces: dict[str, str]  # folded word -> its most frequent spelling, when folding changes it (corrections)


@dataclass
class Inverted:
    """The documents of each key (a folded word, a spelling), key by key in CSR form."""

    keys: list[str]  # key id -> key
    ptr: np.ndarray  # int64, len(keys)+1: the documents of key k are docs[ptr[k]:ptr[k+1]]
    docs: np.ndarray  # int32

    @classmethod
    def empty(cls) -> Inverted:
        return cls([], np.zeros(1, np.int64), np.zeros(0, np.int32))

    def frequencies(self) -> dict[str, int]:
        """Key -> number of documents holding it."""
        return dict(zip(self.keys, np.diff(self.ptr).tolist(), strict=True))


@dataclass
class Counts:
    """What the postings' impacts are computed from, kept so that an update analyses only the changed docs."""

    tf: np.ndarray  # int32 weighted count of each posting (aligned with Postings.post_docs)
    lengths: np.ndarray  # int64 weighted length of each doc (sum of its counts)
    words: Inverted  # folded word -> docs that hold it (the vocabulary's document frequencies)
    spellings: Inverted  # "folded written" -> docs that write the folded word so (the surfaces)

    @classmethod
    def empty(cls) -> Counts:
        return cls(np.zeros(0, np.int32), np.zeros(0, np.int64), Inverted.empty(), Inverted.empty())


@dataclass
class Analysis:
    """What one document gives the lexical index: weighted stem counts, folded words and spellings."""

    stems: Counter[str]
    words: set[str]
    spellings: set[str]  # "folded written" (lowercased, accents kept) of the words that folding changes


@dataclass
class _Value:
    """The analysis of one field value (cached: many values recur, services and technologies above all)."""

    words: set[str]
    stems: Counter[str]
    spellings: set[str]


def analyse(doc: Doc, cache: dict[str, _Value] | None = None) -> Analysis:
    """The stems (weighted by field), words and spellings of one document."""
    counts: Counter[str] = Counter()
    seen_words: set[str] = set()
    spellings: set[str] = set()
    for name, values in doc.fields.items():
        if name.startswith("_"):
            continue
        weight = FIELD_WEIGHT.get(name, 1)
        for value in values:
            found = cache.get(value) if cache is not None else None
            if found is None:
                found = _Value(set(words(value)), Counter(tokens(value)),
                               {f"{folded} {written}" for folded, written in surface_forms(value)})
                if cache is not None and len(cache) < _ANALYSED_MAX:
                    cache[value] = found
            seen_words |= found.words
            spellings |= found.spellings
            for t, c in found.stems.items():
                counts[t] += weight * c
    return Analysis(counts, seen_words, spellings)


# --- building and updating ---------------------------------------------------------------------------------


def build_postings(docs: Sequence[Doc], *, advance: Advance | None = None) -> tuple[Postings, Counts]:
    """Analyse every doc and compute the BM25 impact of each of its terms (an update of an empty index)."""
    return update_postings(_no_postings(), Counts.empty(), docs, range(len(docs)), advance=advance)


def _no_postings() -> Postings:
    return Postings({}, np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32), {}, {})


def update_postings(
    postings: Postings, counts: Counts, docs: Sequence[Doc], changed: Sequence[int], *,
    advance: Advance | None = None,
) -> tuple[Postings, Counts]:
    """The postings of ``docs``, from those of the previous docs: only the positions ``changed`` are analysed.

    ``docs[i]`` is the doc the previous postings hold at ``i`` for every ``i`` not in ``changed``; positions past
    ``len(docs)`` are dropped (see :class:`PostingsUpdate`, which takes the changed docs as they come).
    """
    update = PostingsUpdate(postings, counts, len(docs))
    fresh = sorted({int(i) for i in changed if i < len(docs)})
    for done, i in enumerate(fresh, 1):
        update.add(i, docs[i])
        if advance is not None and done % _ADVANCE_EVERY == 0:
            advance(_ADVANCE_EVERY)
    if advance is not None and len(fresh) % _ADVANCE_EVERY:
        advance(len(fresh) % _ADVANCE_EVERY)
    return update.finish()


class PostingsUpdate:
    """The postings of ``n`` docs made from the previous ones (those of an empty index for a build), with the
    docs of the changed positions given one by one, in ascending positions, as they come (a corpus is read batch
    by batch: no list of every doc is needed).

    Every position not given keeps the doc the previous postings hold there; positions past ``n`` are dropped.
    :meth:`finish` removes the postings of the changed and dropped positions by one mask and inserts the new
    ones; document frequencies, number of docs and average length follow, and every impact is recomputed from
    them (a vectorised pass over the postings, no Python loop over the documents).
    """

    def __init__(self, postings: Postings, counts: Counts, n: int) -> None:
        self.postings, self.counts, self.n = postings, counts, n
        old_n = counts.lengths.size
        self.stems, self.words, self.spellings = (
            _Fresh(list(postings.terms)), _Fresh(counts.words.keys), _Fresh(counts.spellings.keys))
        self.lengths = np.zeros(n, np.int64)
        self.lengths[: min(n, old_n)] = counts.lengths[: min(n, old_n)]
        self.dead = np.zeros(max(n, old_n), bool)
        self.dead[n:old_n] = True
        self._cache: dict[str, _Value] = {}
        self._last = -1

    @classmethod
    def empty(cls, n: int) -> PostingsUpdate:
        """For a build: no previous postings."""
        return cls(_no_postings(), Counts.empty(), n)

    def add(self, i: int, doc: Doc) -> None:
        """Analyse the doc now at position ``i`` (above every position given before)."""
        if i <= self._last or i >= self.n:
            raise ValueError(f"position {i} : les documents changés viennent une fois, dans l'ordre, sous {self.n}")
        self._last = i
        a = analyse(doc, self._cache)
        self.stems.add(i, a.stems.keys(), a.stems.values())
        self.words.add(i, a.words)
        self.spellings.add(i, a.spellings)
        self.lengths[i] = sum(a.stems.values())
        if i < self.counts.lengths.size:
            self.dead[i] = True

    def finish(self) -> tuple[Postings, Counts]:
        postings, counts = self.postings, self.counts
        mask = self.dead if self.dead.any() else None
        terms, term_ptr, post_docs, tf = _merge(list(postings.terms), postings.term_ptr, postings.post_docs,
                                                counts.tf, mask, self.stems)
        w_keys, w_ptr, w_docs, _ = _merge(counts.words.keys, counts.words.ptr, counts.words.docs, None, mask,
                                          self.words)
        s_keys, s_ptr, s_docs, _ = _merge(counts.spellings.keys, counts.spellings.ptr, counts.spellings.docs, None,
                                          mask, self.spellings)
        assert tf is not None
        new_counts = Counts(tf, self.lengths, Inverted(w_keys, w_ptr, w_docs), Inverted(s_keys, s_ptr, s_docs))
        return Postings(
            terms={t: k for k, t in enumerate(terms)},
            term_ptr=term_ptr,
            post_docs=post_docs,
            post_weight=impacts(term_ptr, post_docs, tf, self.lengths),
            vocabulary=new_counts.words.frequencies(),
            surfaces=_surfaces(new_counts.spellings),
        ), new_counts


class _Fresh:
    """New postings (key id, doc, count) gathered doc by doc; keys unseen so far get the next ids."""

    def __init__(self, keys: list[str]) -> None:
        self.ids = {k: i for i, k in enumerate(keys)}
        self.added: list[str] = []
        self.key = array("i")
        self.doc = array("i")
        self.count = array("i")

    def add(self, doc: int, keys: Iterable[str], counts: Iterable[int] | None = None) -> None:
        ids = self.ids
        found = []
        for k in keys:
            i = ids.get(k)
            if i is None:
                i = ids[k] = len(ids)
                self.added.append(k)
            found.append(i)
        self.key.extend(found)
        self.doc.extend([doc] * len(found))
        if counts is not None:
            self.count.extend(counts)


def _merge(
    keys: list[str], ptr: np.ndarray, docs: np.ndarray, values: np.ndarray | None, dead: np.ndarray | None,
    fresh: _Fresh,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray | None]:
    """Key-major CSR arrays without the postings of ``dead`` docs and with the ``fresh`` ones (keys left
    without a document are dropped). Linear numpy passes: a mask, a bincount, an insertion; the Python work is
    proportional to the fresh postings (and to the keys, when some are dropped)."""
    n_keys = len(keys) + len(fresh.added)
    df = np.zeros(n_keys, np.int64)
    df[: len(keys)] = np.diff(ptr)
    if dead is not None and docs.size:
        gone = dead[docs]
        lost = np.flatnonzero(gone)
        if lost.size:
            df -= np.bincount(np.searchsorted(ptr, lost, side="right") - 1, minlength=n_keys)
            keep = ~gone
            docs = docs[keep]
            values = values[keep] if values is not None else None
    if len(fresh.key):
        key = np.frombuffer(fresh.key, np.int32)
        order = np.argsort(key, kind="stable")  # by key, each key's docs in the order they came (ascending)
        key = key[order]
        kept_ptr = np.zeros(n_keys + 1, np.int64)
        np.cumsum(df, out=kept_ptr[1:])
        at = kept_ptr[key + 1]  # after the key's kept docs (np.insert keeps equal positions in the given order)
        docs = np.insert(docs, at, np.frombuffer(fresh.doc, np.int32)[order])
        if values is not None:
            values = np.insert(values, at, np.frombuffer(fresh.count, np.int32)[order])
        df += np.bincount(key, minlength=n_keys)
    all_keys = [*keys, *fresh.added]
    alive = df > 0
    if not alive.all():
        all_keys = [k for k, a in zip(all_keys, alive.tolist(), strict=True) if a]
        df = df[alive]
    out_ptr = np.zeros(len(all_keys) + 1, np.int64)
    np.cumsum(df, out=out_ptr[1:])
    return all_keys, out_ptr, docs.astype(np.int32, copy=False), (
        values.astype(np.int32, copy=False) if values is not None else None)


def impacts(term_ptr: np.ndarray, post_docs: np.ndarray, tf: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The BM25 impact of every posting (idf × length-normalised term frequency), float32.

    Computed from the statistics alone (number of docs, document frequencies, exact integer average length),
    in blocks of terms, so that the same postings give the same impacts whatever order they are stored in.
    """
    n = lengths.size
    df = np.diff(term_ptr)
    idf = np.log1p((n - df + 0.5) / (df + 0.5))
    avg = int(lengths.sum()) / n if n else 1.0
    out = np.empty(post_docs.size, np.float32)
    bounds = np.searchsorted(term_ptr, np.arange(0, post_docs.size, _IMPACT_BLOCK), side="right") - 1
    starts = sorted({int(b) for b in bounds} | {len(df)})
    for k0, k1 in pairwise(starts):
        lo, hi = int(term_ptr[k0]), int(term_ptr[k1])
        if lo == hi:
            continue
        f = tf[lo:hi].astype(np.float64)
        norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[post_docs[lo:hi]] / (avg or 1.0))
        out[lo:hi] = np.repeat(idf[k0:k1], df[k0:k1]) * (f * (BM25_K1 + 1) / (f + norm))
    return out


def _surfaces(spellings: Inverted) -> dict[str, str]:
    """Folded word -> its spelling written in the most documents (the greatest one on a tie)."""
    best: dict[str, tuple[int, str]] = {}
    for key, c in zip(spellings.keys, np.diff(spellings.ptr).tolist(), strict=True):
        folded, written = key.split(" ", 1)
        if folded not in best or (c, written) > best[folded]:
            best[folded] = (c, written)
    return {folded: written for folded, (_, written) in sorted(best.items())}


def bm25_scores(postings: Postings, n: int, terms: dict[str, float], allowed: np.ndarray | None = None) -> np.ndarray:
    """BM25 score per doc (0 outside ``allowed``): each query term's postings added, no pass over n."""
    scores = np.zeros(n, np.float32)
    known = [(postings.terms[t], w) for t, w in terms.items() if t in postings.terms]
    if known:
        ks = np.array([k for k, _ in known], np.int64)
        factors = np.array([w for _, w in known], np.float32)
        add_postings(scores, postings.post_docs, postings.post_weight, postings.term_ptr[ks], postings.term_ptr[ks + 1],
                     factors)
    if allowed is not None:
        np.multiply(scores, allowed, out=scores)
    return scores

