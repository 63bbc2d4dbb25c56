"""Hybrid search over a loaded index: dense (FAISS) + BM25, fused, language-preferring, calibrated.

A query is searched inside one passage language at a time. The customer's language comes first; the
other language is searched only when nothing answerable exists in theirs (fallback). The dense model
for a language group follows ``query_routes`` (e.g. MiniLM for English queries over English passages)
and otherwise the multilingual default encoder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from retrieval.calibration import Calibrator
from retrieval.config import Settings
from retrieval.encoders import Encoder
from retrieval.index import IndexData, check_encoders
from retrieval.ingest import Passage
from retrieval.langdetect import detect_language

METHODS = ("bm25", "dense", "hybrid")


@dataclass
class Hit:
    passage: Passage
    score: float  # fused score used for ranking (relative to this query's candidates)
    dense: float  # cosine similarity
    lexical: float  # BM25 score / the query's maximum possible BM25 score


@dataclass
class GroupResult:
    """Ranked candidates of one passage language for one query."""

    lang: str
    encoder: str
    idx: np.ndarray  # passage indices, best first
    fused: np.ndarray
    dense: np.ndarray
    lexical: np.ndarray
    features: dict[str, float]
    probability: float


@dataclass
class SearchResult:
    query: str
    lang: str  # the customer's language (given or detected)
    results_lang: str | None  # language of the returned passages
    fallback: bool  # True when the passages are in the other language
    answerable: bool
    probability: float
    hits: list[Hit] = field(default_factory=list)
    index_version: str = ""


def _minmax(x: np.ndarray) -> np.ndarray:
    if len(x) == 0:
        return x
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.ones_like(x)


def _zscore(x: np.ndarray) -> np.ndarray:
    if len(x) == 0:
        return x
    sd = float(x.std())
    return (x - float(x.mean())) / sd if sd > 0 else np.zeros_like(x)


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(-x, kind="stable")
    r = np.empty(len(x), np.float32)
    r[order] = np.arange(1, len(x) + 1)
    return r


class Searcher:
    """Stateless over an immutable :class:`IndexData`; safe to call from many threads."""

    def __init__(self, data: IndexData, encoders: dict[str, Encoder], settings: Settings,
                 calibrator: Calibrator | None = None) -> None:
        check_encoders(data.manifest, encoders, data.directory)
        self.data = data
        self.encoders = encoders
        self.settings = settings
        self.calibrator = calibrator or Calibrator.load(settings.calibration_file)
        self.langs = sorted(set(data.langs.tolist()))
        fcfg = settings["fusion"]
        self.method = str(fcfg["method"])
        self.dense_weight = float(fcfg["dense_weight"])
        # a stronger dense model deserves more weight: optional per-encoder override of dense_weight
        self.encoder_weights = {k: float(v) for k, v in (fcfg.get("dense_weight_by_encoder") or {}).items()}
        self.rrf_k = float(fcfg["rrf_k"])
        self.normalization = str(fcfg.get("normalization", "minmax"))
        self.candidates = int(fcfg["candidates"])
        self.threshold = float(settings["answerable"]["threshold"])

    # ------------------------------------------------------------ one language group

    def encoder_key(self, query_lang: str, group_lang: str) -> str:
        key = (self.settings["query_routes"] or {}).get(query_lang)
        if key and key in self.encoders:
            langs = self.encoders[key].languages
            if langs is None or group_lang in langs:
                return key
        return "default"

    def score_group(self, query: str, query_lang: str, group_lang: str, method: str = "hybrid",
                    qvecs: dict[str, np.ndarray] | None = None, verdict: bool = True,
                    exclude: set[str] | None = None) -> GroupResult | None:
        """Rank passages of ``group_lang`` for ``query`` with ``method`` (bm25, dense or hybrid).

        ``verdict=False`` skips the calibrated probability, so bm25-only ranking needs no embedding.
        ``exclude`` (article keys) hides articles as if deleted: calibration makes its negatives this way.
        """
        data = self.data
        key = self.encoder_key(query_lang, group_lang)
        entry = data.dense.get((key, group_lang))
        members = data.group(group_lang)
        if len(members) == 0 or entry is None:
            return None
        qvecs = {} if qvecs is None else qvecs
        c = self.candidates
        cand: list[np.ndarray] = []
        need_dense = method in ("dense", "hybrid")
        need_lex = method in ("bm25", "hybrid")
        bm, bound = data.bm25.scores(query, query_lang)  # type: ignore[union-attr]
        msc = bm[members]
        top = members[np.argsort(-msc, kind="stable")[:c]] if len(members) else members
        lex_cand = top[bm[top] > 0]
        if exclude:
            keep = self._keep_mask(exclude)
            lex_cand = lex_cand[keep[lex_cand]]
        if not need_dense and not verdict:
            order = np.lexsort((lex_cand, -bm[lex_cand]))
            lx = bm[lex_cand][order] / bound
            return GroupResult(group_lang, key, lex_cand[order], lx, np.zeros_like(lx), lx, {}, float("nan"))
        if key not in qvecs:
            qvecs[key] = self.encoders[key].encode_queries([query])[0]
        qv = qvecs[key]
        index, fa_members = entry
        _, pos = index.search(qv[None, :].astype(np.float32), min(c, len(fa_members)))
        dense_cand = fa_members[pos[0][pos[0] >= 0]]
        if exclude:
            dense_cand = dense_cand[keep[dense_cand]]
        if need_dense:
            cand.append(dense_cand)
        if need_lex:
            cand.append(lex_cand)
        idx = np.unique(np.concatenate(cand)) if cand else np.zeros(0, np.int64)
        feat_idx = np.unique(np.concatenate([dense_cand, lex_cand]))
        vecs = data.vectors[key]
        rows = data.rows[key]
        dense_all = vecs[rows[feat_idx]] @ qv
        dense_map = dict(zip(feat_idx.tolist(), dense_all.tolist(), strict=True))
        dense = np.array([dense_map[i] for i in idx.tolist()], np.float32)
        lex = bm[idx] / bound
        if method == "dense":
            fused = dense
        elif method == "bm25":
            fused = lex
        elif self.method == "rrf":
            w = self.encoder_weights.get(key, self.dense_weight)
            fused = w / (self.rrf_k + _ranks(dense)) + (1 - w) / (self.rrf_k + _ranks(lex))
        else:
            w = self.encoder_weights.get(key, self.dense_weight)
            norm = _zscore if self.normalization == "zscore" else _minmax
            fused = w * norm(dense) + (1 - w) * norm(lex)
        order = np.lexsort((idx, -fused))
        feats = self._features(feat_idx, dense_all, float(bm[feat_idx].max(initial=0.0)) / bound)
        prob = self.calibrator.prob(self.encoders[key].name, feats)
        return GroupResult(group_lang, key, idx[order], fused[order], dense[order], lex[order], feats, prob)

    def _keep_mask(self, exclude: set[str]) -> np.ndarray:
        return np.array([p.article_key not in exclude for p in self.data.passages], bool)

    def _features(self, idx: np.ndarray, dense: np.ndarray, lex_cov: float) -> dict[str, float]:
        best: dict[str, float] = {}
        for i, d in zip(idx.tolist(), dense.tolist(), strict=True):
            art = self.data.passages[i].article_key
            if d > best.get(art, -2.0):
                best[art] = d
        tops = sorted(best.values(), reverse=True) + [0.0, 0.0]
        return {"dense_top": float(tops[0]), "dense_margin": float(tops[0] - tops[1]), "lex_cov": float(lex_cov)}

    # ------------------------------------------------------------ public search

    def search(self, query: str, lang: str = "auto", k: int = 5, per_article: int = 1) -> SearchResult:
        """Top ``k`` passages (at most ``per_article`` per article) and the answerable verdict."""
        query = " ".join(query.split())
        default = str(self.settings["language"]["default"])
        qlang = detect_language(query, default) if lang == "auto" else lang
        qvecs: dict[str, np.ndarray] = {}
        order = [qlang] + [g for g in self.langs if g != qlang]
        first = self.score_group(query, qlang, qlang, "hybrid", qvecs) if qlang in self.langs else None
        chosen = first
        if (first is None or first.probability < self.threshold) and self.settings["language"]["fallback"]:
            for other in order[1:]:
                alt = self.score_group(query, qlang, other, "hybrid", qvecs)
                if alt is not None and alt.probability >= self.threshold and (
                        first is None or alt.probability > first.probability):
                    chosen = alt
                    break
            if chosen is None:
                chosen = next((g for g in (self.score_group(query, qlang, o, "hybrid", qvecs) for o in order[1:])
                               if g is not None), None)
        if chosen is None:
            return SearchResult(query, qlang, None, False, False, 0.0, [], self.data.version)
        hits: list[Hit] = []
        per: dict[str, int] = {}
        for i, f, d, lx in zip(chosen.idx.tolist(), chosen.fused.tolist(), chosen.dense.tolist(),
                               chosen.lexical.tolist(), strict=True):
            p = self.data.passages[i]
            if per.get(p.article_key, 0) >= per_article:
                continue
            per[p.article_key] = per.get(p.article_key, 0) + 1
            hits.append(Hit(p, float(f), float(d), float(lx)))
            if len(hits) >= k:
                break
        return SearchResult(query, qlang, chosen.lang, chosen.lang != qlang, chosen.probability >= self.threshold,
                            float(chosen.probability), hits, self.data.version)

    def rank_documents(self, query: str, lang: str, method: str, top: int = 10) -> list[str]:
        """Article keys ranked by the best passage score (benchmarks rank documents, not passages)."""
        res = self.score_group(query, lang, lang, method, verdict=False)
        if res is None:
            return []
        seen: list[str] = []
        for i in res.idx.tolist():
            key = self.data.passages[i].article_key
            if key not in seen:
                seen.append(key)
                if len(seen) >= top:
                    break
        return seen
