"""The cross-source merge of OTeN fiches and Villes Internet actions that tell the same project.

The true pairs below were found by reading the samples: the same town (or EPCI, département, structure),
the same project told in other words, at compatible dates. Everything else, in particular the other
projects of the same towns (Bazas, Brest, Pessac, Lille, Finistère…), must stay apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

import ingest.merge as merge_module
from ingest.load import import_file
from ingest.merge import (
    METHODE,
    OTHER_CARRIER_THRESHOLD,
    REVIEW_PER_EXPERIENCE,
    REVIEW_THRESHOLD,
    Candidate,
    MergeResult,
    decide,
    merge_experiences,
    review,
    similarities,
    tokens,
)
from kg.store import OxigraphStore, Triple, memory_store
from kg.validation import validate_store
from ontology import iri

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
OTEN = SAMPLES / "oten_fiches.xml"
VI = SAMPLES / "villes_internet_atlaas.xlsx"
NETPUBLIC = SAMPLES / "netpublic_lieux_mediation.csv"
CAP = "https://w3id.org/capitalis/ontology#"
DCT = "http://purl.org/dc/terms/"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
OTEN_GRAPH = str(iri.graph("oten"))
VI_GRAPH = str(iri.graph("villes-internet"))
RESOLUTION = str(iri.graph("resolution"))

# OTeN fiche -> Villes Internet Id_Action: the same project, read and checked by hand.
EXPECTED_MERGES = {
    "OTEN-2006-0003": "2208",  # Manche Numérique: haut débit, DSP 2006 (fibre de collecte + Wi-Fi longue portée)
    "OTEN-2006-0009": "1078",  # Noisy-le-Sec: forum des conseils de quartier
    "OTEN-2007-0008": "1201",  # Brest: Wiki-Brest
    "OTEN-2007-0010": "2062",  # Grand Lyon / Métropole de Lyon: ONLYLYON
    "OTEN-2007-0019": "2196",  # Barret-sur-Méouge: liaison radio contre la zone blanche
    "OTEN-2007-0020": "1069",  # Mégalis Bretagne: salle des marchés en ligne
    "OTEN-2007-0026": "1109",  # Vénès: aide aux démarches au secrétariat de mairie
    "OTEN-2007-0037": "1017",  # Jarny: nouveau site de la ville
    "OTEN-2008-0007": "1060",  # Metz: Wi-Fi sur les places
    "OTEN-2008-0016": "1112",  # GIP e-bourgogne (Territoires Numériques BFC): création du GIP
    "OTEN-2008-0021": "1033",  # Fumel: visio-guichet du relais services publics
    "OTEN-2008-0026": "1083",  # Port-de-Bouc: aide à l'abonnement des familles de collégiens
    "OTEN-2009-0020": "2121",  # Lille: EuraTechnologies
    "OTEN-2009-0063": "1038",  # Bazas: ressourcerie informatique au centre social
    "OTEN-2009-0069": "1174",  # Hennebont: webradio des jeunes
    "OTEN-2009-0070": "2061",  # Ardèche Drôme Numérique: mise en service du réseau
    "OTEN-2009-0098": "1024",  # Chalon-sur-Saône: cantine et crèche payables en ligne
    "OTEN-2010-0021": "2194",  # Plouarzel: carte OpenStreetMap
    "OTEN-2010-0096": "2143",  # Pessac: logiciels libres sur clé USB
    "OTEN-2010-0104": "1204",  # Saint-Cloud: entraide entre voisins
    "OTEN-2010-0110": "1029",  # Finistère: courrier entrant numérisé
    "OTEN-2011-0021": "1008",  # Montpellier: données publiques
    "OTEN-2011-0051": "1003",  # Mérignac: Léon, la carte interactive
    "OTEN-2011-0087": "2028",  # Région Bretagne: marque Bretagne
    "OTEN-2011-0111": "2006",  # Issy-les-Moulineaux: dix ans du Cube
    "OTEN-2012-0025": "1087",  # Joigny: téléservices de la plateforme régionale
    "OTEN-2012-0055": "1011",  # Isère: démarches accompagnées dans les maisons du territoire
    "OTEN-2012-0060": "2020",  # Bazas: wiki du patrimoine
    "OTEN-2012-0065": "1097",  # Grigny: jeunes reporters
    "OTEN-2012-0069": "2079",  # Grand Cahors: hôtel d'entreprises fibré
    "OTEN-2012-0093": "1016",  # Toulon: guichet unique des signalements
    "OTEN-2012-0111": "2043",  # Rennes Métropole: LabFab
    "OTEN-2013-0002": "2173",  # Nice: boulevard connecté
    "OTEN-2013-0015": "1045",  # Sevran: semaine contre le cyberharcèlement
    "OTEN-2013-0025": "2013",  # Finistère: raccordement des collèges au réseau régional
}
# Other projects of towns that have a merged pair: they must not be merged with anything.
SAME_TOWN_OTHER_PROJECTS = {
    "OTEN-2012-0027": "Brest: postes adaptés dans les médiathèques",
    "OTEN-2011-0037": "Pessac: classes mobiles",
    "OTEN-2010-0019": "Lille: offres d'emploi de proximité",
    "OTEN-2011-0023": "Finistère: rapports de séance électroniques",
    "OTEN-2011-0032": "La Roche-sur-Yon: dossier social unique (≠ compte usager unique)",
}
EXPECTED_DOUBTFUL = {
    ("OTEN-2006-0003", "2150"),  # Manche Numérique again, similar words, but Manche Fibre is 2015
    ("OTEN-2007-0020", "1010"),  # Mégalis: GRC mutualisée, medium similarity
    ("OTEN-2007-0020", "1096"),  # Mégalis: actes dématérialisés, medium similarity
    ("OTEN-2012-0105", "1075"),  # Pays d'Iroise: fibre des ZA vs SIG intercommunal, medium similarity
}


def vi_exp(action: str) -> URIRef:
    return iri.experience("villes-internet", action)


def oten_exp(fiche: str) -> URIRef:
    return iri.experience("oten", fiche)


def merge_state(store: OxigraphStore) -> set[Triple]:
    """What the merge decides: the experiences' triples of the oten graph and the merge decisions."""
    rows = store.select(f"""SELECT ?s ?p ?o WHERE {{ GRAPH <{OTEN_GRAPH}> {{ ?s a <{CAP}Experience> ; ?p ?o }} }}""")
    state = {(r["s"], r["p"], r["o"]) for r in rows}
    rows = store.select(
        f"""SELECT ?s ?p ?o WHERE {{ GRAPH <{RESOLUTION}> {{ ?s <{CAP}methode> "{METHODE}" ; ?p ?o }} }}"""
    )
    return state | {(r["s"], r["p"], r["o"]) for r in rows}


