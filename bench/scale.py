"""Bench: one run of the whole pipeline at 10k, 100k and 1M experiences, each step beside its baseline.

    PYTHONPATH=. .venv/bin/python bench/scale.py --sizes 10000,100000 [--embedder static] [--workdir DIR]
    PYTHONPATH=. .venv/bin/python bench/scale.py --report   # the table and docs/scale.svg from artifacts/

At each size: synthetic exports in the three real formats (:func:`bench.synthetic.write_exports`), then each
step in its own process, so that its peak memory (``ru_maxrss``) is its own:

- ``import``: the three files through ``ingest.load.import_file`` into a fresh embedded store (triples/s end to
  end, against the triples the store holds after);
- ``index``: ``capitalis index --rebuild`` (every passage encoded, lexical postings, HNSW graph);
- ``reimport``: the same files imported again as `capitalis ingest` does (identical files are confirmed, not read;
  the index update is then spared), then an explicit index update beside it (nothing changed, nothing encoded);
- ``search``: the evaluation queries, p50/p95 with and without query encoding, beside exact dense scoring;
- ``match``: parrainage matches for villages (carrier table built once, timed apart), beside search alone;
- ``sparql``: an aggregate (experiences per ATLAAS service) on the store; ``dump``: the public graphs as N-Quads;
- ``baseline``: the same aggregate and dump with rdflib's memory store (only while it fits: ≤ 5M triples);
- ``replicate`` (instead of ``generate`` and ``import``, where the import cannot run, as at 1M on this box): the
  store of a smaller size already imported in the same working directory, copied, and its experiences and source
  records loaded again as many times as it takes, under new IRIs (the other entities, carriers above all, are
  shared by the copies). The steps after it then measure the index, search, match, SPARQL and dump on a store of
  ``n`` experiences shaped by the real importers; the import itself is not measured at that size.

Results go to ``artifacts/scale-<n>.json`` after every step (a long run can be stopped and resumed per size).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.synthetic import percentile, write_exports  # noqa: E402
from ingest.load import import_file  # noqa: E402
from ingest.territories import load_referentiel  # noqa: E402
from kg.context import Context  # noqa: E402
from kg.settings import Settings  # noqa: E402
from ontology.iri import PUBLIC_GRAPHS, graph  # noqa: E402
from parrainage.matching import match  # noqa: E402
from parrainage.porteurs import porteurs  # noqa: E402
from search import open_index, search, update_index, update_index_after_import  # noqa: E402
from search.dense import query_encoder  # noqa: E402
from search.embedders import EMBEDDERS  # noqa: E402

ARTIFACTS = ROOT / "artifacts"
STEPS = ("generate", "import", "index", "reimport", "search", "match", "sparql", "dump", "baseline", "replicate")
#: What a run does unless told (``replicate`` replaces an imported store: only when asked for).
DEFAULT_STEPS = STEPS[:-1]
#: What each copy of ``replicate`` renames: the experiences and their source records (N-Triples bytes).
MINTED = (b"<https://w3id.org/capitalis/id/experience/", b"<https://w3id.org/capitalis/id/record/")
_MINTED_IRI = re.compile(rb"(<https://w3id\.org/capitalis/id/(?:experience|record)/[^>]*)>")
_TITLE = re.compile(rb'^(<https://w3id\.org/capitalis/id/experience/[^>]*> <http://purl\.org/dc/terms/title> '
                    rb'"(?:[^"\\]|\\.)*)"', re.MULTILINE)
ORDER = ("villes-internet", "oten", "netpublic")
RDFLIB_MAX_TRIPLES = 5_000_000
AGGREGATE = """PREFIX cap: <https://w3id.org/capitalis/ontology#>
SELECT ?service (COUNT(DISTINCT ?e) AS ?n) WHERE { GRAPH ?g { ?e a cap:Experience ; cap:service ?service } }
GROUP BY ?service ORDER BY DESC(?n)"""
EXPERIENCES = """PREFIX cap: <https://w3id.org/capitalis/ontology#>
SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { GRAPH ?g { ?e a cap:Experience } }"""
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
#: Targets of the issue at 1M experiences (the re-import one at 100k).
TARGETS = {
    "import_triples_per_s": 100_000, "peak_mb": 16_000, "search_p95_ms": 20, "search_enc_p95_ms": 50,
    "match_p95_ms": 100, "index_s": 1800, "reimport_share": 0.1,
}


# --- the steps (each runs in its own process) --------------------------------------------------------------


def _settings(workdir: Path, embedder: str) -> Settings:
    return Settings(home=workdir / "home", embedder=embedder)


def _du(path: Path) -> int:
    """Bytes of the files under ``path``, each file once: the store's snapshots hard-link its databases' files."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for p in path.rglob("*") if path.exists() else ():
        if p.is_file():
            st = p.stat()
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def _triples(ctx: Context) -> int:
    rows = ctx.store.select(COUNT)
    return int(rows[0]["n"]) if rows else 0


