"""Search over the real import of the samples: facets against SPARQL, filters, similar, the index lifecycle.

Most tests use an index without vectors or with the hash embedder (fast, deterministic); one test runs the
Universal Sentence Encoder on a subset to check the hybrid path on a paraphrase.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import search as S
from ingest.load import import_file
from ingest.samples import OTEN, WORKBOOK, import_samples, load_referential_subset
from kg.context import Context
from kg.errors import InvalidInput, NotFound
from kg.settings import Settings
from kg.store import memory_store
from search import Filters, Index, IndexMismatch, MissingIndex, collect_docs, load_taxonomy, search, similar
from search.analysis import content_words, fold, stem, strip_framing
from search.embedders import get_embedder
from search.index import CACHE_NAME

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"
CAP = "https://w3id.org/capitalis/ontology#"
EXP = "https://w3id.org/capitalis/id/experience/"


@pytest.fixture(scope="module")
def sample():
    """The Villes Internet and OTeN samples imported by the real pipeline, plus the territories they use."""
    store = memory_store()
    import_samples(store, (WORKBOOK, OTEN))
    load_referential_subset(store)
    yield store
    store.close()


@pytest.fixture
def home(tmp_path):
    """A home of its own for one test (no process-wide settings)."""
    return tmp_path / "home"


@pytest.fixture(scope="module")
def ctx(sample, tmp_path_factory):
    """A context on the sample store, without an embedder (its home holds no index)."""
    return Context(Settings(home=tmp_path_factory.mktemp("home"), embedder="none"), sample)


def _context(home: Path, store, embedder: str) -> Context:
    return Context(Settings(home=home, embedder=embedder), store)


@pytest.fixture(scope="module")
def docs(sample):
    return collect_docs(sample)


@pytest.fixture(scope="module")
def index(sample, docs):
    """A lexical + graph index (no vectors): the ranking without any model."""
    built, _ = Index.build(docs, get_embedder("none"), taxonomy=load_taxonomy(sample))
    return built


def _all(ctx, index, filters: Filters, query: str = "") -> set[str]:
    result = search(ctx, query, filters, limit=10_000, index=index)
    assert result.total == len(result.results)
    return {h.iri for h in result.results}


PREFIXES = f"""PREFIX cap: <{CAP}>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX igeo: <http://rdf.insee.fr/def/geo#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
"""
# Experiences still published: at least one source record not withdrawn.
LIVE = """GRAPH ?g0 { ?e a cap:Experience ; prov:wasDerivedFrom ?rec }
          GRAPH ?g1 { ?rec cap:statutEnregistrement ?st } FILTER(?st != "retire")"""


def _counts(store, body: str) -> dict[str, int]:
    rows = store.select(PREFIXES + f"SELECT ?v (COUNT(DISTINCT ?e) AS ?n) WHERE {{ {LIVE} {body} }} GROUP BY ?v")
    return {str(r["v"]): int(r["n"]) for r in rows}


def test_facet_counts_equal_sparql_counts(ctx, sample, index):
    """Every facet of an unfiltered listing equals the SPARQL count of the same criterion."""
    facets = search(ctx, "", Filters(), index=index).facets
    concept_path = """GRAPH ?g2 { ?e cap:service ?c }
        GRAPH ?o { ?c skos:broader* ?a . ?a skos:notation ?v ;
                   skos:inScheme <https://w3id.org/capitalis/id/service/scheme> }"""
    level = {"axe": "^[1-9]$", "enjeu": "^[1-9][a-z]$", "usage": "^[1-9][a-z][1-9]$"}
    for name, pattern in level.items():
        expected = _counts(sample, concept_path + f' FILTER(REGEX(STR(?v), "{pattern}"))')
        assert facets[name] == expected, name
    assert facets["technologie"] == _counts(
        sample, "GRAPH ?g2 { ?e cap:technologie ?t } GRAPH ?g3 { ?t skos:prefLabel ?v }"
    )
    assert facets["source"] == _counts(
        sample, "GRAPH ?g2 { ?e prov:wasDerivedFrom ?r } GRAPH ?g3 { ?r cap:source ?v }"
    )
    assert sum(facets["source"].values()) >= index.size
    # The year of the Villes Internet date when there is one, else the earliest other date.
    years = sample.select(PREFIXES + f"""SELECT ?e (MIN(?d) AS ?first) WHERE {{ {LIVE}
        GRAPH ?g2 {{ ?e dct:date|cap:dateDebut ?d }}
        FILTER(?g2 = <https://w3id.org/capitalis/graph/villes-internet> || NOT EXISTS {{
            GRAPH <https://w3id.org/capitalis/graph/villes-internet> {{ ?e dct:date|cap:dateDebut ?x }} }}) }}
        GROUP BY ?e""")
    expected_years: dict[str, int] = {}
    for r in years:
        y = str(r["first"])[:4]
        expected_years[y] = expected_years.get(y, 0) + 1
    assert facets["annee"] == expected_years
    taille = _counts(sample, """GRAPH ?g2 { ?e cap:porteur ?p } GRAPH ?g3 { ?p a ?k }
        OPTIONAL { GRAPH ?g4 { ?p cap:population ?pop } }
        BIND(IF(?k = cap:Intercommunalite, "epci", IF(?k = cap:Departement, "departement",
             IF(?k = cap:Region, "region", IF(?k = cap:StructureMutualisation, "mutualisation",
             IF(?k = cap:Commune && BOUND(?pop), IF(?pop < 2000, "village", IF(?pop < 20000, "petite-ville",
             IF(?pop <= 100000, "ville-moyenne", "grande-ville"))), ?unbound))))) AS ?v) FILTER(BOUND(?v))""")
    assert facets["taille"] == taille
    region = _counts(sample, """{ GRAPH ?g2 { ?e cap:porteur ?p } GRAPH ?g3 { ?p cap:territoire ?t } }
        UNION { GRAPH ?g2 { ?e cap:territoire ?t } }
        GRAPH ?ref {
          { ?t igeo:subdivisionDirecteDe/igeo:subdivisionDirecteDe ?reg . ?t a igeo:Commune }
          UNION { ?t igeo:subdivisionDirecteDe ?reg . ?t a igeo:Departement }
          UNION { ?t a igeo:Region . BIND(?t AS ?reg) }
          UNION { ?c cap:intercommunalite ?t ; igeo:subdivisionDirecteDe/igeo:subdivisionDirecteDe ?reg }
          ?reg igeo:codeINSEE ?v }""")
    assert facets["region"] == region


def test_facets_of_a_filtered_query_equal_sparql(ctx, sample, index):
    """With a filter, the facets count the filtered set (here: axe 1, in région Bretagne)."""
    result = search(ctx, "", Filters(axe=["1"], region=["53"]), index=index, limit=1000)
    iris = {h.iri for h in result.results}
    rows = sample.select(PREFIXES + f"""SELECT DISTINCT ?e WHERE {{ {LIVE}
        GRAPH ?g2 {{ ?e cap:service ?c }}
        GRAPH ?o {{ ?c skos:broader* <https://w3id.org/capitalis/id/service/1> }} }}""")
    axe1 = {str(r["e"]) for r in rows}
    bretagne = _all(ctx, index, Filters(region=["53"]))
    assert iris == axe1 & bretagne
    assert result.total == len(iris) > 0
    assert result.facets["axe"]["1"] == result.total
    assert result.facets["region"] == {"53": result.total}
    values = " ".join(f"<{i}>" for i in sorted(iris))
    expected = _counts(sample, f"""VALUES ?e {{ {values} }} GRAPH ?g2 {{ ?e cap:service ?c }}
        GRAPH ?o {{ ?c skos:broader* ?a . ?a skos:notation ?v ;
                    skos:inScheme <https://w3id.org/capitalis/id/service/scheme> }}
        FILTER(REGEX(STR(?v), "^[1-9]$"))""")
    assert result.facets["axe"] == expected


def test_filters_and_between_fields_or_within(ctx, index):
    village = _all(ctx, index, Filters(taille=["village"]))
    epci = _all(ctx, index, Filters(taille=["epci"]))
    axe2 = _all(ctx, index, Filters(axe=["2"]))
    assert village and epci and axe2
    assert _all(ctx, index, Filters(taille=["village", "epci"])) == village | epci
    assert _all(ctx, index, Filters(taille=["village"], axe=["2"])) == village & axe2
    recent = _all(ctx, index, Filters(annee_min=2015))
    old = _all(ctx, index, Filters(annee_max=2014))
    assert recent and old and not recent & old
    since, until = _all(ctx, index, Filters(annee_min=2010)), _all(ctx, index, Filters(annee_max=2012))
    assert _all(ctx, index, Filters(annee_min=2010, annee_max=2012)) == since & until
    usage = _all(ctx, index, Filters(usage=["1a1"]))
    assert _all(ctx, index, Filters(service=["S3"])) <= usage <= _all(ctx, index, Filters(enjeu=["1a"]))
    oten = _all(ctx, index, Filters(source=["oten"]))
    vi = _all(ctx, index, Filters(source=["villes-internet"]))
    assert oten & vi, "merged experiences come from both sources"
    assert _all(ctx, index, Filters(source=["oten", "villes-internet"])) == oten | vi


def test_technology_filter_accepts_any_known_spelling(ctx, index):
    wordpress = _all(ctx, index, Filters(technologie=["WordPress"]))
    assert wordpress
    assert _all(ctx, index, Filters(technologie=["wordpress"])) == wordpress


@pytest.mark.parametrize(
    ("values", "field"),
    [({"taille": ["metropole"]}, "taille"), ({"source": ["wikipedia"]}, "source"), ({"axe": ["9z"]}, "axe"),
     ({"region": ["Bretagne"]}, "region"), ({"annee_min": 2020, "annee_max": 2010}, "annee_min")],
)
def test_bad_filters_are_invalid_input_naming_the_domain_field(values, field):
    with pytest.raises(InvalidInput) as caught:
        Filters(**values)
    assert caught.value.field == field
    assert "--" not in caught.value.message


def test_year_range_message_speaks_of_the_domain():
    with pytest.raises(InvalidInput, match=r"l'année minimale \(2020\) est après l'année maximale \(2018\)"):
        Filters(annee_min=2020, annee_max=2018)


def test_empty_query_lists_newest_first_with_facets(ctx, index):
    result = search(ctx, "", Filters(), limit=20, index=index)
    assert result.total == index.size
    years = [h.annee or 0 for h in result.results]
    assert years == sorted(years, reverse=True)
    assert set(result.facets) == set(S.FACETS)


def test_paraphrase_accents_and_typos(ctx, index):
    """'inscrire les enfants à la cantine sur internet' finds portail famille projects, without a model."""
    result = search(ctx, "inscrire les enfants à la cantine sur internet", Filters(), limit=5, index=index)
    assert sum(any(s["notation"] == "S3" for s in h.services) for h in result.results) >= 3
    assert "<mark>" in result.results[0].extrait
    accents = search(ctx, "données ouvertes", Filters(), index=index)
    plain = search(ctx, "DONNEES OUVERTES", Filters(), index=index)
    assert [h.iri for h in accents.results] == [h.iri for h in plain.results]
    typo = search(ctx, "mediateque livres numeriques", Filters(), limit=5, index=index)
    assert typo.corrections.get("mediateque") == "médiathèque"
    assert any("édiathèque" in h.titre or "ibliothèque" in h.titre for h in typo.results)


def _corpus_words(docs) -> set[str]:
    """Every word of the indexed texts as written (lowercased, accents kept)."""
    return {w for d in docs for values in d.fields.values() for v in values for w in re.findall(r"\w+", v.lower())}


def test_a_typo_is_corrected_into_a_word_of_the_corpus_never_a_stem(ctx, index, docs):
    """A correction names a word the corpus writes, with its accents; another form of a known word is no typo."""
    written = _corpus_words(docs)
    for typed, expected in [("mediateque", "médiathèque"), ("restauraton", "restauration")]:
        fixed = search(ctx, f"{typed} scolaire", Filters(), index=index).corrections
        assert fixed == {typed: expected}
        assert expected in written and stem(fold(expected)) != expected
    # « dématérialiser » is not in the samples, « dématérialisé » and « dématérialisation » are: the same stem,
    # so nothing is corrected (it used to say « dematerialiser → dematerialise »), and the experiences are found.
    assert "dématérialiser" not in written and "dematerialiser" not in index.vocabulary
    result = search(ctx, "dematerialiser les actes", Filters(), index=index)
    assert result.corrections == {} and result.total > 0
    assert "dématérialis" in (result.results[0].titre + result.results[0].extrait).lower()


@pytest.fixture(scope="module")
def hashed(sample, docs, tmp_path_factory):
    """A context and an index with the hash embedder: the hybrid path (dense + lexical + graph), no model."""
    built, _ = Index.build(docs, get_embedder("hash"), taxonomy=load_taxonomy(sample))
    return _context(tmp_path_factory.mktemp("hashed"), sample, "hash"), built


@pytest.mark.parametrize(
    ("framed", "subject"),
    [
        ("mettre en place un portail famille", "portail famille"),
        ("Je voudrais créer un portail famille", "portail famille"),
        ("nous souhaitons mettre en œuvre la dématérialisation des actes", "dématérialisation des actes"),
        ("Comment faire pour développer le wifi public ?", "wifi public"),
    ],
)
def test_generic_verbs_never_decide_the_ranking(hashed, framed, subject):
    """« mettre en place X » ranks like « X »: the same results in the same order, the verbs never marked."""
    ctx, built = hashed
    a = search(ctx, framed, Filters(), limit=10, index=built)
    b = search(ctx, subject, Filters(), limit=10, index=built)
    assert [h.iri for h in a.results] == [h.iri for h in b.results]
    assert a.total == b.total and a.results
    marked = {m.lower() for h in a.results for m in re.findall(r"<mark>(.*?)</mark>", h.extrait)}
    assert marked and not marked & {"mettre", "place", "œuvre", "créer", "faire", "développer", "voudrais"}


def test_stop_phrases_are_general_french_framing():
    assert content_words("Je voudrais mettre en place la vidéo-protection") == ["la", "video", "protection"]
    assert strip_framing("Nous souhaitons mettre en œuvre un SIG") == "SIG"
    assert strip_framing("mettre en place") == "mettre en place"  # nothing else: the query stays whole
    # « mettre » alone says something (« mettre en ligne », « mettre à disposition »), and so do the nouns.
    assert content_words("mettre en ligne le développement durable") == [
        "mettre", "en", "ligne", "le", "developpement", "durable"
    ]


def test_a_compound_written_in_two_words_finds_the_one_word_spelling(ctx, index, docs):
    """« vidéo-protection » finds the experience that writes « vidéoprotection »."""
    carrier = {d.iri for d in docs if any("vidéoprotection" in v.lower() for vs in d.fields.values() for v in vs)}
    assert carrier
    result = search(ctx, "vidéo-protection", Filters(), limit=10, index=index)
    assert carrier & {h.iri for h in result.results}


def test_facets_carry_their_french_labels(ctx, index):
    """Each facet value has its code (what a filter takes), its French label and its count."""
    result = search(ctx, "", Filters(), index=index)
    for name, counts in result.facets.items():
        values = result.facet_values[name]
        assert [(v.code, v.count) for v in values] == list(counts.items()), name
    labels = {name: {v.code: v.label for v in values} for name, values in result.facet_values.items()}
    assert labels["region"]["53"] == "Bretagne"
    assert labels["axe"]["1"] == load_taxonomy_label(ctx, "1")
    assert labels["enjeu"]["1a"] == load_taxonomy_label(ctx, "1a")
    assert labels["taille"]["epci"] == S.TAILLES["epci"]
    assert labels["source"]["oten"] == "OTeN"
    data = result.model_dump()
    assert {"code": "53", "label": "Bretagne", "count": result.facets["region"]["53"]} in data["facet_values"]["region"]


def load_taxonomy_label(ctx, notation: str) -> str:
    return load_taxonomy(ctx.store).label[notation]


def test_no_match_says_so_and_suggests_removing_filters(ctx, index):
    result = search(ctx, "xyzzy plugh", Filters(), index=index)
    assert result.total == 0 and result.results == [] and result.message
    filtered = search(ctx, "cantine", Filters(taille=["region"], annee_max=2001), index=index)
    assert filtered.total == 0
    assert "filtre" in filtered.message and "--taille" in filtered.message


def test_json_shape(ctx, index):
    data = search(ctx, "wifi gratuit", Filters(), limit=3, index=index).model_dump()
    assert set(data) >= {"query", "total", "facets", "results"}
    hit = data["results"][0]
    assert set(hit) >= {"iri", "titre", "score", "extrait", "porteurs", "services", "annee", "technologies",
                        "sources", "why"}
    assert set(hit["why"]) >= {"dense", "lexical"}
    assert set(hit["porteurs"][0]) == {"iri", "nom", "insee", "siren"}
    assert set(hit["sources"][0]) == {"source", "id"}


def test_merged_experience_shows_the_villes_internet_title(ctx, index):
    hit = next(h for h in search(ctx, "", Filters(), limit=10_000, index=index).results if h.iri == EXP + "vi-1024")
    assert hit.titre == "Cantine et crèche payables en ligne avec TIPI"
    assert {s.source for s in hit.sources} == {"villes-internet", "oten"}


def test_similar_never_returns_the_item_nor_a_record_merged_into_it(ctx, index):
    for iri in [EXP + "vi-1024", EXP + "vi-1002", EXP + "oten-OTEN-2010-0019"]:
        result = similar(ctx, iri, limit=20, index=index)
        assert iri not in {h.iri for h in result.results}
        assert len(result.results) == 20
    # An OTeN fiche merged into vi-1024 resolves to it and is excluded as well.
    merged = similar(ctx, "oten-OTEN-2009-0098", limit=50, index=index)
    assert merged.query == EXP + "vi-1024"
    assert EXP + "vi-1024" not in {h.iri for h in merged.results}
    assert any(s["notation"] in ("S2", "S3") for s in merged.results[0].services)
    with pytest.raises(NotFound):
        similar(ctx, "vi-999999", index=index)


def test_relevance_scores_the_given_experiences(sample, docs, tmp_path):
    built, _ = Index.build(docs, get_embedder("hash"), taxonomy=load_taxonomy(sample))
    scores = S.relevance(_context(tmp_path, sample, "hash"), "portail famille cantine",
                         [EXP + "vi-1175", EXP + "vi-2150", "inconnue"], index=built)
    assert set(scores) == {EXP + "vi-1175", EXP + "vi-2150"}
    assert scores[EXP + "vi-1175"] > scores[EXP + "vi-2150"]


def test_hybrid_with_a_real_model_on_a_paraphrase(sample, docs, tmp_path):
    """USE (multilingual, the fastest bundled model) on 40 experiences: the paraphrase finds portail famille."""
    keep = [d for d in docs if any(s["notation"] in ("S3", "S12", "S60", "S61", "S81") for s in d.services)][:40]
    built, encoded = Index.build(keep, get_embedder("use"), taxonomy=load_taxonomy(sample))
    assert encoded == len(keep)
    ctx = _context(tmp_path, sample, "use")
    result = search(ctx, "inscrire les enfants à la cantine sur internet", Filters(), limit=3, index=built)
    assert result.results[0].why.dense > 0
    assert all(any(s["notation"] == "S3" for s in h.services) or "cantine" in h.extrait.lower()
               for h in result.results)


# --- the index on disk -----------------------------------------------------------------------------------


class _Counting:
    """The hash embedder, counting the passages it encodes (the count is what the test checks)."""

    def __init__(self) -> None:
        self.inner = get_embedder("hash")
        self.name, self.dim, self.passages = self.inner.name, self.inner.dim, 0

    def encode_queries(self, texts):
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts):
        self.passages += len(texts)
        return self.inner.encode_passages(texts)