@pytest.fixture(scope="module")
def both() -> Iterator[tuple[OxigraphStore, MergeResult]]:
    """Villes Internet then OTeN, imported once; the result of one more (no-op) merge run.

    In memory (the same embedded Oxigraph, without RocksDB) to keep this file fast: the disk store is
    exercised by test_oten.py and by the last test here."""
    with memory_store() as store:
        import_file(store, VI)
        import_file(store, OTEN)
        yield store, merge_experiences(store)


# --- the samples ---------------------------------------------------------------------------------------------


def test_true_pairs_are_merged(both: tuple[OxigraphStore, MergeResult]) -> None:
    _, result = both
    assert {p.oten_id: p.vi_id for p in result.merged} == EXPECTED_MERGES
    assert result.rewritten == result.restored == 0  # the import already merged: a new run changes nothing
    assert all(p.score >= 0.3 for p in result.merged)


def test_one_experience_derived_from_both_records(both: tuple[OxigraphStore, MergeResult]) -> None:
    store, _ = both
    merged = vi_exp("1078")
    rows = store.select(f"SELECT ?r WHERE {{ GRAPH ?g {{ <{merged}> <{PROV_DERIVED}> ?r }} }}")
    assert {r["r"] for r in rows} == {
        iri.source_record("villes-internet", "1078"),
        iri.source_record("oten", "OTEN-2006-0009"),
    }
    assert not store.ask(f"ASK {{ GRAPH ?g {{ <{oten_exp('OTEN-2006-0009')}> ?p ?o }} }}")
    assert not store.ask(f"ASK {{ GRAPH ?g {{ ?s ?p <{oten_exp('OTEN-2006-0009')}> }} }}")
    # The OTeN facts now describe the merged experience: its carrier, calendar, budget, evaluation.
    rows = store.select(f"SELECT ?p WHERE {{ GRAPH <{OTEN_GRAPH}> {{ <{merged}> ?p ?o }} }}")
    predicates = {str(r["p"]) for r in rows}
    assert {CAP + "porteur", CAP + "budget", CAP + "evaluation", CAP + "thematiqueOten"} <= predicates


