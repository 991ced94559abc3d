"""The import's literal factories make exactly what rdflib's constructor makes."""

from __future__ import annotations

import pytest
from rdflib import XSD, Literal, URIRef

from ingest.terms import recurring_literal, text_literal

TEXTS = ["", "Brest", "Ville de Brest", " espaces ", "ligne\nsuivante", 'guillemets "x"', "é œ 😀", "12", "true"]


@pytest.mark.parametrize("lang", [None, "fr", "en"])
@pytest.mark.parametrize("text", TEXTS)
def test_text_literal_is_rdflibs_literal(text: str, lang: str | None) -> None:
    made, expected = text_literal(text, lang), Literal(text, lang=lang)
    assert type(made) is Literal
    for slot in ("_language", "_datatype", "_value", "_ill_typed"):
        assert getattr(made, slot) == getattr(expected, slot), slot
    assert made == expected and hash(made) == hash(expected) and made.eq(expected)
    assert made.n3() == expected.n3() and made.toPython() == expected.toPython()
    assert {made} == {expected}


def test_other_values_and_tags_go_through_rdflib() -> None:
    assert text_literal(3) == Literal(3)  # type: ignore[arg-type]
    assert text_literal(True) == Literal(True)  # type: ignore[arg-type]
    assert text_literal("Brest", "br") == Literal("Brest", lang="br")
    with pytest.raises(ValueError):
        text_literal("x", "pas une langue")
    subclass = URIRef("https://example.org/x")  # a str subclass is not taken as plain text
    assert text_literal(subclass) == Literal(subclass)  # type: ignore[arg-type]


def test_recurring_literal_is_made_once() -> None:
    assert recurring_literal(171, datatype=XSD.integer) is recurring_literal(171, datatype=XSD.integer)
    assert recurring_literal(1) is not recurring_literal(1.0)