def test_ingest_of_one_changed_record_encodes_one_text(home, tmp_path, monkeypatch):
    import openpyxl

    counting = _Counting()
    monkeypatch.setattr("search.dense.get_embedder", lambda name: counting)
    workbook = tmp_path / "atlaas.xlsx"
    shutil.copy(SAMPLES / "villes_internet_atlaas.xlsx", workbook)
    with Context.open(Settings(home=home, embedder="hash")) as ctx:
        import_file(ctx.store, workbook)
        first = S.update_index(ctx)
        assert first["encoded"] == first["experiences"] == counting.passages > 250
        again = S.update_index(ctx)
        assert again["encoded"] == 0 and counting.passages == first["encoded"]

        book = openpyxl.load_workbook(workbook)
        sheet = book["Actions"]
        header = [c.value for c in sheet[1]]
        row = next(r for r in sheet.iter_rows(min_row=2) if str(r[0].value) == "1002")
        row[header.index("Synthèse")].value = "Le portail famille accepte désormais le paiement fractionné."
        book.save(workbook)
        import_file(ctx.store, workbook)
        third = S.update_index(ctx)
        assert third["encoded"] == 1
        assert counting.passages == first["encoded"] + 1
        hit = search(ctx, "paiement fractionné", Filters(), limit=1).results[0]
    assert hit.iri == EXP + "vi-1002"


