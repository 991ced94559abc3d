"""The HTML cleaner every reader uses, in the three layouts they ask for."""

from __future__ import annotations

from ingest.html import html_to_text

FRAGMENT = (
    "<h2>Atelier</h2><p>Un&nbsp;EPN\nouvert <b>le mardi</b></p><ul><li>initiation</li><li>démarches</li></ul>"
    "<p>ligne<br/>suivante</p><script>alert(1)</script><style>p{}</style><p>Fin &amp; suite</p>"
)


def test_paragraphs_with_html_spaces() -> None:  # Villes Internet
    text, script = html_to_text(FRAGMENT, paragraphs=True, html_spaces=True)
    assert script
    assert text == "Atelier\n\nUn EPN ouvert le mardi\n\ninitiation\n\ndémarches\n\nligne\nsuivante\n\nFin & suite"


def test_one_line_a_block_keeping_newlines() -> None:  # OTeN
    text, script = html_to_text(FRAGMENT)
    assert script
    assert text == "Atelier\nUn EPN\nouvert le mardi\ninitiation\ndémarches\nligne\nsuivante\nFin & suite"


def test_list_items_as_bullets() -> None:  # NetPublic
    text, _ = html_to_text(FRAGMENT, bullets=True)
    assert text == "Atelier\nUn EPN\nouvert le mardi\n- initiation\n- démarches\nligne\nsuivante\nFin & suite"
    assert html_to_text("<ul><li></li></ul>texte", bullets=True) == ("texte", False)  # an empty item vanishes
