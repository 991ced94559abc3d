"""The search index: built from the corpus, saved next to the store, opened once per context.

It lives in ``$CAPITALIS_HOME/search/`` (``meta.json``, ``docs.sqlite``, ``arrays.npz``, ``lexicon.json``,
``vectors.npy``, ``ann.usearch``), records the embedder that built it and refuses another one.
:func:`update_index` touches only the experiences that changed: their passages are encoded, their lexical
postings analysed, their HNSW nodes and payload rows replaced. Each saved index is a generation that names its
parent and the positions changed since, so that the tables derived from it (the parrainage carrier table) follow
by the same positions. Only the commands that build (an import, ``capitalis index``, the API's start-up) call it:
a search never builds nor writes an index.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kg.context import Context
from kg.errors import CapitalisError
from kg.settings import Settings
from search import dense, lexical
from search.analysis import Analyzer, fold
from search.corpus import DOC_BATCH, Doc, Taxonomy, iter_docs, live_experiences, load_taxonomy, store_signature
from search.embedders import Embedder
from search.facets import FACET_FIELDS, Facet, FacetBuilder, allowed_mask, facet_counts
from search.models import SOURCE_LABELS, TAILLES, FacetValue, Filters
from territoires.referentiel import territoires

FORMAT = 1
#: Experiences from which the dense search walks an HNSW graph (the settings' default).
ANN_MIN = Settings.model_fields["search_ann_min"].default
_MMAP_FROM = 50_000  # vectors of an index this large are memory-mapped, not read
_PROGRESS_FROM = 10_000  # rows from which writing the payloads shows a progress line
_PAYLOAD_BATCH = 5_000  # payload rows written per statement batch (the progress line moves between batches)
#: The name of the opened index in the context's caches (keyed by the directory and the time it was written, so
#: that a rebuilt index is read again: no one needs to forget it).
CACHE_NAME = "search-index"
NO_INDEX = "aucun index de recherche : il se construit à l'import des sources ou par `capitalis index`"


class IndexMismatch(CapitalisError):
    """The index on disk was built by another embedder (or another format): it must be rebuilt."""

    status = 409
    exit_code = 2
    title = "Index de recherche incompatible"


class MissingIndex(CapitalisError):
    """There is no search index yet: it is built by an import or by ``capitalis index``, never by a search."""

    status = 503
    exit_code = 2
    title = "Index de recherche absent"


@dataclass
class Index:
    """The search index of one corpus: lexical postings, vectors, facet arrays and display payloads."""

    embedder: str
    iris: list[str]
    hashes: list[str]
    vectors: np.ndarray  # n × dim float32 (dim 0 without an embedder)
    terms: dict[str, int]  # stem -> term id
    term_ptr: np.ndarray  # int64, len(terms)+1
    post_docs: np.ndarray  # int32
    post_weight: np.ndarray  # float32 BM25 impact of the term in the doc
    vocabulary: dict[str, int]  # folded word -> document frequency (typo correction)
    facets: dict[str, Facet]
    sort_key: np.ndarray  # int32 yyyymmdd, 0 when unknown (empty query: newest first)
    payloads: list[dict[str, Any]] | None = None  # in memory for small corpora / tests
    path: Path | None = None
    built_at: str = ""
    signature: str = ""
    ann: Any = None
    taxonomy_phrases: list[tuple[str, tuple[str, ...], float]] = field(default_factory=list)
    technology_names: dict[str, str] = field(default_factory=dict)  # folded spelling -> canonical label
    surfaces: dict[str, str] = field(default_factory=dict)  # folded word -> its spelling in the corpus
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # facet -> code -> French label
    fingerprints: np.ndarray | None = None  # S16 per doc: what it gives the index, hashed (see fingerprint)
    counts: lexical.Counts | None = None  # what the lexical postings are computed from (loaded for an update)
    generation: str = field(default_factory=lambda: uuid.uuid4().hex)  # this content of the index, saved or not
    parent: str = ""  # the generation it was updated from ("" when built from scratch)
    changes: np.ndarray | None = None  # int64 positions whose experience changed since ``parent``
    _base: tuple[Path, list[int]] | None = None  # (index it was updated from, positions changed): save reuses it
    _spool: Path | None = None  # payload rows written while building (IndexBuild), folded in by save
    _db: sqlite3.Connection | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def size(self) -> int:
        return len(self.iris)

    @property
    def position(self) -> dict[str, int]:
        cached = getattr(self, "_position", None)
        if cached is None:
            cached = {iri: i for i, iri in enumerate(self.iris)}
            self._position = cached
        return cached

    @property
    def analyzer(self) -> Analyzer:
        cached = getattr(self, "_analyzer", None)
        if cached is None:
            cached = Analyzer(self.vocabulary, surfaces=self.surfaces)
            self._analyzer = cached
        return cached

    # building ---------------------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        docs: Sequence[Doc],
        embedder: Embedder,
        *,
        vectors: np.ndarray | None = None,
        previous: Index | None = None,
        taxonomy: Taxonomy | None = None,
        ann_min: int = ANN_MIN,
        progress: bool = False,
        signature: str = "",
        changed: Sequence[int] | None = None,
    ) -> tuple[Index, int]:
        """Build from documents; returns the index and how many passages were encoded.

        Vectors of passages whose hash the ``previous`` index already holds are reused; ``vectors`` (given
        by the synthetic benches) skips encoding altogether. With ``changed`` (the positions whose doc is not
        the one ``previous`` holds there, see :func:`changed_positions`), only those docs are analysed for the
        lexical postings, and the previous HNSW graph and payload rows are updated for those positions only.
        (:func:`update_index` gives the docs batch by batch to an :class:`IndexBuild` instead of holding them.)
        """
        build = IndexBuild(len(docs), embedder, previous=previous, vectors=vectors, changed=changed)
        with progress_step(progress, "Index : expériences", len(docs)) as advance:
            for lo in range(0, len(docs), DOC_BATCH):
                batch = docs[lo : lo + DOC_BATCH]
                build.add(batch)
                advance(len(batch))
        return build.finish(taxonomy=taxonomy, signature=signature, ann_min=ann_min, progress=progress)

    def build_ann(self, ann_min: int = ANN_MIN, *, progress: bool = False) -> None:
        """An HNSW graph over the vectors (usearch, f16) once the corpus is large enough to need one."""
        self.ann = dense.build_ann(self.vectors, ann_min, progress=progress)

    # persistence ------------------------------------------------------------------------------------------
    def save(self, directory: Path, *, progress: bool = False) -> None:
        """Write the index to ``directory`` atomically (a sibling temp dir swapped in)."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = directory.with_name(f"{directory.name}.{os.getpid()}.{threading.get_ident()}.tmp")  # one per writer
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        np.save(tmp / "vectors.npy", self.vectors)
        self._save_arrays(tmp)
        self._save_payloads(tmp, progress=progress)
        self._save_lexicon(tmp)
        if self.ann is not None:
            self.ann.save(str(tmp / "ann.usearch"))
        (tmp / "meta.json").write_text(json.dumps(self._meta(), indent=2), encoding="utf-8")
        _swap_in(tmp, directory)
        self.path = directory
        if self.payloads is None and self._db is None:  # rows spooled while building: read from the saved table
            self._db = sqlite3.connect(directory / "docs.sqlite", check_same_thread=False)

    def _save_arrays(self, directory: Path) -> None:
        arrays: dict[str, np.ndarray] = {
            "term_ptr": self.term_ptr,
            "post_docs": self.post_docs,
            "post_weight": self.post_weight,
            "sort_key": self.sort_key,
        }
        for name, f in self.facets.items():
            arrays[f"f_{name}_docs"] = f.docs
            arrays[f"f_{name}_vals"] = f.vals
        if self.fingerprints is not None:
            arrays["fingerprints"] = self.fingerprints
        if self.counts is not None:
            arrays |= {
                "post_tf": self.counts.tf,
                "doc_length": self.counts.lengths,
                "word_ptr": self.counts.words.ptr,
                "word_docs": self.counts.words.docs,
                "spelling_ptr": self.counts.spellings.ptr,
                "spelling_docs": self.counts.spellings.docs,
            }
        if self.changes is not None:
            arrays["changes"] = self.changes
        np.savez(directory / "arrays.npz", **arrays)

    def _save_payloads(self, directory: Path, *, progress: bool = False) -> None:
        if self._spool is not None:
            self._save_spooled(directory)
            return
        if self._base is not None and (self._base[0] / "docs.sqlite").exists():
            self._update_payloads(directory, *self._base)
            return
        db = sqlite3.connect(directory / "docs.sqlite")
        db.execute("CREATE TABLE docs (i INTEGER PRIMARY KEY, iri TEXT UNIQUE, hash TEXT, payload TEXT)")
        with progress_step(progress and self.size >= _PROGRESS_FROM, "Fiches de l'index", self.size) as advance:
            for lo in range(0, self.size, _PAYLOAD_BATCH):
                hi = min(self.size, lo + _PAYLOAD_BATCH)
                db.executemany(
                    "INSERT INTO docs VALUES (?, ?, ?, ?)",
                    ((i, self.iris[i], self.hashes[i], json.dumps(self.payload(i), ensure_ascii=False))
                     for i in range(lo, hi)),
                )
                advance(hi - lo)
        db.commit()
        db.close()

    def _save_spooled(self, directory: Path) -> None:
        """The payload rows an :class:`IndexBuild` wrote to its spool: every row (moved in), or those of the
        changed positions, written over a copy of the previous index's table."""
        assert self._spool is not None
        target = directory / "docs.sqlite"
        base = self._base[0] / "docs.sqlite" if self._base is not None else None
        if base is None or not base.exists():
            os.replace(self._spool, target)
        else:
            shutil.copyfile(base, target)
            db = sqlite3.connect(target)
            db.execute("ATTACH DATABASE ? AS spool", (str(self._spool),))
            db.execute("INSERT OR REPLACE INTO docs SELECT * FROM spool.docs")  # REPLACE: see _update_payloads
            db.execute("DELETE FROM docs WHERE i >= ?", (self.size,))
            db.commit()
            db.execute("DETACH DATABASE spool")
            db.close()
        self._spool = None

    def _update_payloads(self, directory: Path, base: Path, changed: list[int]) -> None:
        """The previous index's payload table, copied, with the rows of the ``changed`` positions rewritten."""
        shutil.copyfile(base / "docs.sqlite", directory / "docs.sqlite")
        db = sqlite3.connect(directory / "docs.sqlite")
        db.executemany(  # REPLACE also drops the row an experience held at its former position
            "INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?)",
            ((i, self.iris[i], self.hashes[i], json.dumps(self.payload(i), ensure_ascii=False)) for i in changed),
        )
        db.execute("DELETE FROM docs WHERE i >= ?", (self.size,))
        db.commit()
        db.close()

    def _save_lexicon(self, directory: Path) -> None:
        lexicon = {
            "terms": list(self.terms),  # in id order; "vocabulary" is in the order of the word ids of ``counts``
            "vocabulary": self.vocabulary,
            "facets": {name: f.values for name, f in self.facets.items()},
            "technologies": self.technology_names,
            "taxonomy": [[n, list(s), w] for n, s, w in self.taxonomy_phrases],
            "surfaces": self.surfaces,
            "labels": self.labels,
        }
        if self.counts is not None:
            lexicon["spellings"] = self.counts.spellings.keys
        (directory / "lexicon.json").write_text(json.dumps(lexicon, ensure_ascii=False), encoding="utf-8")

    def _meta(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "embedder": self.embedder,
            "dim": int(self.vectors.shape[1]),
            "count": self.size,
            "built_at": self.built_at,
            "signature": self.signature,
            "ann": self.ann is not None,
            "generation": self.generation,
            "parent": self.parent,
        }

    @classmethod
    def load(cls, directory: Path, *, counts: bool = False) -> Index:
        """The index saved in ``directory`` (payloads stay in SQLite, large vectors are memory-mapped); with
        ``counts``, also what an update of the lexical postings starts from (a search does not need it)."""
        meta = read_meta(directory)
        if meta is None:
            raise MissingIndex(NO_INDEX)
        if meta.get("format") != FORMAT:
            raise IndexMismatch(
                f"index de recherche au format {meta.get('format')} (attendu {FORMAT}) : "
                "lancez `capitalis index --rebuild`"
            )
        arrays = np.load(directory / "arrays.npz")
        lexicon = json.loads((directory / "lexicon.json").read_text(encoding="utf-8"))
        db = sqlite3.connect(directory / "docs.sqlite", check_same_thread=False)
        iris, hashes = [], []
        for iri, h in db.execute("SELECT iri, hash FROM docs ORDER BY i"):
            iris.append(iri)
            hashes.append(h)
        facets = {
            name: Facet(values, arrays[f"f_{name}_docs"], arrays[f"f_{name}_vals"])
            for name, values in lexicon["facets"].items()
        }
        vectors = np.load(directory / "vectors.npy", mmap_mode="r" if meta["count"] > _MMAP_FROM else None)
        index = cls(
            embedder=meta["embedder"],
            iris=iris,
            hashes=hashes,
            vectors=vectors,
            terms={t: k for k, t in enumerate(lexicon["terms"])},
            term_ptr=arrays["term_ptr"],
            post_docs=arrays["post_docs"],
            post_weight=arrays["post_weight"],
            vocabulary=lexicon["vocabulary"],
            facets=facets,
            sort_key=arrays["sort_key"],
            payloads=None,
            path=directory,
            built_at=meta.get("built_at", ""),
            signature=meta.get("signature", ""),
            taxonomy_phrases=[(n, tuple(s), w) for n, s, w in lexicon.get("taxonomy", [])],
            technology_names=lexicon.get("technologies", {}),
            surfaces=lexicon.get("surfaces", {}),  # an index saved before they were kept: none (folded words)
            labels=lexicon.get("labels") or _facet_labels(facets, None),
            fingerprints=arrays["fingerprints"] if "fingerprints" in arrays.files else None,
            counts=_load_counts(arrays, lexicon) if counts else None,
            generation=meta.get("generation") or uuid.uuid4().hex,  # an index saved before generations: its own
            parent=meta.get("parent", ""),
            changes=arrays["changes"] if "changes" in arrays.files else None,
            _db=db,
        )
        if meta.get("ann") and (directory / "ann.usearch").exists():
            index.ann = dense.load_ann(str(directory / "ann.usearch"))
        return index

    def payload(self, i: int) -> dict[str, Any]:
        if self.payloads is not None:
            return self.payloads[i]
        assert self._db is not None
        with self._lock:
            row = self._db.execute("SELECT payload FROM docs WHERE i = ?", (int(i),)).fetchone()
        return json.loads(row[0])

    def memory_bytes(self) -> dict[str, int]:
        """Bytes held by each part of the index (payloads on disk are not counted when loaded)."""
        lexical_ = self.term_ptr.nbytes + self.post_docs.nbytes + self.post_weight.nbytes
        facets = sum(f.nbytes() for f in self.facets.values())
        ann = int(self.ann.memory_usage) if self.ann is not None else 0
        return {"vectors": int(self.vectors.nbytes), "lexical": int(lexical_), "facets": int(facets), "ann": ann}

    # scoring ----------------------------------------------------------------------------------------------
    @property
    def postings(self) -> lexical.Postings:
        return lexical.Postings(
            self.terms, self.term_ptr, self.post_docs, self.post_weight, self.vocabulary, self.surfaces
        )

    def lexical_scores(self, terms: dict[str, float], allowed: np.ndarray | None = None) -> np.ndarray:
        """BM25 score per doc (0 outside ``allowed``)."""
        return lexical.bm25_scores(self.postings, self.size, terms, allowed)

    def dense_scores(self, qvec: np.ndarray, allowed: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(doc ids, cosines) of the ``k`` nearest allowed experiences, best first."""
        return dense.nearest(self.vectors, self.ann, qvec, allowed, k)

    def allowed(self, filters: Filters) -> np.ndarray | None:
        """Boolean mask of the experiences ``filters`` allow (None: no filter)."""
        return allowed_mask(self.facets, self.size, filters, self.technology_names)

    def facet_counts(self, ids: np.ndarray) -> dict[str, dict[str, int]]:
        """Exact facet counts over the docs ``ids`` (ascending, distinct)."""
        return facet_counts(self.facets, self.size, ids)

    def facet_values(self, counts: dict[str, dict[str, int]]) -> dict[str, list[FacetValue]]:
        """Facet counts (:meth:`facet_counts`) as lists of values with their French label, in the same order."""
        out: dict[str, list[FacetValue]] = {}
        for name, values in counts.items():
            table = self.labels.get(_LABELS_OF.get(name, name), {})
            out[name] = [
                FacetValue.model_construct(code=code, label=table.get(code, code), count=n)
                for code, n in values.items()
            ]
        return out

    def query_concepts(self, terms: dict[str, float]) -> dict[str, float]:
        """Concepts whose label or alt label the query contains (all its stems), with a weight."""
        found: dict[str, float] = {}
        stems = set(terms)
        for notation, label_stems, weight in self._phrase_sets():
            if label_stems <= stems:
                # A one-word label is weaker evidence than a phrase.
                w = weight * (1.0 if len(label_stems) > 1 else 0.7)
                found[notation] = max(found.get(notation, 0.0), w)
        return found

    def _phrase_sets(self) -> list[tuple[str, frozenset[str], float]]:
        cached = getattr(self, "_phrases", None)
        if cached is None:
            cached = [(n, frozenset(stems), w) for n, stems, w in self.taxonomy_phrases]
            self._phrases = cached
        return cached


class IndexBuild:
    """An index being built from the documents of its ``n`` positions, given batch by batch in position order, so
    that a corpus is never held whole (at a million experiences, their texts take tens of gigabytes).

    Of each doc it keeps what the index holds of every position (IRI, passage hash, fingerprint, facet values,
    date, technology spellings). Against a ``previous`` index, a position whose IRI and fingerprint are those the
    previous index holds there is unchanged (or, when ``changed`` is given, every position not in it): its
    vector, postings and payload row are the previous ones. The others are changed: their passage is encoded
    (unless ``previous`` holds its vector under the same passage hash), their postings analysed, and their
    payload row written to ``spool`` (a SQLite file beside the index, which :meth:`Index.save` folds in) or, without
    a spool, kept in memory with every other row (tests, benches).
    """

    def __init__(
        self, n: int, embedder: Embedder, *, previous: Index | None = None, vectors: np.ndarray | None = None,
        changed: Sequence[int] | None = None, spool: Path | None = None,
    ) -> None:
        self.n, self.embedder, self.previous = n, embedder, previous
        self.incremental = previous is not None and (changed is not None or previous.fingerprints is not None)
        self._given = None if changed is None else {int(i) for i in changed}
        self.iris: list[str] = []
        self.hashes: list[str] = []
        self.fingerprints = np.zeros(n, "S16")
        self.sort_key = np.zeros(n, np.int32)
        self.facets = {name: FacetBuilder() for name in FACET_FIELDS}
        self.technologies = _TechnologyNames()
        self.changed: list[int] = []
        self.encoded = 0
        self._encode = vectors is None and embedder.dim > 0
        self.vectors = vectors if vectors is not None else np.zeros((n, embedder.dim), np.float32)
        self._known = _known_vectors(previous, embedder) if self._encode else {}
        # the previous postings are updated when the index kept what they are computed from; else all analysed
        counts = previous.counts if self.incremental and previous is not None else None
        self._lexical_all = counts is None
        self.lexical = (lexical.PostingsUpdate(previous.postings, counts, n) if previous is not None and counts
                        is not None else lexical.PostingsUpdate.empty(n))
        self.payloads: list[dict[str, Any]] | None = [] if spool is None else None
        self.spool = spool
        self._rows: sqlite3.Connection | None = None
        if spool is not None:
            spool.unlink(missing_ok=True)
            self._rows = sqlite3.connect(spool)
            self._rows.execute("CREATE TABLE docs (i INTEGER PRIMARY KEY, iri TEXT UNIQUE, hash TEXT, payload TEXT)")
        # payload rows of unchanged positions are in the previous index's table only when it has one on disk
        self._every_row = not (self.incremental and previous is not None and previous.path is not None
                               and (previous.path / "docs.sqlite").exists())

    def add(self, docs: Sequence[Doc]) -> None:
        """The docs of the next positions."""
        prev = self.previous
        lo = len(self.iris)
        if lo + len(docs) > self.n:
            raise ValueError(f"{lo + len(docs)} documents pour un index de {self.n}")
        todo: list[int] = []
        rows = []
        for i, doc in enumerate(docs, lo):
            self.fingerprints[i] = fingerprint(doc)
            passage_hash = doc.passage_hash
            self.iris.append(doc.iri)
            self.hashes.append(passage_hash)
            for name, values in doc.facet_values().items():
                self.facets[name].add(i, values)
            self.sort_key[i] = _date_key(doc.date)
            self.technologies.add(doc)
            same = self.incremental and prev is not None and self._unchanged(i, doc)
            if not same:
                self.changed.append(i)
            if not same or self._lexical_all:
                self.lexical.add(i, doc)
            if self.payloads is not None:
                self.payloads.append(doc.payload())
            elif not same or self._every_row:
                rows.append((i, doc.iri, passage_hash, json.dumps(doc.payload(), ensure_ascii=False)))
            if self._encode:
                vec = self._known.get(passage_hash)
                if vec is not None:
                    self.vectors[i] = vec
                else:
                    todo.append(i)
        if rows and self._rows is not None:
            self._rows.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", rows)
        for k in range(0, len(todo), dense.ENCODE_BATCH):
            batch = todo[k : k + dense.ENCODE_BATCH]
            self.vectors[batch] = self.embedder.encode_passages([docs[i - lo].passage for i in batch])
        self.encoded += len(todo)

    def _unchanged(self, i: int, doc: Doc) -> bool:
        prev = self.previous
        assert prev is not None
        if self._given is not None:
            return i not in self._given
        assert prev.fingerprints is not None
        # both as stored (S16 drops trailing zero bytes: compare the arrays' elements, not a raw digest)
        return i < prev.size and prev.iris[i] == doc.iri and prev.fingerprints[i] == self.fingerprints[i]

    def nothing_changed(self, taxonomy: Taxonomy) -> bool:
        """Every position holds the doc the previous index holds there, under the same taxonomy."""
        prev = self.previous
        return (
            self.incremental and prev is not None and not self.changed and self.n == prev.size
            and [(n, tuple(t), w) for n, t, w in taxonomy.phrases()] == prev.taxonomy_phrases
        )

    def discard(self) -> None:
        """Forget the spooled payload rows (the index is not saved)."""
        if self._rows is not None:
            self._rows.close()
            self._rows = None
        if self.spool is not None:
            self.spool.unlink(missing_ok=True)

    def finish(
        self, *, taxonomy: Taxonomy | None = None, signature: str = "", ann_min: int = ANN_MIN,
        progress: bool = False,
    ) -> tuple[Index, int]:
        """The index (HNSW graph included); returns it and how many passages were encoded."""
        if len(self.iris) != self.n:
            raise ValueError(f"{len(self.iris)} documents donnés pour un index de {self.n}")
        if self._rows is not None:
            self._rows.commit()
            self._rows.close()
            self._rows = None
        with progress_step(progress, "Index lexical", None):
            postings, counts = self.lexical.finish()
        self.lexical = lexical.PostingsUpdate.empty(0)  # its buffers and analyses go before the HNSW graph is built
        facets = {name: builder.finish() for name, builder in self.facets.items()}
        index = Index(
            embedder=self.embedder.name,
            iris=self.iris,
            hashes=self.hashes,
            vectors=np.ascontiguousarray(self.vectors, dtype=np.float32),
            terms=postings.terms,
            term_ptr=postings.term_ptr,
            post_docs=postings.post_docs,
            post_weight=postings.post_weight,
            vocabulary=postings.vocabulary,
            facets=facets,
            sort_key=self.sort_key,
            payloads=self.payloads,
            built_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
            signature=signature,
            taxonomy_phrases=taxonomy.phrases() if taxonomy else [],
            technology_names=self.technologies.table(),
            surfaces=postings.surfaces,
            labels=_facet_labels(facets, taxonomy),
            fingerprints=self.fingerprints,
            counts=counts,
        )
        index._spool = self.spool
        prev = self.previous
        if prev is not None and self.incremental:
            changed = self.changed
            index.parent, index.changes = prev.generation, np.asarray(changed, np.int64)
            index._base = (prev.path, list(changed)) if prev.path is not None else None
            same_dim = prev.ann is not None and index.vectors.shape[1] == prev.ann.ndim
            if same_dim and index.size >= max(ann_min, 1):
                index.ann = dense.update_ann(prev.ann, index.vectors, changed, prev.size, progress=progress)
                return index, self.encoded
        index.build_ann(ann_min, progress=progress)
        return index, self.encoded


class _TechnologyNames:
    """Folded spelling -> canonical technology label (labels and the alt labels the docs carry), doc by doc."""

    def __init__(self) -> None:
        self._spellings: dict[str, str] = {}
        self._alt: dict[str, str] = {}  # alt labels follow their label in fields["technologies"]: mapped to it

    def add(self, doc: Doc) -> None:
        for label in doc.technologies:
            self._spellings[fold(label)] = label
        current = None
        for spelling in doc.fields.get("technologies", []):
            self._spellings.setdefault(fold(spelling), spelling)
            if spelling in doc.technologies:
                current = spelling
            elif current is not None:
                self._alt[fold(spelling)] = current

    def table(self) -> dict[str, str]:
        return self._spellings | self._alt


@contextmanager
def progress_step(progress: bool, label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A long step of the index on the progress line (count, rate, time left): yields ``advance(k)``."""
    if not progress:
        yield lambda k: None
        return
    with dense.progress_bar() as bar:
        task = bar.add_task(label, total=total)
        yield lambda k: bar.advance(task, k)


def _load_counts(arrays: Any, lexicon: dict[str, Any]) -> lexical.Counts | None:
    """What an update of the lexical postings starts from, or None for an index saved before it was kept."""
    if "post_tf" not in arrays.files or "spellings" not in lexicon:
        return None
    words = lexical.Inverted(list(lexicon["vocabulary"]), arrays["word_ptr"], arrays["word_docs"])
    spellings = lexical.Inverted(lexicon["spellings"], arrays["spelling_ptr"], arrays["spelling_docs"])
    if len(words.keys) + 1 != words.ptr.size or len(spellings.keys) + 1 != spellings.ptr.size:
        return None
    return lexical.Counts(arrays["post_tf"], arrays["doc_length"], words, spellings)


def _known_vectors(previous: Index | None, embedder: Embedder) -> dict[str, np.ndarray]:
    """Passage hash -> vector of an index built by the same embedder."""
    if previous is None or previous.embedder != embedder.name or previous.vectors.shape[1] != embedder.dim:
        return {}
    return {h: previous.vectors[i] for i, h in enumerate(previous.hashes)}


#: The labels table of each facet of an answer (the three ATLAAS levels share the concepts').
_LABELS_OF = {"axe": "concept", "enjeu": "concept", "usage": "concept"}


def _facet_labels(facets: dict[str, Facet], taxonomy: Taxonomy | None) -> dict[str, dict[str, str]]:
    """French label of each facet value that has one: concepts (prefLabel), régions and départements (the
    territories' referential), size classes, sources. Years and technologies are their own labels."""
    geo = territoires()
    names = {
        level: {code: geo.nom(level, code) or code for code in facets[level].values}
        for level in ("region", "departement") if level in facets
    }
    concept_labels = taxonomy.label if taxonomy is not None else {}
    return {
        "concept": {n: concept_labels[n] for n in facets["concept"].values if n in concept_labels},
        **names,
        "taille": dict(TAILLES),
        "source": dict(SOURCE_LABELS),
    }


def _date_key(date: str | None) -> int:
    if not date:
        return 0
    digits = re.sub(r"\D", "", date)[:8]
    return int(digits.ljust(8, "0")) if digits else 0


def _swap_in(tmp: Path, directory: Path) -> None:
    """Replace ``directory`` by ``tmp`` (the old one is renamed aside, then removed).

    A reader in another process (an API replica) that looks in the short gap between the two renames finds no
    index, and one that loads across them would mix two generations: :func:`open_index` waits and reads again.
    Another writer swapping at the same moment makes this one's rename fail: the newest index wins.
    """
    old = tmp.with_suffix(".old")
    try:
        if directory.exists():
            directory.rename(old)
        tmp.rename(directory)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not directory.exists() and old.exists():
            old.rename(directory)
        if not directory.exists():
            raise
    shutil.rmtree(old, ignore_errors=True)


# --- opening, updating -------------------------------------------------------------------------------------


def index_dir(settings: Settings) -> Path:
    """Where the index of ``settings.home`` lives."""
    return Path(settings.home) / "search"


def read_meta(directory: Path) -> dict[str, Any] | None:
    path = directory / "meta.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def open_index(ctx: Context, *, check_embedder: bool = True) -> Index:
    """The index of the context's home, loaded once per context (reloaded when rewritten).

    Raises :class:`MissingIndex` when there is none (a read never builds it) and :class:`IndexMismatch` when
    it was built by another embedder than the configured one.
    """
    directory = index_dir(ctx.settings)
    for attempt in range(_SWAP_RETRIES):
        try:
            meta = read_meta(directory)
            if meta is None:
                raise MissingIndex(NO_INDEX)
            if check_embedder:
                check_embedder_of(ctx, meta)
            key = _generation(directory)
            index = ctx.cached(CACHE_NAME, lambda: Index.load(directory), key=key)
            if _generation(directory) == key:  # not swapped while it loaded: one generation throughout
                return index
            ctx.forget(CACHE_NAME)
        except (MissingIndex, OSError, ValueError):
            # another process is swapping a new generation in (see _swap_in): read again, shortly
            if attempt == _SWAP_RETRIES - 1 or not _swapping(directory):
                raise
        time.sleep(0.05)
    raise MissingIndex(NO_INDEX)


_SWAP_RETRIES = 40


def _generation(directory: Path) -> tuple[str, int, int]:
    """What tells one generation of the index from the next: its metadata file's identity and time."""
    stat = (directory / "meta.json").stat()
    return str(directory), stat.st_ino, stat.st_mtime_ns


def _swapping(directory: Path) -> bool:
    """Whether a writer is saving an index beside ``directory`` (its temporary or its old directory exists)."""
    return any(directory.parent.glob(f"{directory.name}.*.tmp")) or any(
        directory.parent.glob(f"{directory.name}.*.old")
    )


def check_embedder_of(ctx: Context, meta: dict[str, Any]) -> None:
    """Refuse an index whose vectors come from another embedder than the context's."""
    built = meta.get("embedder")
    wanted = dense.recorded_name(ctx)
    if built != wanted:
        raise IndexMismatch(
            f"l'index de recherche a été construit par l'encodeur « {built} » et l'encodeur configuré est "
            f"« {wanted} » : les vecteurs ne se comparent pas. Relancez `capitalis index --rebuild` ou "
            f"choisissez CAPITALIS_EMBEDDER={dense.short_name(built)}."
        )


def update_index(ctx: Context, progress: bool = False, *, rebuild: bool = False) -> dict[str, Any]:
    """Bring the index in line with the graph, touching only new or changed experiences.

    Called after every import. Each experience keeps its position in the index; only the positions whose
    experience changed (by :func:`fingerprint`) have their passage encoded, their lexical postings analysed
    again, their HNSW node replaced and their payload row rewritten; BM25's corpus statistics (number of
    documents, document frequencies, average length) follow by the changed documents' contributions, and the
    impacts are recomputed from them in one vectorised pass (the answers are those of a full rebuild). When
    nothing changed (an unchanged export imported again) nothing is encoded nor rewritten: only the recorded
    signature follows the store. ``rebuild`` builds everything again from scratch (``capitalis index
    --rebuild``). Refuses (:class:`IndexMismatch`) an index built by another embedder unless ``rebuild``.

    The experiences are read from the graph batch by batch (:func:`search.corpus.iter_docs`) and given to an
    :class:`IndexBuild` as they come: the corpus's texts are never held whole. Returns counts: experiences,
    changed, encoded, reused, removed, seconds.
    """
    directory = index_dir(ctx.settings)
    started = time.perf_counter()
    previous = _previous_index(ctx, directory, rebuild)
    embedder = dense.query_encoder(ctx).embedder
    signature = store_signature(ctx.store)
    taxonomy = load_taxonomy(ctx.store)
    with progress_step(progress, "Lecture des expériences", None):
        records = live_experiences(ctx.store)
    iris = list(records)
    if previous is not None:
        iris = aligned_iris(iris, previous.iris)
    spool = _spool_path(directory)
    build = IndexBuild(len(iris), embedder, previous=previous, spool=spool)
    try:
        with progress_step(progress, "Index : expériences", len(iris)) as advance:
            for docs in iter_docs(ctx.store, iris, records, taxonomy=taxonomy):
                build.add(docs)
                advance(len(docs))
        if build.nothing_changed(taxonomy):
            build.discard()
            _record_signature(directory, signature)
            assert previous is not None
            return _summary(previous, 0, 0, 0, started, directory)
        index, encoded = build.finish(taxonomy=taxonomy, signature=signature, ann_min=ctx.settings.search_ann_min,
                                      progress=progress)
        index.save(directory, progress=progress)
    finally:
        build.discard()
    removed = len(set(previous.iris) - set(index.iris)) if previous is not None else 0
    n_changed = len(build.changed) if previous is not None else index.size
    return _summary(index, n_changed, encoded, removed, started, directory)


def _spool_path(directory: Path) -> Path:
    """Where an update spools its payload rows (beside the index; the spools a killed process left are removed)."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    for stale in directory.parent.glob(f".{directory.name}.*.docs.sqlite*"):  # with SQLite's journal
        pid = stale.name.split(".")[2]
        if pid.isdigit() and not _alive(int(pid)):
            stale.unlink(missing_ok=True)
    return directory.with_name(f".{directory.name}.{os.getpid()}.{threading.get_ident()}.docs.sqlite")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _summary(index: Index, changed: int, encoded: int, removed: int, started: float, directory: Path) -> dict[str, Any]:
    return {
        "experiences": index.size,
        "changed": changed,
        "encoded": encoded,
        "reused": index.size - encoded if index.vectors.shape[1] else 0,
        "removed": removed,
        "embedder": index.embedder,
        "seconds": round(time.perf_counter() - started, 2),
        "path": str(directory),
    }


def fingerprint(doc: Doc) -> bytes:
    """What ``doc`` gives the index (texts, passage, facets, payload), hashed: equal means nothing to redo."""
    data = json.dumps(
        [doc.iri, doc.fields, doc.passage, doc.date, doc.facet_values(), doc.payload()],
        sort_keys=True, ensure_ascii=False, default=str,
    )
    return hashlib.blake2b(data.encode("utf-8"), digest_size=16).digest()


def aligned(docs: Sequence[Doc], previous: Sequence[str]) -> list[Doc]:
    """``docs`` ordered so that each experience keeps the position it had in ``previous`` (IRIs), see
    :func:`aligned_iris`."""
    by_iri = {d.iri: d for d in docs}
    return [by_iri[iri] for iri in aligned_iris([d.iri for d in docs], previous)]


def aligned_iris(iris: Sequence[str], previous: Sequence[str]) -> list[str]:
    """``iris`` ordered so that each experience keeps the position it had in ``previous``: new ones fill the
    places of removed ones, then follow; places still empty take the last ones."""
    position = {iri: i for i, iri in enumerate(previous)}
    slots: list[str | None] = [None] * len(previous)
    fresh: list[str] = []
    for iri in iris:
        i = position.get(iri)
        if i is None:
            fresh.append(iri)
        else:
            slots[i] = iri
    fresh.reverse()
    for i, d in enumerate(slots):
        if d is None and fresh:
            slots[i] = fresh.pop()
    slots.extend(reversed(fresh))
    i = 0
    while i < len(slots):
        if slots[-1] is None:
            slots.pop()
        elif slots[i] is None:
            slots[i] = slots.pop()
        else:
            i += 1
    return [d for d in slots if d is not None]


def changed_positions(docs: Sequence[Doc], previous: Index) -> list[int]:
    """Positions whose doc is new, moved or different from what ``previous`` holds there (for a list of docs given
    to :meth:`Index.build`; :func:`update_index` lets its :class:`IndexBuild` compare them as they come)."""
    prints = np.asarray([fingerprint(d) for d in docs], dtype="S16")
    old = previous.fingerprints
    if old is None:  # an index saved before fingerprints were kept: everything is new to it
        return list(range(len(docs)))
    n = min(len(docs), previous.size)
    same_iri = np.fromiter((docs[i].iri == previous.iris[i] for i in range(n)), bool, n)
    same = same_iri & (prints[:n] == old[:n])
    return [*np.flatnonzero(~same).tolist(), *range(n, len(docs))]


def _record_signature(directory: Path, signature: str) -> None:
    """Record in the index's metadata that it follows the store as of ``signature`` (nothing else changes)."""
    meta = read_meta(directory) or {}
    if meta.get("signature") == signature:
        return
    meta["signature"] = signature
    tmp = directory / f"meta.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    os.replace(tmp, directory / "meta.json")


def _previous_index(ctx: Context, directory: Path, rebuild: bool) -> Index | None:
    """The index on disk whose vectors an update may reuse (none on a rebuild or an old format)."""
    meta = read_meta(directory)
    if meta is None or rebuild:
        return None
    check_embedder_of(ctx, meta)
    try:
        return Index.load(directory, counts=True)
    except IndexMismatch:
        return None


def rebuild_index(ctx: Context, progress: bool = False) -> dict[str, Any]:
    """Build the index from scratch with the configured embedder (every passage is encoded again)."""
    return update_index(ctx, progress, rebuild=True)


def update_index_after_import(ctx: Context, *, anything_read: bool, progress: bool = False) -> dict[str, Any] | None:
    """:func:`update_index` after imports, or None when there is nothing to do: the imports read nothing (each
    file identical to its source's last import, confirmed) and the index was brought in line with the store
    after its last import run (same :func:`store_signature`). Then no experience can have changed by them, and
    reading every experience back to find that out (at a million, minutes) is spared."""
    if not anything_read:
        status = index_status(ctx)
        if status["exists"] and not status["stale"] and status.get("embedder") == dense.recorded_name(ctx):
            return None  # (another embedder configured since: update_index says what to do)
    return update_index(ctx, progress)


def index_status(ctx: Context, *, with_store: bool = True) -> dict[str, Any]:
    """What the index on disk is: embedder, size, date, and (``with_store``) whether the graph changed since."""
    directory = index_dir(ctx.settings)
    meta = read_meta(directory)
    if meta is None:
        return {"exists": False, "path": str(directory)}
    out = {"exists": True, "path": str(directory), **meta}
    if with_store:
        out["stale"] = meta.get("signature") != store_signature(ctx.store)
    return out
