"""French text analysis for search: folding, stop words, stemming, typo correction and highlighting.

Folding is the project's own :func:`ontology.iri.normalise_texte` (lowercase, no accents, œ→oe, punctuation as
spaces), so that "Données", "donnees" and "DONNÉES" are one word everywhere. Stemming runs on the folded word
(Snowball French through PyStemmer): stemming before folding would give "données" → "don" but
"donnees" → "donne", and a query typed without accents would miss.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import pairwise

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ontology.iri import normalise_texte

__all__ = [
    "STOP_PHRASES",
    "STOP_WORDS",
    "Analyzer",
    "analyzer",
    "content_words",
    "fold",
    "highlight",
    "stem",
    "strip_framing",
    "surface_forms",
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

# What frames a request rather than names its subject, in general French (not fitted to any query set):
# support verbs and their set phrases (« mettre en place », « mise en œuvre », faire, créer, développer,
# réaliser), wishes, needs and modals (je voudrais, nous souhaitons, on cherche, il faut, pouvoir, besoin),
# question frames (comment, existe-t-il). Removed from queries only — the indexed text keeps them — and only
# these verb forms: « développement » or « création » can be what an experience is about, and « mettre »
# alone stays (« mettre en ligne », « mettre à disposition » say something; « mettre en place » does not).
_STOP_PHRASES_TEXT = """
    mettre en place | mise en place | mis en place | mettre en oeuvre | mise en oeuvre | mis en oeuvre |
    mettre sur pied | mettre en route | mise en route | doter | faire | fais | faisons | faites |
    creer | creons | creez |
    developper | developpons | developpez | realiser | realisons | realisez | lancer | lancons | lancez |
    je voudrais | voudrais | voudrait | voudrions | voudriez | voudraient | veux | veut | voulons | voulez |
    veulent | vouloir | souhaite | souhaites | souhaitons | souhaitez | souhaitent | souhaiter |
    souhaiterais | souhaiterait | souhaiterions | aimerais | aimerait | aimerions |
    cherche | cherchons | cherchez | chercher | pouvoir | peux | pouvons | pouvez | peuvent | pourrait |
    pourrions | pourriez | devoir | dois | doit | devons | devez | doivent | faut | falloir | besoin |
    comment | existe t il | y a t il | quelle solution | quelles solutions | exemple | exemples
"""
#: Phrases (tuples of folded words) that frame a query; :func:`content_words` drops them.
STOP_PHRASES: frozenset[tuple[str, ...]] = frozenset(
    tuple(normalise_texte(p).split()) for p in _STOP_PHRASES_TEXT.split("|") if p.strip()
)
_PHRASE_MAX = max(len(p) for p in STOP_PHRASES)

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


def _framing_spans(folded: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) word positions of the stop phrases of a folded word sequence, longest match first."""
    spans, i = [], 0
    while i < len(folded):
        for size in range(min(_PHRASE_MAX, len(folded) - i), 0, -1):
            if tuple(folded[i : i + size]) in STOP_PHRASES:
                spans.append((i, i + size))
                i += size
                break
        else:
            i += 1
    return spans


def content_words(text: str | None) -> list[str]:
    """Folded words of a query without its framing (:data:`STOP_PHRASES`); all of them if nothing else is left."""
    folded = words(text)
    drop = {k for a, b in _framing_spans(folded) for k in range(a, b)}
    kept = [w for k, w in enumerate(folded) if k not in drop]
    return kept if any(w not in STOP_WORDS for w in kept) else folded


