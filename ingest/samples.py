"""The sample exports of ``data/samples`` imported into a store: what the tests, the benches and the explorer's
browser checks start from.

The whole territorial referential takes half a minute to load; :func:`load_referential_subset` loads the
régions, départements and EPCI, and only the communes the store's records name or that belong to an EPCI
they name.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ingest.load import ensure_ontology, import_file
from ingest.sources import Report
from ingest.territories import load_referentiel, territories_triples
from kg.store import Store, Triple
from ontology.iri import graph

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
WORKBOOK = "villes_internet_atlaas.xlsx"
LABELS = "villes_internet_labels.csv"
OTEN = "oten_fiches.xml"
NETPUBLIC = "netpublic_lieux_mediation.csv"
_CAP = "https://w3id.org/capitalis/ontology#"


def import_samples(store: Store, names: Iterable[str] = (WORKBOOK, OTEN, NETPUBLIC)) -> list[Report]:
    """Import sample files, in order, with the real pipeline; returns their reports."""
    ensure_ontology(store)
    return [import_file(store, SAMPLES / name) for name in names]


def load_referential_subset(store: Store, *, epci_of_communes: bool = False) -> None:
    """The referential for the territories the store's records name (``cap:territoire``).

    Régions, départements and EPCI whole; the communes named, and every commune of an EPCI named. With
    ``epci_of_communes``, the EPCI of each commune named counts as named too (a filleul's neighbours).
    """
    rows = store.select(f"SELECT DISTINCT ?t WHERE {{ GRAPH ?g {{ ?x <{_CAP}territoire> ?t }} }}")
    used = {str(r["t"]) for r in rows}
    ref = load_referentiel()
    epcis = {u.rsplit("/", 1)[-1] for u in used if "/id/epci/" in u}
    communes = {u.rsplit("/", 1)[-1] for u in used if "/id/commune/" in u}
    if epci_of_communes:
        epcis |= {ref.communes[c].epci_siren for c in communes if c in ref.communes and ref.communes[c].epci_siren}
    communes |= {c.code_insee for c in ref.communes.values() if c.epci_siren in epcis}

    def wanted(triple: Triple) -> bool:
        subject = str(triple[0])
        return subject.rsplit("/", 1)[-1] in communes if "/id/commune/" in subject else True

    store.load((t for t in territories_triples(ref) if wanted(t)), str(graph("referentiel")))
