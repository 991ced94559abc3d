"""Sponsorships in the graph: what is written (checked against the SHACL shapes), transitions, listing, load."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rdflib import RDF, RDFS, Graph, Literal, URIRef

from ingest.load import ensure_ontology
from kg.errors import InvalidInput, NotFound
from kg.store import memory_store
from ontology import validate
from ontology.namespaces import CAP
from parrainage.lifecycle import GRAPH, accepter, charge, cloturer, demarrer, lister, obtenir, proposer

ID = "https://w3id.org/capitalis/id/"
BREST = f"{ID}collectivite/29019"
MEGALIS = URIRef(f"{ID}structure/megalis-bretagne")
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def store():
    s = memory_store()
    ensure_ontology(s)
    label = Literal("Mégalis Bretagne", lang="fr")
    s.add([(MEGALIS, RDF.type, CAP.StructureMutualisation), (MEGALIS, RDFS.label, label)],
          "https://w3id.org/capitalis/graph/villes-internet")
    yield s
    s.close()


def _graph(store) -> Graph:
    g = Graph()
    for t in store.triples(GRAPH):
        g.add(t)
    return g


def test_proposal_is_written_as_the_shapes_want(store):
    node = proposer(store, "29019", "29119", ["S40", "2b2"], "Ateliers de médiation pour les aînés", "Premier contact",
                    experiences=[f"{ID}experience/vi-1207"], score=0.68, now=T0)
    assert node.startswith(f"{ID}parrainage/")
    g = _graph(store)
    p = URIRef(node)
    assert (p, RDF.type, CAP.Parrainage) in g
    assert (p, CAP.parrain, URIRef(BREST)) in g
    assert (p, CAP.filleul, URIRef(f"{ID}collectivite/29119")) in g
    assert (p, CAP.statut, URIRef(f"{ID}statut-parrainage/propose")) in g
    assert {str(o) for o in g.objects(p, CAP.concept)} == {f"{ID}service/S40", f"{ID}service/2b2"}
    conforms, _, text = validate(g)
    assert conforms, text
    item = obtenir(store, node)
    assert item["parrain"]["nom"] == "Brest" and item["filleuls"][0]["nom"] == "Lanrivoaré"
    assert item["propose_le"].startswith("2026-03-02T09:30") and item["score"] == pytest.approx(0.68)
    assert item["besoin"] == "Ateliers de médiation pour les aînés" and item["note"] == "Premier contact"
    assert item["concepts"][0]["label"]  # labels come from the taxonomy


def test_transitions(store):
    node = proposer(store, "29019", "29119", ["S40"], None, None, now=T0)
    with pytest.raises(InvalidInput, match="proposé"):
        demarrer(store, node)
    item = accepter(store, node, now=datetime(2026, 3, 10, tzinfo=UTC))
    assert item["statut"] == "accepte" and item["debut"] == "2026-03-10"
    with pytest.raises(InvalidInput, match="accepté"):
        accepter(store, node)
    item = demarrer(store, node, now=datetime(2026, 4, 1, tzinfo=UTC))
    assert item["statut"] == "en-cours" and item["debut"] == "2026-03-10"  # the acceptance date stays
    item = cloturer(store, node, now=datetime(2026, 9, 30, tzinfo=UTC))
    assert item["statut"] == "termine" and item["fin"] == "2026-09-30"
    with pytest.raises(InvalidInput, match="terminé"):
        cloturer(store, node)
    conforms, _, text = validate(_graph(store))
    assert conforms, text
    # a proposal may be closed without having been accepted (declined, withdrawn)
    other = proposer(store, "29019", "29070", ["S40"], None, None)
    assert cloturer(store, other.rsplit("/", 1)[-1])["statut"] == "termine"


def test_unknown_and_malformed_iris(store):
    with pytest.raises(NotFound):
        accepter(store, f"{ID}parrainage/00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidInput):
        accepter(store, f"{ID}experience/vi-1")
    with pytest.raises(NotFound):
        obtenir(store, "nope")


def _field(call, *args, **kwargs) -> str | None:
    """The domain field an invalid proposal names (its message never names a surface's option)."""
    with pytest.raises(InvalidInput) as caught:
        call(*args, **kwargs)
    assert "--" not in caught.value.message
    return caught.value.field


def test_invalid_proposals(store):
    assert _field(proposer, store, "29019", ["29119", "29019"], ["S40"], None, None) == "filleul"
    assert _field(proposer, store, "29019", "29119", ["S999"], None, None) == "service"
    assert _field(proposer, store, "29019", "29119", [], "  ", None) == "besoin"
    assert _field(proposer, store, "29019", "29119", ["S40"], "x" * 2001, None) == "besoin"
    assert _field(proposer, store, "29019", "29119", ["S40"], None, "x" * 4001) == "note"
    with pytest.raises(NotFound, match=r"^filleul : aucune commune de code INSEE 99999"):
        proposer(store, "29019", "99999", ["S40"], None, None)
    assert _field(proposer, store, "29019", str(MEGALIS), ["S40"], None, None) == "filleul"
    with pytest.raises(NotFound, match=r"^parrain : structure de mutualisation inconnue"):
        proposer(store, f"{ID}structure/inconnue", "29119", ["S40"], None, None)
    assert _field(proposer, store, "29019", "29119", ["S40"], None, None, score=1.5) == "score"
    assert lister(store) == []


def test_grappe_list_filters_and_load(store):
    grappe = proposer(store, str(MEGALIS), ["29119", "29070", "29033"], ["S10"], "Actes dématérialisés", None,
                      now=T0)
    single = proposer(store, "29019", "29119", ["S40"], None, None, now=datetime(2026, 5, 1, tzinfo=UTC))
    done = proposer(store, "29019", "29246", ["S40"], None, None, now=datetime(2026, 1, 1, tzinfo=UTC))
    cloturer(store, done)
    items = lister(store)
    assert [x["iri"] for x in items] == [single, grappe, done]  # newest first
    assert len(next(x for x in items if x["iri"] == grappe)["filleuls"]) == 3
    assert items[1]["parrain"]["nom"] == "Mégalis Bretagne"
    assert {x["iri"] for x in lister(store, collectivite="29119")} == {grappe, single}
    assert [x["iri"] for x in lister(store, collectivite=str(MEGALIS))] == [grappe]
    assert [x["iri"] for x in lister(store, statut="terminé")] == [done]
    assert [x["iri"] for x in lister(store, statut="Proposé")] == [single, grappe]
    assert _field(lister, store, statut="refusé") == "statut"
    # a grappe counts once in its sponsor's load; closed sponsorships do not count
    assert charge(store) == {str(MEGALIS): 1, BREST: 1}
    accepter(store, single)
    demarrer(store, single)
    assert charge(store)[BREST] == 1
    conforms, _, text = validate(_graph(store))
    assert conforms, text
