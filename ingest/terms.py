"""Making the rdflib literals of an import quickly: an import makes hundreds of thousands of them.

rdflib's ``Literal(...)`` takes 3 to 7 µs: it tries to cast the lexical form to a Python value, normalises
it, checks the language tag. Two cases cost far less:

- :func:`text_literal`: a plain or language-tagged string has nothing to cast (its value is the string
  itself): it is made directly, as the very object rdflib's constructor makes (same class, same slots;
  ``tests/ingest/test_terms.py`` compares them, so an rdflib upgrade that changes the layout fails there);
- :func:`recurring_literal`: the values an import repeats thousands of times (methods, scores and reasons
  of decisions, sheet names, row numbers) are made once each.
"""

from __future__ import annotations

from functools import lru_cache

from rdflib import Literal

#: Language tags :func:`text_literal` may set without rdflib's check (the ones the readers write).
_CHECKED_TAGS = frozenset({None, "fr", "en"})


def text_literal(value: str, lang: str | None = None) -> Literal:
    """``Literal(value, lang=lang)`` for a ``str`` value, without rdflib's casting path (any other value,
    or another tag, goes through rdflib's constructor)."""
    if type(value) is not str or lang not in _CHECKED_TAGS:
        return Literal(value, lang=lang)
    literal = str.__new__(Literal, value)
    literal._language = lang  # type: ignore[attr-defined]
    literal._datatype = None  # type: ignore[attr-defined]
    literal._value = value  # type: ignore[attr-defined]
    literal._ill_typed = None  # type: ignore[attr-defined]
    return literal


#: ``Literal(...)`` made once per distinct arguments, for values an import repeats (not for free text: the
#: cache would keep it). ``typed`` keeps 1 and 1.0 apart, "1" and "1.0" too.
recurring_literal = lru_cache(maxsize=100_000, typed=True)(Literal)
