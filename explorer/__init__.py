"""The Streamlit explorer of Capitalis: search, fiches, parrainage, dashboards and a SPARQL console.

Its deep-link scheme (``FICHE_URL_TEMPLATE``, :func:`fiche_url`) is defined by the read model in
:mod:`fiches.deeplink`, where the API finds it too; it is re-exported here for the pages.
"""

from __future__ import annotations

from fiches.deeplink import FICHE_URL_TEMPLATE, fiche_url

__all__ = ["FICHE_URL_TEMPLATE", "fiche_url"]