def test_index_built_by_another_embedder_is_refused(home, sample):
    hashed = _context(home, sample, "hash")
    summary = S.update_index(hashed)
    assert summary["embedder"] == "hash:256"
    assert S.open_index(hashed).size == summary["experiences"]
    plain = _context(home, sample, "none")
    with pytest.raises(IndexMismatch, match=r"hash:256.*--rebuild"):
        S.open_index(plain)
    with pytest.raises(IndexMismatch):
        S.update_index(plain)
    rebuilt = S.rebuild_index(plain)
    assert rebuilt["embedder"] == "none"
    assert S.open_index(plain).embedder == "none"


def test_the_opened_index_is_cached_in_the_context_until_rewritten(home, sample):
    ctx = _context(home, sample, "none")
    S.update_index(ctx)
    first = S.open_index(ctx)
    assert S.open_index(ctx) is first
    assert _context(home, sample, "none").peek(CACHE_NAME) is None, "another context has its own cache"
    S.rebuild_index(ctx)
    assert S.open_index(ctx) is not first


def test_a_search_without_an_index_builds_nothing_and_says_so(home, sample):
    """A read never writes: without an index, search and similar raise MissingIndex and leave no file."""
    ctx = _context(home, sample, "none")
    for read in (lambda: search(ctx, "cantine"), lambda: search(ctx, ""), lambda: similar(ctx, "vi-1024"),
                 lambda: S.relevance(ctx, "cantine")):
        with pytest.raises(MissingIndex, match="aucun index de recherche"):
            read()
    assert not home.exists() or not any(home.iterdir())
    assert MissingIndex.status == 503