def _import_all(ctx: Context, exports: Path, files: dict[str, Any] | None = None) -> bool:
    """Import the three exports as `capitalis ingest all` does; whether any was read (not confirmed). ``files``
    receives each file's seconds, triples written and the process's peak memory so far (printed as they come: at
    1M, a long run tells where it stands)."""
    names = {"villes-internet": "atlaas.xlsx", "oten": "fiches.xml", "netpublic": "lieux.csv"}
    reports = []
    for source in ORDER:
        started = time.perf_counter()
        reports.append(report := import_file(ctx.store, exports / names[source]))
        if files is not None:
            files[source] = {"seconds": round(time.perf_counter() - started, 1), "triples": report.triples,
                             "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
            print(json.dumps({source: files[source]}), file=sys.stderr, flush=True)
    return any(r.confirms is None for r in reports)


def step_generate(workdir: Path, n: int, embedder: str) -> dict[str, Any]:
    files = write_exports(n, workdir / "exports")
    return {"files_mb": {k: round(p.stat().st_size / 1e6, 1) for k, p in files.items()}}


def step_import(workdir: Path, n: int, embedder: str) -> dict[str, Any]:
    shutil.rmtree(workdir / "home", ignore_errors=True)
    with Context.open(_settings(workdir, embedder)) as ctx:
        before = _triples(ctx)
        started, cpu, files = time.perf_counter(), time.process_time(), {}
        _import_all(ctx, workdir / "exports", files)
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        triples = _triples(ctx) - before
        experiences = int(ctx.store.select(EXPERIENCES)[0]["n"])
    return {"seconds": seconds, "cpu_s": cpu_s, "triples": triples, "experiences": experiences, "files": files,
            "triples_per_s": triples / seconds, "store_mb": _du(workdir / "home" / "store") / 1e6,
            "databases_mb": (_du(workdir / "home" / "store" / "public") + _du(workdir / "home" / "store" / "prive"))
            / 1e6}


def step_index(workdir: Path, n: int, embedder: str) -> dict[str, Any]:
    with Context.open(_settings(workdir, embedder)) as ctx:
        summary = update_index(ctx, progress=sys.stderr.isatty(), rebuild=True)
    return {"seconds": summary["seconds"], "encoded": summary["encoded"], "experiences": summary["experiences"],
            "index_mb": _du(workdir / "home" / "search") / 1e6}


def step_reimport(workdir: Path, n: int, embedder: str) -> dict[str, Any]:
    with Context.open(_settings(workdir, embedder)) as ctx:
        started = time.perf_counter()
        read = _import_all(ctx, workdir / "exports")
        import_s = time.perf_counter() - started
        summary = update_index_after_import(ctx, anything_read=read, progress=sys.stderr.isatty())
        index_s = time.perf_counter() - started - import_s
        # the index update of `capitalis ingest`, spared when nothing was read (then timed as the check alone)
        encoded, changed = (summary["encoded"], summary["changed"]) if summary is not None else (0, 0)
        full = update_index(ctx)  # what an explicit `capitalis index` would find: no experience changed
    return {"import_s": import_s, "index_s": index_s, "seconds": import_s + index_s, "encoded": encoded,
            "changed": changed, "read": read, "index_update_s": full["seconds"],
            "index_update_changed": full["changed"]}


def _queries() -> list[str]:
    evaluation = json.loads((ROOT / "bench/data/search_eval.json").read_text(encoding="utf-8"))
    return [q["query"] for q in evaluation["queries"]]


def _p(values: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(values), "p95": percentile(values, 95)}


def step_search(workdir: Path, n: int, embedder: str) -> dict[str, Any]:
    with Context.open(_settings(workdir, embedder), read_only=True) as ctx:
        index = open_index(ctx)
        exact = dataclasses.replace(index, ann=None)  # the baseline: every vector scored
        model = query_encoder(ctx).embedder
        queries = _queries()
        model.encode_queries(queries[:1])  # the first call loads the model
        encode, ann_ms, exact_ms = [], [], []
        for rep in range(4):
            for q in queries:
                t = time.perf_counter()
                v = model.encode_queries([q])[0]
                e = (time.perf_counter() - t) * 1000
                t = time.perf_counter()
                search(ctx, q, None, 10, 0, index=index, qvec=v)
                a = (time.perf_counter() - t) * 1000
                t = time.perf_counter()
                search(ctx, q, None, 10, 0, index=exact, qvec=v)
                x = (time.perf_counter() - t) * 1000
                if rep:  # the first pass warms the caches
                    encode.append(e)
                    ann_ms.append(a)
                    exact_ms.append(x)
    return {"hnsw": index.ann is not None, "search": _p(ann_ms), "exact": _p(exact_ms), "encode": _p(encode),
            "search_enc": _p([a + e for a, e in zip(ann_ms, encode, strict=True)])}


def step_match(workdir: Path, n: int, embedder: str) -> dict[str, Any]:
    ref = load_referentiel()
    villages = sorted(c.code_insee for c in ref.communes.values()
                      if c.population and c.population < 2000 and c.latitude is not None)
    with Context.open(_settings(workdir, embedder), read_only=True) as ctx:
        index = open_index(ctx)
        model = query_encoder(ctx).embedder
        started = time.perf_counter()
        table = porteurs(ctx, index)
        table_s = time.perf_counter() - started
        queries = _queries()
        cases = list(zip(random.Random(7).sample(villages, len(queries)), queries, strict=True))
        vectors = [model.encode_queries([q])[0] for q in queries]
        times, alone = [], []
        for rep in range(3):
            for (code, q), v in zip(cases, vectors, strict=True):
                t = time.perf_counter()
                match(ctx, code, q, None, index=index, qvec=v)
                m = (time.perf_counter() - t) * 1000
                t = time.perf_counter()
                search(ctx, q, None, 10, 0, index=index, qvec=v)
                s = (time.perf_counter() - t) * 1000
                if rep:
                    times.append(m)
                    alone.append(s)
    return {"table_s": table_s, "carriers": table.size, "match": _p(times), "search_alone": _p(alone)}


def _timed(fn: Callable[[], Any], repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def step_sparql(workdir: Path, n: int, embedder: str) -> dict[str, Any]:
    with Context.open(_settings(workdir, embedder), read_only=True) as ctx:
        rows = ctx.store.select(AGGREGATE)
        seconds = _timed(lambda: ctx.store.select(AGGREGATE))
    return {"seconds": seconds, "rows": len(rows)}


def step_dump(workdir: Path, n: int, embedder: str) -> dict[str, Any]:
    out = workdir / "dump.nq"
    with Context.open(_settings(workdir, embedder), read_only=True) as ctx:
        present = set(ctx.store.graphs())
        graphs = [str(graph(g)) for g in PUBLIC_GRAPHS if str(graph(g)) in present]
        started = time.perf_counter()
        ctx.store.dump(out, "nq", graphs)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "mb": out.stat().st_size / 1e6}


def step_baseline(workdir: Path, n: int, embedder: str) -> dict[str, Any]:
    """rdflib's memory store: the dump parsed, the aggregate run, the dump written again."""
    # rdflib is imported only by this step, so that the other steps' peak memory does not count it.
    from rdflib import Dataset

    dump = workdir / "dump.nq"
    lines = sum(1 for _ in dump.open("rb"))
    if lines > RDFLIB_MAX_TRIPLES:
        return {"skipped": f"{lines:,} quads: beyond what rdflib's memory store holds on this box"}
    ds = Dataset()
    started = time.perf_counter()
    ds.parse(dump, format="nquads")
    load_s = time.perf_counter() - started
    rows = len(list(ds.query(AGGREGATE)))
    sparql_s = _timed(lambda: list(ds.query(AGGREGATE)), repeat=1)
    started = time.perf_counter()
    ds.serialize(workdir / "dump-rdflib.nq", format="nquads")
    dump_s = time.perf_counter() - started
    return {"load_s": load_s, "sparql_s": sparql_s, "rows": rows, "dump_s": dump_s}


def step_replicate(workdir: Path, n: int, embedder: str) -> dict[str, Any]:
    """A store of ``n`` experiences made of copies of the largest smaller store imported beside it (see the
    module's docstring): its databases copied, then, graph by graph, every statement naming an experience or a
    source record loaded again for each further copy, those IRIs suffixed ``-c{k}`` and the titles ``(copie k)``
    (two copies never share a title nor a passage). Oxigraph's bulk loader writes the copies; a snapshot is then
    published for the readers, as a writer does."""
    import pyoxigraph as ox

    from kg.store import SNAPSHOTS

    smaller = sorted(
        int(p.name) for p in workdir.parent.iterdir()
        if p.name.isdigit() and int(p.name) < n and n % int(p.name) == 0 and (p / "home" / "store").is_dir()
    )
    if not smaller:
        raise SystemExit(f"replicate: no imported store of a size dividing {n:,} beside {workdir}")
    m = smaller[-1]
    source = workdir.parent / str(m) / "home" / "store"
    home = workdir / "home"
    shutil.rmtree(home, ignore_errors=True)
    started = time.perf_counter()
    shutil.copytree(source, home / "store", ignore=shutil.ignore_patterns(SNAPSHOTS))
    copied_s = time.perf_counter() - started
    db, loaded = ox.Store(str(home / "store" / "public")), 0
    for g in list(db.named_graphs()):
        text = db.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g)
        minted = b"\n".join(line for line in text.split(b"\n") if any(x in line for x in MINTED))
        del text
        if not minted:
            continue
        for k in range(1, n // m):
            copy = _MINTED_IRI.sub(rb"\1-c%d>" % k, minted)
            copy = _TITLE.sub(rb'\1 (copie %d)"' % k, copy) + b"\n"
            db.bulk_load(copy, ox.RdfFormat.N_TRIPLES, to_graph=g)
            loaded += copy.count(b"\n")
    db.flush()
    del db
    with Context.open(_settings(workdir, embedder)) as ctx:
        ctx.store.checkpoint(force=True)
        triples, experiences = _triples(ctx), int(ctx.store.select(EXPERIENCES)[0]["n"])
    return {"from": m, "copies": n // m, "seconds": time.perf_counter() - started, "copy_s": copied_s,
            "loaded": loaded, "triples": triples, "experiences": experiences,
            "store_mb": _du(home / "store") / 1e6,
            "databases_mb": (_du(home / "store" / "public") + _du(home / "store" / "prive")) / 1e6}


STEP_FUNCTIONS = {name: globals()[f"step_{name}"] for name in STEPS}


# --- the run -----------------------------------------------------------------------------------------------


def run_step(name: str, workdir: Path, n: int, embedder: str, log: Path) -> dict[str, Any]:
    """Run one step in a child process; its figures, wall time and peak memory (MB)."""
    command = [sys.executable, str(Path(__file__)), "--step", name, "--workdir", str(workdir), "--sizes", str(n),
               "--embedder", embedder]
    started = time.perf_counter()
    with log.open("a") as err:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=err, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        return {"error": f"exit {done.returncode} (see {log})", "wall_s": wall}
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "wall_s": wall}


