"""The lexical side of the search: BM25 postings over French-analysed fields, and their scores.

Each field's words count :data:`FIELD_WEIGHT` times (a cheap BM25F); the BM25 impact of every (term, doc)
pair is computed at build time, so that scoring a query is a scatter of its terms' postings.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from search.analysis import surface_forms, tokens, words
from search.corpus import Doc

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


@dataclass
class Postings:
    """Term ids, postings (doc, BM25 impact) in CSR form, and the folded words' document frequencies."""

    terms: dict[str, int]  # stem -> term id
    term_ptr: np.ndarray  # int64, len(terms)+1
    post_docs: np.ndarray  # int32
    post_weight: np.ndarray  # float32 BM25 impact of the term in the doc
    vocabulary: dict[str, int]  # folded word -> document frequency (typo correction)
    surfaces: dict[str, str]  # folded word -> its most frequent spelling, when folding changes it (corrections)


def build_postings(docs: Sequence[Doc]) -> Postings:
    """Analyse every doc's fields and compute the BM25 impact of each of its terms."""
    doc_terms, vocabulary, spellings = _term_counts(docs)
    postings = _impacts(doc_terms)
    out = _csr(postings, len(docs), vocabulary)
    best: dict[str, tuple[int, str]] = {}
    for (folded, written), c in spellings.items():
        if folded not in best or (c, written) > best[folded]:
            best[folded] = (c, written)
    out.surfaces = {folded: written for folded, (_, written) in sorted(best.items())}
    return out


def _term_counts(docs: Sequence[Doc]) -> tuple[list[Counter[str]], Counter[str], Counter[tuple[str, str]]]:
    """Weighted stem counts per doc, the document frequency of each folded word, and how often each folded
    word is written each way (accents: « médiathèque »), counted once per distinct field value."""
    doc_terms: list[Counter[str]] = []
    vocabulary: Counter[str] = Counter()
    spellings: Counter[tuple[str, str]] = Counter()
    analysed: dict[str, tuple[set[str], Counter[str]]] = {}  # one analysis per distinct field value
    for d in docs:
        counts: Counter[str] = Counter()
        seen_words: set[str] = set()
        for name, values in d.fields.items():
            if name.startswith("_"):
                continue
            weight = FIELD_WEIGHT.get(name, 1)
            for value in values:
                found = analysed.get(value)
                if found is None:
                    found = (set(words(value)), Counter(tokens(value)))
                    spellings.update(surface_forms(value))
                    if len(analysed) < _ANALYSED_MAX:
                        analysed[value] = found
                seen_words |= found[0]
                for t, c in found[1].items():
                    counts[t] += weight * c
        vocabulary.update(seen_words)
        doc_terms.append(counts)
    return doc_terms, vocabulary, spellings


def _impacts(doc_terms: list[Counter[str]]) -> dict[str, list[tuple[int, float]]]:
    """Term -> (doc, BM25 term-frequency part) postings, length-normalised."""
    n = len(doc_terms)
    lengths = np.asarray([sum(c.values()) for c in doc_terms], np.float32)
    avg = float(lengths.mean()) if n else 1.0
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for i, counts in enumerate(doc_terms):
        norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[i] / avg) if avg else BM25_K1
        for t, tf in counts.items():
            postings[t].append((i, tf * (BM25_K1 + 1) / (tf + norm)))
    return postings


def _csr(postings: dict[str, list[tuple[int, float]]], n: int, vocabulary: Counter[str]) -> Postings:
    """The postings as sorted terms and flat arrays, each impact multiplied by its term's idf."""
    terms = sorted(postings)
    ptr = np.zeros(len(terms) + 1, np.int64)
    all_docs: list[int] = []
    all_weights: list[float] = []
    for k, t in enumerate(terms):
        plist = postings[t]
        idf = math.log(1 + (n - len(plist) + 0.5) / (len(plist) + 0.5))
        all_docs.extend(i for i, _ in plist)
        all_weights.extend(w * idf for _, w in plist)
        ptr[k + 1] = ptr[k] + len(plist)
    return Postings(
        terms={t: k for k, t in enumerate(terms)},
        term_ptr=ptr,
        post_docs=np.asarray(all_docs, np.int32),
        post_weight=np.asarray(all_weights, np.float32),
        vocabulary=dict(vocabulary),
        surfaces={},
    )


def bm25_scores(postings: Postings, n: int, terms: dict[str, float], allowed: np.ndarray | None = None) -> np.ndarray:
    """BM25 score per doc (0 outside ``allowed``): a scatter of each term's postings, no pass over n."""
    scores = np.zeros(n, np.float32)
    for t, w in terms.items():
        k = postings.terms.get(t)
        if k is None:
            continue
        lo, hi = postings.term_ptr[k], postings.term_ptr[k + 1]
        # A doc appears once in a term's postings: the scatter loses no update.
        scores[postings.post_docs[lo:hi]] += postings.post_weight[lo:hi] * w
    if allowed is not None:
        np.multiply(scores, allowed, out=scores)
    return scores
