"""The address of an entity's fiche in the explorer, for every surface that sends a reader there.

``FICHE_URL_TEMPLATE`` is the explorer's deep-link scheme: the API redirects HTML requests for ``/id/...`` to
it, the explorer's pages link to each other with it. ``{iri}`` must be percent-encoded (:func:`fiche_url`
does it).
"""

from __future__ import annotations

from urllib.parse import quote

#: Deep link of an entity's fiche: ``{base_url}`` is the explorer's root URL without a trailing slash
#: (``http://127.0.0.1:8501``), ``{iri}`` the entity IRI percent-encoded with ``quote(iri, safe="")``.
FICHE_URL_TEMPLATE = "{base_url}/fiche?iri={iri}"


def fiche_url(iri: str, base_url: str = "") -> str:
    """The URL that opens the fiche of ``iri`` (relative to the explorer's root when ``base_url`` is empty)."""
    return FICHE_URL_TEMPLATE.format(base_url=base_url.rstrip("/"), iri=quote(iri, safe=""))
