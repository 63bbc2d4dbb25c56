"""BM25 over passages with a boosted title field (a light BM25F), stored as a sparse weight matrix.

Per-term BM25 weights are precomputed into a CSC matrix (passages × terms), so a query is a sum of a
few columns: ~1 ms at 10k passages. Title terms count ``title_weight`` times, because a customer's
question usually paraphrases an article or FAQ title.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse

from retrieval.text import Analyzer


class BM25Index:
    """Lexical index; build with :meth:`build`, persist with :meth:`save`/:meth:`load`."""

    def __init__(self, weights: sparse.csc_matrix, vocab: dict[str, int], idf: np.ndarray,
                 analyzer: Analyzer, k1: float) -> None:
        self.weights = weights
        self.vocab = vocab
        self.idf = idf
        self.analyzer = analyzer
        self.k1 = k1

    @classmethod
    def build(cls, titles: Sequence[str], bodies: Sequence[str], langs: Sequence[str], analyzer: Analyzer,
              k1: float = 1.2, b: float = 0.75, title_weight: float = 2.0) -> BM25Index:
        """Index passages; ``titles``/``bodies``/``langs`` are aligned lists."""
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        lengths = np.zeros(len(bodies), np.float32)
        for i, (title, body, lang) in enumerate(zip(titles, bodies, langs, strict=True)):
            tf: Counter[str] = Counter()
            for term in analyzer.terms(title, lang):
                tf[term] += title_weight
            for term in analyzer.terms(body, lang):
                tf[term] += 1.0
            lengths[i] = sum(tf.values())
            for term, count in tf.items():
                rows.append(i)
                cols.append(vocab.setdefault(term, len(vocab)))
                vals.append(count)
        n = len(bodies)
        tf_m = sparse.csc_matrix((np.asarray(vals, np.float32), (rows, cols)), shape=(n, max(len(vocab), 1)))
        df = np.diff(tf_m.indptr).astype(np.float32)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        avgdl = float(lengths.mean()) if n else 1.0
        norm = k1 * (1 - b + b * lengths / max(avgdl, 1e-6))
        tf_coo = tf_m.tocoo()
        w = tf_coo.data * (k1 + 1) / (tf_coo.data + norm[tf_coo.row]) * idf[tf_coo.col]
        weights = sparse.csc_matrix((w.astype(np.float32), (tf_coo.row, tf_coo.col)), shape=tf_m.shape)
        return cls(weights, vocab, idf, analyzer, k1)

    @property
    def size(self) -> int:
        return self.weights.shape[0]

    def query_terms(self, query: str, lang: str) -> list[int]:
        """Known term ids of the query (unknown terms cannot score)."""
        return [self.vocab[t] for t in self.analyzer.terms(query, lang) if t in self.vocab]

    def scores(self, query: str, lang: str) -> tuple[np.ndarray, float]:
        """BM25 score of every passage and the query's upper bound (sum of idf·(k1+1) over its terms).

        score / bound is a 0..1 "lexical coverage" that means the same for short and long queries.
        """
        all_terms = self.analyzer.terms(query, lang)
        ids = [self.vocab[t] for t in all_terms if t in self.vocab]
        n_unknown = len(all_terms) - len(ids)
        # unknown terms count in the bound with a typical idf, so a question made of words the knowledge base
        # never uses has low coverage, while one typo or slang word in a good question costs only a little
        typical_idf = float(np.median(self.idf)) if len(self.idf) else 1.0
        bound = float(sum(self.idf[i] for i in ids) + n_unknown * typical_idf) * (self.k1 + 1)
        if not ids:
            return np.zeros(self.size, np.float32), max(bound, 1e-6)
        sub = self.weights[:, ids]
        return np.asarray(sub.sum(axis=1)).ravel().astype(np.float32), max(bound, 1e-6)

    def save(self, directory: Path) -> None:
        sparse.save_npz(directory / "bm25_weights.npz", self.weights.tocsc())
        np.save(directory / "bm25_idf.npy", self.idf)
        terms = [""] * len(self.vocab)
        for t, i in self.vocab.items():
            terms[i] = t
        (directory / "bm25_vocab.json").write_text(
            json.dumps({"k1": self.k1, "normalizer": self.analyzer.normalizer,
                        "stopwords": self.analyzer.stopwords, "terms": terms}, ensure_ascii=False),
            encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        meta = json.loads((directory / "bm25_vocab.json").read_text(encoding="utf-8"))
        weights = sparse.load_npz(directory / "bm25_weights.npz").tocsc()
        vocab = {t: i for i, t in enumerate(meta["terms"])}
        return cls(weights, vocab, np.load(directory / "bm25_idf.npy"),
                   Analyzer(meta["normalizer"], meta["stopwords"]), float(meta["k1"]))
