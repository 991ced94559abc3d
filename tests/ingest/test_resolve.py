"""Resolution decisions: one node per distinct decision, naming every record it was taken for."""

from __future__ import annotations

from collections import defaultdict

from rdflib import URIRef

from ingest.resolve import Resolver
from ontology import iri
from ontology.namespaces import CAP


def _decisions(resolver: Resolver) -> dict[URIRef, dict[URIRef, set[object]]]:
    nodes: dict[URIRef, dict[URIRef, set[object]]] = defaultdict(lambda: defaultdict(set))
    for s, p, o in resolver.decision_triples():
        nodes[s][p].add(o)  # type: ignore[index]
    return nodes


def test_the_same_resolution_for_many_records_is_one_decision() -> None:
    resolver = Resolver(None, "villes-internet")
    records = [iri.source_record("villes-internet", f"A{n}") for n in range(3)]
    for record in records:
        found = resolver.collectivite(record, "Ville de Brest", insee="29019")
        assert found is not None and found.code == "29019"
    other = iri.source_record("villes-internet", "B1")
    resolver.collectivite(other, "Quimper", insee="29232")
    resolver.technologie(records[0], "Wordpress")
    resolver.technologie(other, "WordPress")  # same product, another spelling: another reason, another decision

    nodes = _decisions(resolver)
    assert len(nodes) == 4
    brest = [n for n, props in nodes.items() if iri.collectivite("commune", "29019") in props[CAP.entite]]
    assert len(brest) == 1
    assert nodes[brest[0]][CAP.enregistrement] == set(records)
    for props in nodes.values():  # every decision keeps its method, score, reason and entity
        assert len(props[CAP.methode]) == len(props[CAP.score]) == len(props[CAP.raison]) == 1
        assert len(props[CAP.entite]) == 1
    # every record still finds the decisions taken for it
    linked = {r for props in nodes.values() for r in props[CAP.enregistrement]}
    assert linked == {*records, other}


def test_decision_iris_are_stable_and_scoped_by_format() -> None:
    def iris(scope: str | None) -> set[URIRef]:
        resolver = Resolver(None, "netpublic", scope)
        resolver.collectivite(iri.source_record("netpublic", "x"), "Brest", insee="29019")
        return {s for s, _, _ in resolver.decision_triples()}

    assert iris(None) == iris(None)
    assert iris("national") != iris("ancien")
    scoped = Resolver(None, "netpublic", "ancien")
    scoped.collectivite(iri.source_record("netpublic", "x"), "Brest", insee="29019")
    assert any(p == CAP.versionFormat and str(o) == "ancien" for _, p, o in scoped.decision_triples())