def test_single_valued_facts_stay_single(both: tuple[OxigraphStore, MergeResult]) -> None:
    store, _ = both
    merged = vi_exp("1078")
    rows = store.select(f"SELECT ?t WHERE {{ GRAPH ?g {{ <{merged}> <{DCT}title> ?t }} }}")
    assert [str(r["t"]) for r in rows] == ["Un forum en ligne pour les conseils de quartier"]
    rows = store.select(f"SELECT ?t WHERE {{ GRAPH <{OTEN_GRAPH}> {{ <{merged}> <{DCT}alternative> ?t }} }}")
    assert [str(r["t"]) for r in rows] == ["Noisy-le-Sec prolonge ses conseils de quartier sur un forum Internet"]
    rows = store.select(f"SELECT ?d WHERE {{ GRAPH ?g {{ <{merged}> <{CAP}dateDebut> ?d }} }}")
    assert len(rows) == 1


def test_merge_decision_is_recorded(both: tuple[OxigraphStore, MergeResult]) -> None:
    store, _ = both
    decision = iri.decision("oten", "OTEN-2006-0009", "experience")
    rows = store.select(f"SELECT ?p ?o WHERE {{ GRAPH <{RESOLUTION}> {{ <{decision}> ?p ?o }} }}")
    facts: dict[str, set[object]] = {}
    for r in rows:
        facts.setdefault(str(r["p"]), set()).add(r["o"])
    assert facts[RDF_TYPE] == {URIRef(CAP + "DecisionResolution")}
    assert facts[CAP + "methode"] == {Literal(METHODE)}
    assert facts[CAP + "entite"] == {vi_exp("1078")}
    assert facts[CAP + "enregistrement"] == {
        iri.source_record("oten", "OTEN-2006-0009"),
        iri.source_record("villes-internet", "1078"),
    }
    (score,) = facts[CAP + "score"]
    assert 0.3 < float(score) <= 1  # type: ignore[arg-type]
    (raison,) = facts[CAP + "raison"]
    assert "OTEN-2006-0009" in raison and "1078" in raison and "même porteur" in raison  # type: ignore[operator]


def test_different_projects_of_the_same_town_stay_apart(both: tuple[OxigraphStore, MergeResult]) -> None:
    store, result = both
    merged = {p.oten_id: p.vi_id for p in result.merged}
    assert merged["OTEN-2009-0063"] == "1038" and merged["OTEN-2012-0060"] == "2020"  # Bazas: two, not crossed
    for fiche in SAME_TOWN_OTHER_PROJECTS:
        assert fiche not in merged
        assert store.ask(f"ASK {{ GRAPH <{OTEN_GRAPH}> {{ <{oten_exp(fiche)}> a <{CAP}Experience> }} }}")


def test_doubtful_pairs_are_for_review_not_merged(both: tuple[OxigraphStore, MergeResult]) -> None:
    store, result = both
    assert {(p.oten_id, p.vi_id) for p in result.doubtful} == EXPECTED_DOUBTFUL
    listed = review(store)
    assert {(d["oten"]["id"], d["villes_internet"]["id"]) for d in listed} == EXPECTED_DOUBTFUL
    first = listed[0]  # best score first: Manche Numérique, 2006 vs 2015
    assert first["oten"]["titre"].startswith("Haut débit pour tous")
    assert first["villes_internet"]["titre"].startswith("Manche Fibre")
    assert first["villes_internet"]["porteurs"] == ["Manche Numérique"]
    assert "années incompatibles" in first["raison"]
    assert [d["score"] for d in listed] == sorted((d["score"] for d in listed), reverse=True)
    decision = iri.decision("oten", "OTEN-2012-0105", "experience-vi-1075")
    rows = store.select(
        f"""SELECT ?c WHERE {{ GRAPH <{RESOLUTION}> {{ <{decision}> <{CAP}aRevoir> true ;
            <{CAP}candidat> ?c }} }}"""
    )
    assert {r["c"] for r in rows} == {oten_exp("OTEN-2012-0105"), vi_exp("1075")}


def test_store_conforms_after_both_imports(both: tuple[OxigraphStore, MergeResult]) -> None:
    store, _ = both
    report = validate_store(store)
    assert report.conforms, report.summary()


