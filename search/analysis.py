"""French text analysis for search: folding, stop words, stemming, typo correction and highlighting.

Folding is the project's own :func:`ontology.iri.normalise_texte` (lowercase, no accents, œ→oe, punctuation as
spaces), so that "Données", "donnees" and "DONNÉES" are one word everywhere. Stemming runs on the folded word
(Snowball French through PyStemmer): stemming before folding would give "données" → "don" but
"donnees" → "donne", and a query typed without accents would miss.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ontology.iri import normalise_texte

__all__ = [
    "STOP_WORDS",
    "Analyzer",
    "analyzer",
    "fold",
    "highlight",
    "stem",
    "tokens",
]

# Snowball's French stop list, folded, plus the elided forms and a few words every experience carries.
_STOP_TEXT = """
    au aux avec ce ces dans de des du elle en et eux il ils je la le les leur leurs lui ma mais me meme
    mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu
    un une vos votre vous c d j l m n s t y ete etee etees etes etant suis es est sommes etes sont serai
    seras sera serons serez seront serais serait serions seriez seraient etais etait etions etiez
    etaient fus fut fumes futes furent sois soit soyons soyez soient fusse fusses fut fussions fussiez
    fussent ayant eu eue eues eus ai as avons avez ont aurai auras aura aurons aurez auront aurais
    aurait aurions auriez auraient avais avait avions aviez avaient eut eumes eutes eurent aie aies ait
    ayons ayez aient eusse eusses eussions eussiez eussent ceci cela celle celles celui ceux cet cette
    comme comment dont donc ici la lors ni non oui peu plus quand quel quelle quelles quels sans si sous
    tres tout toute toutes tous afin ainsi alors apres aussi autre autres avant bien car chaque chez
    deja depuis entre etc jusqu leurs lorsque meme memes pendant peut plusieurs puis quoi sera soi tel
    telle tels telles vers via voici voila qu quelqu
"""
STOP_WORDS: frozenset[str] = frozenset(normalise_texte(w) for w in _STOP_TEXT.split())

_WORD = re.compile(r"[0-9a-z]+")


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer: the Snowball stemmers compiled in C

    return Stemmer.Stemmer("french")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball French stem of a folded word (cached: a corpus has a few tens of thousands of words)."""
    if len(word) <= 3 or word.isdigit():
        return word
    return _stemmer().stemWord(word)


def fold(text: str | None) -> str:
    """The project's folding (see :func:`ontology.iri.normalise_texte`)."""
    return normalise_texte(text)


def words(text: str | None) -> list[str]:
    """Folded words of a text, stop words included (for highlighting and vocabulary)."""
    return _WORD.findall(fold(text))