def test_index_survives_a_reload(ctx, home, sample, index):
    index.save(home / "search")
    loaded = Index.load(home / "search")
    q = "prendre rendez vous en ligne pour un passeport"
    a = search(ctx, q, Filters(taille=["grande-ville"]), index=index)
    b = search(ctx, q, Filters(taille=["grande-ville"]), index=loaded)
    assert [h.model_dump() for h in a.results] == [h.model_dump() for h in b.results]
    assert a.facets == b.facets


@pytest.mark.parametrize("order", ["random", "best_last", "best_first", "ties"])
def test_top_is_the_full_sorts_first_k_at_any_size(order):
    """The page of best matches equals a full sort's first k (score descending, then position), for sizes below
    and above the sample that bounds the k-th key, whatever the order of the keys and with ties across it."""
    from search.ranking import _TOP_SAMPLE, _top

    rng = np.random.default_rng(7)
    for n in (1, 9, 3 * _TOP_SAMPLE, 40_000):
        ids = np.sort(rng.choice(10 * n, n, replace=False))
        key = rng.integers(0, 40, n).astype(np.float32) if order == "ties" else rng.random(n).astype(np.float32)
        if order == "best_last":
            key = np.sort(key)  # the sample's bound is then the loosest: most ids reach it
        elif order == "best_first":
            key = np.sort(key)[::-1].copy()
        for k in (1, 10, 37):
            expected = ids[np.lexsort((ids, -key))][:k]
            assert np.array_equal(_top(ids, key, k), expected), (n, k)