def test_both_orders_and_reimports_give_the_same_merge(both: tuple[OxigraphStore, MergeResult], tmp_path: Path) -> None:
    store, _ = both
    expected = merge_state(store)
    with memory_store() as other:  # the same embedded Oxigraph, without the disk: this test only compares
        first = import_file(other, OTEN)
        assert first.created == 99
        import_file(other, VI)
        assert merge_state(other) == expected
        again = import_file(other, OTEN)  # a re-import rebuilds the oten graph, the merge is redone
        assert (again.created, again.updated, again.unchanged) == (0, 0, 99)
        assert merge_state(other) == expected
        result = merge_experiences(other)
        assert result.rewritten == result.restored == 0
        assert merge_state(other) == expected


def test_another_source_leaves_the_merge_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A NetPublic import cannot change the merge (it reads only the OTeN and Villes Internet graphs): it does not
    run it, nor stage those graphs; the merge stays as it was."""
    with memory_store() as store:
        import_file(store, VI)
        import_file(store, OTEN)
        expected = merge_state(store)
        runs: list[object] = []
        monkeypatch.setattr("ingest.load.merge_experiences", runs.append)
        staged: list[str] = []
        staging = type(store).staging
        monkeypatch.setattr(
            type(store),
            "staging",
            lambda self, graphs, parts=None: staging(self, staged.extend(graphs) or staged, parts),
        )
        report = import_file(store, NETPUBLIC)
        assert report.created > 0 and runs == []
        assert staged and not {OTEN_GRAPH, VI_GRAPH} & set(staged)
        assert merge_state(store) == expected


def test_oten_import_reads_the_villes_internet_graph_without_staging_it(
    both: tuple[OxigraphStore, MergeResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merge never writes the Villes Internet graph: an OTeN import reads it from the store instead of
    copying it into its staging store (at 100k experiences, 5 million quads), and merges the same."""
    expected = merge_state(both[0])
    with memory_store() as store:
        import_file(store, VI)
        staged: list[str] = []
        staging = type(store).staging
        monkeypatch.setattr(
            type(store),
            "staging",
            lambda self, graphs, parts=None: staging(self, staged.extend(graphs) or staged, parts),
        )
        import_file(store, OTEN)
        assert OTEN_GRAPH in staged and VI_GRAPH not in staged
        assert merge_state(store) == expected


# --- the decision on small cases ------------------------------------------------------------------------


def candidate(source: str, ident: str, text: str, porteur: str, years: set[int], **extra: object) -> Candidate:
    node = iri.experience(source, ident)
    carrier = URIRef(f"https://w3id.org/capitalis/id/collectivite/{porteur}")
    c = Candidate(
        ident,
        node,
        node,
        iri.source_record(source, ident),
        [text],
        {carrier},
        {carrier},
        {iri.territoire("commune", porteur)},
        years,
    )
    for key, value in extra.items():
        setattr(c, key, value)
    return c


FORUM = "Un forum Internet pour les conseils de quartier, modéré, avec une synthèse mensuelle dans le magazine"
WIKI = "Un wiki du patrimoine écrit par les habitants avec les archives municipales et les associations"


def test_decide_merges_same_carrier_similar_text_compatible_years() -> None:
    oten = [candidate("oten", "O-1", FORUM, "93053", {2006})]
    vi = [
        candidate(
            "villes-internet",
            "1",
            "Forum en ligne des conseils de quartier, modéré ; synthèse au magazine",
            "93053",
            {2007},
        ),
        candidate("villes-internet", "2", WIKI, "93053", {2007}),
    ]
    merges, doubtful = decide(oten, vi)
    assert [(p.oten_id, p.vi_id, p.statut) for p in merges] == [("O-1", "1", "fusion")]
    assert doubtful == []


def test_decide_needs_the_same_carrier_and_compatible_years() -> None:
    oten = [candidate("oten", "O-1", FORUM, "93053", {2006})]
    elsewhere = [candidate("villes-internet", "1", FORUM, "33036", {2006})]  # another town, another département
    assert decide(oten, elsewhere) == ([], [])
    later = [candidate("villes-internet", "1", FORUM, "93053", {2016})]
    merges, doubtful = decide(oten, later)
    assert merges == [] and [p.statut for p in doubtful] == ["a-revoir"]
    assert "années incompatibles" in doubtful[0].raison
    neighbour = [candidate("villes-internet", "1", FORUM, "93066", {2006})]  # Saint-Denis, same département
    merges, doubtful = decide(oten, neighbour)
    assert merges == [] and "même département" in doubtful[0].raison