def run_size(n: int, embedder: str, workdir: Path, steps: list[str]) -> dict[str, Any]:
    out_path = ARTIFACTS / f"scale-{n}.json"
    report: dict[str, Any] = json.loads(out_path.read_text()) if out_path.exists() else {}
    report.update({"n": n, "embedder": embedder, "cores": os.cpu_count(), "load_start": os.getloadavg()[0]})
    report.setdefault("steps", {})
    log = ARTIFACTS / f"scale-{n}.log"
    for name in steps:
        print(f"[{n:,}] {name}…", file=sys.stderr, flush=True)
        report["steps"][name] = run_step(name, workdir, n, embedder, log)
        report["steps"][name]["load"] = os.getloadavg()[0]
        out_path.write_text(json.dumps(report, indent=2, default=float))
        print(f"[{n:,}] {name}: {json.dumps(report['steps'][name], default=float)}", file=sys.stderr, flush=True)
    return report


def _disk(r: dict[str, Any]) -> float | None:
    """The store after the import plus the index after its build (each measured by its own step)."""
    store, index = _get(r, "import", "store_mb") or _get(r, "replicate", "store_mb"), _get(r, "index", "index_mb")
    return store + index if store is not None and index is not None else None


# --- the report --------------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _get(report: dict[str, Any], *path: str) -> Any:
    node: Any = report.get("steps", {})
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def table(reports: list[dict[str, Any]]) -> str:
    """The markdown table of the runs (one column per size)."""
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("experiences (imported)", lambda r: _made(r, "experiences")),
        ("triples", lambda r: _made(r, "triples")),
        ("import, s (end to end, 3 files)", lambda r: _fmt(_get(r, "import", "seconds"), 1)),
        ("**import, triples/s**", lambda r: _fmt(_get(r, "import", "triples_per_s"))),
        ("import, peak MB", lambda r: _fmt(_get(r, "import", "maxrss_mb"))),
        ("store on disk, MB (snapshots included)",
         lambda r: _fmt(_get(r, "import", "store_mb") or _get(r, "replicate", "store_mb"))),
        ("… of which the live databases, MB",
         lambda r: _fmt(_get(r, "import", "databases_mb") or _get(r, "replicate", "databases_mb"))),
        ("**index build (--rebuild), s**", lambda r: _fmt(_get(r, "index", "seconds"), 1)),
        ("index build, peak MB", lambda r: _fmt(_get(r, "index", "maxrss_mb"))),
        ("index on disk, MB", lambda r: _fmt(_get(r, "index", "index_mb"))),
        ("**re-import unchanged + index update, s**", lambda r: _fmt(_get(r, "reimport", "seconds"), 1)),
        ("… of which index update, s (passages encoded)",
         lambda r: f"{_fmt(_get(r, 'reimport', 'index_s'), 1)} ({_fmt(_get(r, 'reimport', 'encoded'))})"),
        ("re-import / first import (import + index)", lambda r: _share(r)),
        ("explicit `capitalis index` after it, s (experiences changed)",
         lambda r: f"{_fmt(_get(r, 'reimport', 'index_update_s'), 1)} "
         f"({_fmt(_get(r, 'reimport', 'index_update_changed'))})"),
        ("**search p50 / p95, ms (encoding excluded)**",
         lambda r: f"{_fmt(_get(r, 'search', 'search', 'p50'), 1)} / {_fmt(_get(r, 'search', 'search', 'p95'), 1)}"),
        ("baseline: exact dense scoring, p50 / p95",
         lambda r: f"{_fmt(_get(r, 'search', 'exact', 'p50'), 1)} / {_fmt(_get(r, 'search', 'exact', 'p95'), 1)}"),
        ("**search p50 / p95, ms (encoding included)**",
         lambda r: f"{_fmt(_get(r, 'search', 'search_enc', 'p50'), 1)} / "
                   f"{_fmt(_get(r, 'search', 'search_enc', 'p95'), 1)}"),
        ("HNSW graph used", lambda r: {True: "yes", False: "no (exact)", None: "—"}[_get(r, "search", "hnsw")]),
        ("search, peak MB", lambda r: _fmt(_get(r, "search", "maxrss_mb"))),
        ("**match p50 / p95, ms**",
         lambda r: f"{_fmt(_get(r, 'match', 'match', 'p50'), 1)} / {_fmt(_get(r, 'match', 'match', 'p95'), 1)}"),
        ("baseline: search alone, p50 / p95",
         lambda r: f"{_fmt(_get(r, 'match', 'search_alone', 'p50'), 1)} / "
                   f"{_fmt(_get(r, 'match', 'search_alone', 'p95'), 1)}"),
        ("carrier table build, s (peak MB of the step)",
         lambda r: f"{_fmt(_get(r, 'match', 'table_s'), 1)} ({_fmt(_get(r, 'match', 'maxrss_mb'))})"),
        ("SPARQL aggregate, s (Oxigraph)", lambda r: _fmt(_get(r, "sparql", "seconds"), 2)),
        ("baseline: rdflib memory store, s", lambda r: _fmt(_get(r, "baseline", "sparql_s"), 2)),
        ("dump (N-Quads), s / MB",
         lambda r: f"{_fmt(_get(r, 'dump', 'seconds'), 1)} / {_fmt(_get(r, 'dump', 'mb'))}"),
        ("baseline: rdflib serialize, s (parse s)",
         lambda r: f"{_fmt(_get(r, 'baseline', 'dump_s'), 1)} ({_fmt(_get(r, 'baseline', 'load_s'), 1)})"),
        ("rdflib baseline, peak MB",
         lambda r: "skipped" if _get(r, "baseline", "skipped") else _fmt(_get(r, "baseline", "maxrss_mb"))),
        ("peak MB, any step (ours)", lambda r: _fmt(_peak(r))),
        ("disk (store + index), MB", lambda r: _fmt(_disk(r))),
        ("load average at the start", lambda r: _fmt(r.get("load_start"), 1)),
    ]
    head = "| measure | " + " | ".join(f"{r['n']:,}" for r in reports) + " |"
    lines = [head, "|---|" + "---:|" * len(reports)]
    lines += [f"| {label} | " + " | ".join(fn(r) for r in reports) + " |" for label, fn in rows]
    return "\n".join(lines)