@pytest.mark.parametrize("positive", [1.0, 0.5, 0.0005, 0.0])
def test_best_is_the_first_k_of_the_positive_scores(positive):
    """The best docs of a per-doc score are a full sort's first k of the docs scored above 0, whether positive
    scores are most of the sample that bounds the k-th one, a few of it, or none."""
    from search.ranking import _TOP_SAMPLE, _best

    rng = np.random.default_rng(11)
    for n in (7, 3 * _TOP_SAMPLE, 50_000):
        score = np.where(rng.random(n) < positive, rng.integers(1, 30, n), rng.integers(-3, 1, n)).astype(np.float32)
        ids = np.flatnonzero(score > 0)
        for k in (1, 5, 40):
            expected = ids[np.lexsort((ids, -score[ids]))][:k]
            assert np.array_equal(_best(score, k), expected), (n, k)


def test_ann_path_matches_exact_search(sample, docs):
    vectors = np.asarray(get_embedder("hash").encode_passages([d.passage for d in docs]))
    exact, _ = Index.build(docs, get_embedder("hash"), vectors=vectors, ann_min=10**9)
    ann, _ = Index.build(docs, get_embedder("hash"), vectors=vectors, ann_min=0)
    assert exact.ann is None and ann.ann is not None
    q = get_embedder("hash").encode_queries(["fibre optique"])[0]
    e_ids, _ = exact.dense_scores(q, None, 10)
    a_ids, _ = ann.dense_scores(q, None, 10)
    assert len(set(e_ids.tolist()) & set(a_ids.tolist())) >= 8