def test_decide_is_one_to_one() -> None:
    oten = [candidate("oten", "O-1", FORUM, "93053", {2006})]
    vi = [
        candidate("villes-internet", "1", FORUM, "93053", {2006}),
        candidate("villes-internet", "2", FORUM + " et des comptes rendus", "93053", {2006}),
    ]
    merges, doubtful = decide(oten, vi)
    assert len(merges) == 1 and len(doubtful) == 1
    assert "déjà fusionnée" in doubtful[0].raison


def test_decide_finds_every_pair_all_pairs_would(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefix filtering scores only the pairs sharing a heavy word: on random texts and carriers it must find
    exactly the pairs that scoring every OTeN x Villes Internet pair of a carrier or a département finds."""
    import random

    rng = random.Random(7)
    words = [f"mot{chr(97 + i)}{chr(97 + j)}" for i in range(6) for j in range(5)]  # 30 words, no digits
    communes = ["93053", "93066", "93048", "33063", "33281", "29019"]  # two départements and Brest

    def text() -> str:
        return " ".join(rng.choice(words[: rng.randint(5, 30)]) for _ in range(rng.randint(3, 14)))

    oten = [candidate("oten", f"O-{i}", text(), rng.choice(communes), {2006}) for i in range(60)]
    vi = [candidate("villes-internet", str(i), text(), rng.choice(communes), {2007}) for i in range(90)]
    monkeypatch.setattr(merge_module, "REVIEW_PER_EXPERIENCE", 10**6)  # every pair, not the best three
    merges, doubtful = decide(oten, vi)
    found = {(p.oten_id, p.vi_id) for p in [*merges, *doubtful]}

    documents = {f"o{i}": c.texts[0] for i, c in enumerate(oten)} | {f"v{i}": c.texts[0] for i, c in enumerate(vi)}
    scores = similarities(documents, [(f"o{i}", f"v{j}") for i in range(len(oten)) for j in range(len(vi))])
    expected = set()
    for i, o in enumerate(oten):
        for j, v in enumerate(vi):
            same = o.porteurs == v.carriers
            nearby = str(next(iter(o.porteurs)))[-5:-3] == str(next(iter(v.carriers)))[-5:-3]
            score = scores[(f"o{i}", f"v{j}")]
            if (same and score >= REVIEW_THRESHOLD) or (nearby and score >= OTHER_CARRIER_THRESHOLD):
                expected.add((o.source_id, v.source_id))
    assert len(expected) > 50
    assert found == expected


def test_review_keeps_the_best_pairs_of_an_experience() -> None:
    oten = [candidate("oten", "O-1", FORUM, "93053", {2006})]
    vi = [candidate("villes-internet", str(i), FORUM + " et" + " des comptes rendus" * i, "93053", {2006})
          for i in range(REVIEW_PER_EXPERIENCE + 3)]
    merges, doubtful = decide(oten, vi)
    assert len(merges) == 1 and len(doubtful) == REVIEW_PER_EXPERIENCE
    assert [p.score for p in doubtful] == sorted((p.score for p in doubtful), reverse=True)
    assert {p.vi_id for p in doubtful} == {"1", "2", "3"}  # the closest kept, the farthest dropped


def test_tokens_and_similarity() -> None:
    assert tokens("Les Écoles numériques, des classes mobiles") == ["ecole", "numerique", "classe", "mobile"]
    texts = {"a": FORUM, "b": FORUM, "c": WIKI}
    scores = similarities(texts, [("a", "b"), ("a", "c")])
    assert scores[("a", "b")] == pytest.approx(1.0)
    assert scores[("a", "c")] < 0.1


# --- undoing a merge whose evidence changed -----------------------------------------------------------------


def test_merge_is_undone_when_the_evidence_goes(store: OxigraphStore) -> None:
    """A minimal Villes Internet graph (built with store.load) copies one OTeN fiche, then is replaced."""
    import_file(store, OTEN)
    fiche, vi = oten_exp("OTEN-2009-0098"), vi_exp("9001")
    rows = store.select(f"SELECT ?p ?o WHERE {{ GRAPH <{OTEN_GRAPH}> {{ <{fiche}> ?p ?o }} }}")
    before = {(r["p"], r["o"]) for r in rows}
    texts = {str(o) for p, o in before if str(p) in (DCT + "title", CAP + "resume", DCT + "description")}
    porteur = next(o for p, o in before if str(p) == CAP + "porteur")

    def vi_graph(synthese: str) -> list[Triple]:
        record = iri.source_record("villes-internet", "9001")
        return [
            (vi, URIRef(RDF_TYPE), URIRef(CAP + "Experience")),
            (vi, URIRef(DCT + "title"), Literal("Cantine et crèche payables en ligne", lang="fr")),
            (vi, URIRef(CAP + "synthese"), Literal(synthese, lang="fr")),
            (vi, URIRef(CAP + "porteur"), porteur),
            (vi, URIRef(DCT + "date"), Literal("2009-09-01", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date"))),
            (vi, URIRef(PROV_DERIVED), record),
            (record, URIRef(RDF_TYPE), URIRef(CAP + "SourceRecord")),
            (record, URIRef(CAP + "identifiantSource"), Literal("9001")),
        ]

    store.replace_graph(VI_GRAPH, vi_graph(" ".join(sorted(texts))))
    result = merge_experiences(store)
    assert [(p.oten_id, p.vi_id) for p in result.merged] == [("OTEN-2009-0098", "9001")]
    assert result.rewritten == 1
    assert store.ask(f"ASK {{ GRAPH <{OTEN_GRAPH}> {{ <{vi}> <{PROV_DERIVED}> ?r }} }}")
    assert not store.ask(f"ASK {{ GRAPH <{OTEN_GRAPH}> {{ <{fiche}> ?p ?o }} }}")

    store.replace_graph(VI_GRAPH, vi_graph("Un tout autre projet : des bornes de prêt de vélos électriques."))
    result = merge_experiences(store)
    assert result.merged == [] and result.restored == 1
    rows = store.select(f"SELECT ?p ?o WHERE {{ GRAPH <{OTEN_GRAPH}> {{ <{fiche}> ?p ?o }} }}")
    assert {(r["p"], r["o"]) for r in rows} == before  # title, start date, main service: all back
    assert not store.ask(f"ASK {{ GRAPH <{OTEN_GRAPH}> {{ <{vi}> ?p ?o }} }}")
    assert not store.ask(f'ASK {{ GRAPH <{RESOLUTION}> {{ ?d <{CAP}methode> "{METHODE}" }} }}')

    # merged again, then the Villes Internet graph goes altogether: nothing is compared, the merge is undone
    store.replace_graph(VI_GRAPH, vi_graph(" ".join(sorted(texts))))
    assert merge_experiences(store).rewritten == 1
    store.drop_graph(VI_GRAPH)
    result = merge_experiences(store)
    assert result.merged == [] and result.restored == 1
    rows = store.select(f"SELECT ?p ?o WHERE {{ GRAPH <{OTEN_GRAPH}> {{ <{fiche}> ?p ?o }} }}")
    assert {(r["p"], r["o"]) for r in rows} == before


def test_imports_staging_only_their_decisions_leave_the_resolution_graph_full_staging_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each import stages only its source's decisions and the merge's, not the whole shared ``resolution`` graph
    (1.37M quads at 100,000 experiences): every source imported, the legacy NetPublic export before the national
    file (whose after-load re-points legacy lieux and replaces their decisions), then the fiches again, leave the
    graph exactly as imports staging it whole did."""
    legacy = SAMPLES / "netpublic_legacy_latin1.csv"
    sequence = [(legacy, {}), (VI, {}), (OTEN, {}), (NETPUBLIC, {}), (OTEN, {"force": True})]

    def imported() -> set[Triple]:
        with memory_store() as store:
            for path, options in sequence:
                import_file(store, path, **options)
            return set(store.triples(RESOLUTION))

    in_part = imported()
    monkeypatch.setattr("ingest.load._decisions_rewritten", lambda run: {})
    whole = imported()
    assert in_part == whole
    sources = {str(o) for _, p, o in in_part if str(p) == f"{CAP}source"}
    methods = {str(o) for _, p, o in in_part if str(p) == f"{CAP}methode"}
    assert {"villes-internet", "oten", "netpublic"} <= sources and merge_module.METHODE in methods
