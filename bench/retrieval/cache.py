"""Embedding cache for benchmarks and tuning: the same text with the same model is embedded once.

Only benchmarks use it (vectors are keyed by encoder name+version and a hash of the text), so tuning
fusion weights does not re-embed a corpus. Latency figures are measured without the query cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from retrieval.encoders import Encoder


class CachedEncoder:
    """Wraps an encoder; ``cache_queries`` is off for latency measurements."""

    def __init__(self, inner: Encoder, directory: Path, cache_queries: bool = False) -> None:
        self.inner = inner
        self.name, self.version, self.dim, self.languages = inner.name, inner.version, inner.dim, inner.languages
        self.cache_queries = cache_queries
        tag = hashlib.sha1(f"{inner.name}|{inner.version}".encode()).hexdigest()[:12]
        self.path = Path(directory) / f"emb-{tag}.npz"
        self.store: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path) as z:
                self.store = {k: z[k] for k in z.files}
        self.dirty = False

    @staticmethod
    def _key(kind: str, text: str) -> str:
        return kind + hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()

    def _encode(self, texts: list[str], kind: str, fn) -> np.ndarray:  # type: ignore[no-untyped-def]
        keys = [self._key(kind, t) for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self.store]
        if missing:
            vecs = fn([texts[i] for i in missing])
            for i, v in zip(missing, vecs, strict=True):
                self.store[keys[i]] = v
            self.dirty = True
        return np.stack([self.store[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), "p", self.inner.encode_passages)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if not self.cache_queries:
            return self.inner.encode_queries(texts)
        return self._encode(list(texts), "q", self.inner.encode_queries)

    def save(self) -> None:
        if self.dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp.npz")
            np.savez(tmp, **self.store)
            tmp.replace(self.path)
            self.dirty = False