def strip_framing(text: str) -> str:
    """A query as typed, accents kept, without its framing: what the embedder encodes.

    « Je voudrais mettre en place la vidéo-protection » → « la vidéo-protection ». A query that is nothing
    but framing is kept whole.
    """
    pieces = [(m.start(), m.end(), fold(m.group()).split()) for m in _WORDS.finditer(text)]
    flat = [(k, w) for k, (_, _, ws) in enumerate(pieces) for w in ws]
    spans = _framing_spans([w for _, w in flat])
    drop = {flat[j][0] for a, b in spans for j in range(a, b)}
    if not drop or all(fold(text[s:e]) in STOP_WORDS or k in drop for k, (s, e, _) in enumerate(pieces)):
        return text
    # The words left dangling at the head (« nous », « la » of « nous souhaitons mettre en place la … ») go too.
    for k, (_, _, ws) in enumerate(pieces):
        if k not in drop and not all(w in STOP_WORDS for w in ws):
            break
        drop.add(k)
    out, last = [], 0
    for k, (start, end, _) in enumerate(pieces):
        if k in drop:
            out.append(text[last:start])
            last = end
    out.append(text[last:])
    return re.sub(r"\s+", " ", "".join(out)).strip(" ,;:-'’")


def tokens(text: str | None) -> list[str]:
    """Index terms of a text: folded, stop words removed, stemmed."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS and len(w) > 1]


class Analyzer:
    """Turns a query into weighted index terms, correcting typos against the corpus vocabulary.

    ``vocabulary`` maps each folded word of the corpus to its document frequency. A query word unknown to it
    (5 letters or more) is corrected into a word of the corpus: the closest within one edit (two for 8 letters
    or more), the most frequent on ties — « restauraton » → « restauration », « mediateque » → « médiathèque ».
    A correction that lands on the word's own stem is no correction (« dematerialiser » is another form of
    « dématérialisé », not a typo): the word is searched as typed and nothing is reported. The correction
    shown is the word as the corpus spells it (``surfaces``: folded word → its most frequent spelling), never
    a stem.
    Candidates are looked for only among words of a length within the edit limit (no other can be that
    close), and each answer is remembered: a correction costs a scan of the vocabulary once per word.
    """

    _MEMO_MAX = 50_000

    def __init__(
        self,
        vocabulary: dict[str, int],
        *,
        surfaces: Mapping[str, str] | None = None,
    ) -> None:
        self.vocabulary = vocabulary
        self.surfaces = surfaces or {}
        by_length: dict[int, list[str]] = {}
        for w in vocabulary:
            if len(w) >= 4 and not w.isdigit():
                by_length.setdefault(len(w), []).append(w)
        self._by_length = by_length
        self._memo: dict[str, str | None] = {}

    def correct(self, word: str) -> str | None:
        """The known (folded) word closest to an unknown one, or None."""
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

    def spelling(self, word: str) -> str:
        """A folded word of the corpus as the corpus spells it (accents back: « mediatheque » → « médiathèque »)."""
        return self.surfaces.get(word, word)

    def forget(self) -> None:
        """Drop the remembered corrections (the latency bench times every query as if new)."""
        self._memo.clear()

    def query_terms(self, query: str) -> tuple[dict[str, float], dict[str, str]]:
        """Weighted stems of a query without its framing, and the corrections made (typed → corpus word)."""
        terms: dict[str, float] = {}
        corrections: dict[str, str] = {}
        kept = [w for w in content_words(query) if w not in STOP_WORDS and len(w) >= 2]
        for first, second in pairwise(kept):
            # French writes many compounds both ways (« vidéo-protection », « vidéoprotection »): the joined
            # form counts too when the corpus has it.
            joined = first + second
            if joined in self.vocabulary and not joined.isdigit():
                terms[stem(joined)] = 1.0
        for word in kept:
            weight = 1.0
            fixed = self.correct(word)
            if fixed is not None and stem(fixed) != stem(word):
                corrections[word] = self.spelling(fixed)
                word, weight = fixed, 0.8
            term = stem(word)
            terms[term] = max(terms.get(term, 0.0), weight)
        return terms, corrections


def analyzer(vocabulary: dict[str, int]) -> Analyzer:
    return Analyzer(vocabulary)


def surface_forms(text: str | None) -> list[tuple[str, str]]:
    """(folded word, the word as written, lowercased) of each word of a text that folding changes."""
    out = []
    for m in _WORDS.finditer((text or "").lower()):
        written = m.group()
        folded = fold(written)
        if folded != written and " " not in folded:
            out.append((folded, written))
    return out


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