def test_cli_search_similar_and_index(ctx, home, sample, index):
    """The commands open their own context on ``--home``: search and similar read the index, index builds it."""
    from capitalis.cli import app

    with Context.open(Settings(home=home)) as disk:
        import_samples(disk.store, (WORKBOOK, OTEN))
        load_referential_subset(disk.store)
    runner = CliRunner(env={"CAPITALIS_EMBEDDER": "none"})
    missing = runner.invoke(app, ["--home", str(home), "search", "wifi"])
    assert missing.exit_code == MissingIndex.exit_code and "aucun index de recherche" in missing.output
    assert not (home / "search").exists()
    built = runner.invoke(app, ["--home", str(home), "index", "--json"])
    assert built.exit_code == 0, built.output
    assert json.loads(built.stdout)["experiences"] == index.size
    ok = runner.invoke(app, ["--home", str(home), "search", "wifi gratuit", "--taille", "grande-ville", "--taille",
                             "epci", "--json"])
    assert ok.exit_code == 0, ok.output
    expected = search(ctx, "wifi gratuit", Filters(taille=["grande-ville", "epci"]), index=index)
    assert json.loads(ok.stdout) == json.loads(expected.model_dump_json())
    text = runner.invoke(app, ["--home", str(home), "search", "wifi gratuit", "--region", "53"])
    assert text.exit_code == 0, text.output
    assert "Région : 53 Bretagne (" in text.output and "Axe : 1 " in text.output
    bad = runner.invoke(app, ["--home", str(home), "search", "wifi", "--taille", "metropole"])
    assert bad.exit_code == 2
    assert "metropole" in bad.output
    sim = runner.invoke(app, ["--home", str(home), "similar", "oten-OTEN-2009-0098", "--limit", "3", "--json"])
    assert sim.exit_code == 0, sim.output
    assert json.loads(sim.stdout)["query"] == EXP + "vi-1024"
    assert len(json.loads(sim.stdout)["results"]) == 3