def _made(r: dict[str, Any], what: str) -> str:
    """Experiences or triples of the store: imported, or made by ``replicate`` (then said so)."""
    if (imported := _get(r, "import", what)) is not None:
        return _fmt(imported)
    if (copied := _get(r, "replicate", what)) is not None:
        return f"{_fmt(copied)} (not imported: {_get(r, 'replicate', 'from'):,} × {_get(r, 'replicate', 'copies')})"
    return "—"


def _share(r: dict[str, Any]) -> str:
    first = (_get(r, "import", "seconds") or 0) + (_get(r, "index", "seconds") or 0)
    again = _get(r, "reimport", "seconds")
    return "—" if not first or again is None else f"{again / first:.2f}"


def _peak(r: dict[str, Any]) -> float | None:
    peaks = [s.get("maxrss_mb") for k, s in r.get("steps", {}).items() if k != "baseline" and s.get("maxrss_mb")]
    return max(peaks) if peaks else None


def svg(reports: list[dict[str, Any]]) -> str:
    """Seconds of each long step against the number of experiences, log-log, as a hand-written SVG."""
    series = {
        "import": ("#1f77b4", lambda r: _get(r, "import", "seconds")),
        "index build": ("#d62728", lambda r: _get(r, "index", "seconds")),
        "re-import unchanged": ("#2ca02c", lambda r: _get(r, "reimport", "seconds")),
        "carrier table": ("#9467bd", lambda r: _get(r, "match", "table_s")),
        "dump": ("#8c564b", lambda r: _get(r, "dump", "seconds")),
    }
    w, h, left, bottom, top, right = 640, 360, 60, 40, 20, 170
    xs = [math.log10(r["n"]) for r in reports]
    values = [v for _, fn in series.values() for r in reports if (v := fn(r))]
    x0, x1 = 3.5, 6.5
    y0, y1 = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    y1 = max(y1, y0 + 1)

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (w - left - right)

    def py(y: float) -> float:
        return h - bottom - (y - y0) / (y1 - y0) * (h - bottom - top)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
           'font-size="11">', f'<rect width="{w}" height="{h}" fill="white"/>']
    for e in range(y0, y1 + 1):
        out.append(f'<line x1="{left}" x2="{w - right}" y1="{py(e):.1f}" y2="{py(e):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{py(e) + 4:.1f}" text-anchor="end">{10.0 ** e:g} s</text>')
    for e, label in ((4, "10k"), (5, "100k"), (6, "1M")):
        out.append(f'<line x1="{px(e):.1f}" x2="{px(e):.1f}" y1="{top}" y2="{h - bottom}" stroke="#ddd"/>')
        out.append(f'<text x="{px(e):.1f}" y="{h - bottom + 16}" text-anchor="middle">{label}</text>')
    out.append(f'<text x="{(left + w - right) / 2}" y="{h - 6}" text-anchor="middle">experiences</text>')
    for k, (name, (colour, fn)) in enumerate(series.items()):
        points = [(px(x), py(math.log10(v))) for x, r in zip(xs, reports, strict=True) if (v := fn(r))]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points]
        ly = top + 10 + 18 * k
        out.append(f'<line x1="{w - right + 10}" x2="{w - right + 30}" y1="{ly}" y2="{ly}" stroke="{colour}" '
                   'stroke-width="2"/>')
        out.append(f'<text x="{w - right + 36}" y="{ly + 4}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def report() -> None:
    reports = sorted((json.loads(p.read_text()) for p in ARTIFACTS.glob("scale-*.json")), key=lambda r: r["n"])
    print(table(reports))
    (ROOT / "docs" / "scale.svg").write_text(svg(reports), encoding="utf-8")
    print(f"\n(plot written to {ROOT / 'docs' / 'scale.svg'})", file=sys.stderr)


def default_embedder() -> str:
    """The static embedder when it is registered (the only one fast enough for 1M passages), else the default."""
    return "static" if "static" in EMBEDDERS else Settings.model_fields["embedder"].default


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="numbers of experiences, comma-separated")
    parser.add_argument("--embedder", default=default_embedder(), help="embedder of the index (default: static)")
    parser.add_argument("--workdir", type=Path, help="where exports, store and index go (default: a temp dir)")
    parser.add_argument("--steps", default=",".join(DEFAULT_STEPS),
                        help=f"steps to run, comma-separated (default: all but replicate; of {', '.join(STEPS)})")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    parser.add_argument("--report", action="store_true", help="print the table of artifacts/scale-*.json, plot")
    parser.add_argument("--step", help=argparse.SUPPRESS)  # internal: run one step in this process
    args = parser.parse_args()
    if args.report:
        report()
        return
    if args.step:
        result = STEP_FUNCTIONS[args.step](args.workdir, int(args.sizes), args.embedder)
        result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result, default=float))
        return
    ARTIFACTS.mkdir(exist_ok=True)
    for n in [int(x) for x in args.sizes.split(",") if x]:
        workdir = (args.workdir or ARTIFACTS / "scale-work") / str(n)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            run_size(n, args.embedder, workdir, [s for s in args.steps.split(",") if s])
        finally:
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
    report()


if __name__ == "__main__":
    main()