def tokens(text: str | None) -> list[str]:
    """Index terms of a text: folded, stop words removed, stemmed."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS and len(w) > 1]


class Analyzer:
    """Turns a query into weighted index terms, correcting typos against the corpus vocabulary.

    ``vocabulary`` maps each folded word of the corpus to its document frequency; a query word unknown to
    it (5 letters or more) is replaced by the closest known word within one edit (two for 8 letters or
    more), the most frequent on ties: "restauraton" → "restauration", "mediateque" → "mediatheque".
    Candidates are looked for only among words of a length within the edit limit (no other can be that
    close), and each answer is remembered: a correction costs a scan of the vocabulary once per word.
    """

    _MEMO_MAX = 50_000

    def __init__(self, vocabulary: dict[str, int]) -> None:
        self.vocabulary = vocabulary
        by_length: dict[int, list[str]] = {}
        for w in vocabulary:
            if len(w) >= 4 and not w.isdigit():
                by_length.setdefault(len(w), []).append(w)
        self._by_length = by_length
        self._memo: dict[str, str | None] = {}

    def correct(self, word: str) -> str | None:
        """The known word closest to an unknown one, or None."""
        if word in self.vocabulary or len(word) < 5 or word.isdigit():
            return None
        if word in self._memo:
            return self._memo[word]
        limit = 2 if len(word) >= 8 else 1
        best: tuple[int, int, str] | None = None
        for length in range(len(word) - limit, len(word) + limit + 1):
            choices = self._by_length.get(length)
            if not choices:
                continue
            for found, distance, _ in process.extract(
                word, choices, scorer=Levenshtein.distance, score_cutoff=limit, limit=None
            ):
                key = (int(distance), -self.vocabulary.get(found, 0), found)
                if best is None or key < best:
                    best = key
        fixed = best[2] if best is not None else None
        if len(self._memo) >= self._MEMO_MAX:
            self._memo.clear()
        self._memo[word] = fixed
        return fixed

    def forget(self) -> None:
        """Drop the remembered corrections (the latency bench times every query as if new)."""
        self._memo.clear()

    def query_terms(self, query: str) -> tuple[dict[str, float], dict[str, str]]:
        """Weighted stems of a query and the corrections made (typed word → corpus word)."""
        terms: dict[str, float] = {}
        corrections: dict[str, str] = {}
        for word in words(query):
            if word in STOP_WORDS or len(word) < 2:
                continue
            weight = 1.0
            fixed = self.correct(word)
            if fixed is not None:
                corrections[word] = fixed
                word, weight = fixed, 0.8
            term = stem(word)
            terms[term] = max(terms.get(term, 0.0), weight)
        return terms, corrections


def analyzer(vocabulary: dict[str, int]) -> Analyzer:
    return Analyzer(vocabulary)


_WORDS = re.compile(r"\w+", re.UNICODE)


def highlight(text: str, stems: Iterable[str], *, width: int = 240, mark: Sequence[str] = ("<mark>", "</mark>")) -> str:
    """An extract of ``text`` around its densest run of query words, those words wrapped in ``mark``.

    Words are compared folded and stemmed, so "Cantines" is marked for a query on "cantine". Each distinct
    word of the text is analysed once (and remembered across calls), then only the hits are located.
    """
    wanted = set(stems)
    if not text:
        return ""
    text = text[:1500]  # extracts come from the beginning; long texts need not be scanned whole
    hits: list[int] = []
    if wanted:
        known = _STEMS
        found = set()
        for w in set(_WORDS.findall(text)):
            stems_of_w = known.get(w)
            if stems_of_w is None:
                stems_of_w = _stems_of(w)
            if not wanted.isdisjoint(stems_of_w):
                found.add(w)
        if found:
            hits = [m.start() for m in _WORDS.finditer(text) if m.group() in found]
    start = 0
    if hits:
        # The window of ``width`` characters holding the most hits starts at one of them.
        best, best_count, k = hits[0], 0, 0
        for i, o in enumerate(hits):
            k = max(k, i)
            while k < len(hits) and hits[k] < o + width:
                k += 1
            if k - i > best_count:
                best, best_count = o, k - i
        start = max(0, best - width // 4)
        while start > 0 and text[start - 1].isalnum():
            start -= 1
    end = min(len(text), start + width)
    while end < len(text) and text[end].isalnum():
        end += 1
    piece = text[start:end]
    out, last = [], 0
    if wanted:
        for m in _WORDS.finditer(piece):
            if not wanted.isdisjoint(_stems_of(m.group())):
                out.append(piece[last : m.start()])
                out.append(f"{mark[0]}{m.group()}{mark[1]}")
                last = m.end()
    out.append(piece[last:])
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + "".join(out).strip() + suffix


def _is_hit(word: str, wanted: set[str]) -> bool:
    return not wanted.isdisjoint(_stems_of(word))


_STEMS: dict[str, tuple[str, ...]] = {}


def _stems_of(word: str) -> tuple[str, ...]:
    """Stems of one word as written (folding may split it: "l'école" → "l", "ecole"), remembered."""
    found = _STEMS.get(word)
    if found is None:
        if len(_STEMS) >= 200_000:
            _STEMS.clear()
        found = _STEMS[word] = tuple(stem(w) for w in fold(word).split() if w not in STOP_WORDS)
    return found
