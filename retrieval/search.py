"""Hybrid search over a loaded index: dense (FAISS) + BM25, fused, language-preferring, calibrated.

A query is searched inside one passage language at a time. The customer's language comes first; the
other language is searched only when nothing answerable exists in theirs (fallback). The dense model
for a language group follows ``query_routes`` (e.g. MiniLM for English queries over English passages)
and otherwise the multilingual default encoder.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from retrieval import fusion
from retrieval.calibration import Calibrator
from retrieval.config import Settings
from retrieval.encoders import Encoder
from retrieval.index import IndexData, check_encoders
from retrieval.ingest import Passage
from retrieval.langdetect import detect_language
from textnorm.informal import standard_spelling

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
    title: np.ndarray | None = None  # cosine between the query and the passage's article title (query-style)


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


_TITLE_CACHE: dict[tuple[str, str, str], np.ndarray] = {}
_TITLE_CACHE_LOCK = threading.Lock()


def _embed_titles(enc: Encoder, titles: list[str]) -> np.ndarray:
    """Titles embedded as queries; kept across index reloads so a rebuild embeds only new titles."""
    keys = [(enc.name, enc.version, t) for t in titles]
    with _TITLE_CACHE_LOCK:
        missing = list(dict.fromkeys(t for k, t in zip(keys, titles, strict=True) if k not in _TITLE_CACHE))
    if missing:
        vecs = enc.encode_queries(missing)
        with _TITLE_CACHE_LOCK:
            for t, v in zip(missing, vecs, strict=True):
                _TITLE_CACHE[(enc.name, enc.version, t)] = np.asarray(v, np.float32)
    if not keys:
        return np.zeros((0, enc.dim), np.float32)
    with _TITLE_CACHE_LOCK:
        return np.stack([_TITLE_CACHE[k] for k in keys])


def boilerplate_mask(passages: list[Passage], share: float = 0.25, minimum: int = 3) -> np.ndarray:
    """1 for passages under a heading that many articles of the same language share ("Ainda precisa de ajuda?").

    Such closing sections are short and mention the topic plus the generic ways to contact support, so they
    outrank the section that answers (the help center's 49 "Ainda precisa de ajuda?" sections made
    "cade meu pedido" land on "Está faltando um item"). The heading is the article's title for passages
    without sections, and a title is never shared by that many articles, so plain documents are unaffected.
    An article made only of such sections keeps them.
    """
    per_lang: dict[str, set[str]] = {}
    heads: dict[tuple[str, str], set[str]] = {}
    for p in passages:
        per_lang.setdefault(p.lang, set()).add(p.article_key)
        if p.heading and p.heading != p.title:
            heads.setdefault((p.lang, p.heading.strip().casefold()), set()).add(p.article_key)
    common = {h for h, arts in heads.items() if len(arts) >= max(minimum, share * len(per_lang[h[0]]))}
    mask = np.array([(p.lang, p.heading.strip().casefold()) in common for p in passages], np.int8)
    has_other: set[str] = {p.article_key for p, m in zip(passages, mask, strict=True) if not m}
    for i, p in enumerate(passages):
        if mask[i] and p.article_key not in has_other:
            mask[i] = 0
    return mask


def _title_distinct(passages: list[Passage]) -> dict[str, float]:
    """Per language: share of articles whose title no other article of that language has."""
    titles: dict[str, dict[str, str]] = {}
    for p in passages:
        titles.setdefault(p.lang, {})[p.article_key] = p.title.strip().casefold()
    out = {}
    for lang, by_art in titles.items():
        counts: dict[str, int] = {}
        for t in by_art.values():
            counts[t] = counts.get(t, 0) + 1
        out[lang] = sum(1 for t in by_art.values() if counts[t] == 1) / max(1, len(by_art))
    return out


MAX_TITLE_ARTICLES = 5000  # above this, embedding every title at load time costs too much: no title signal


@dataclass
class TitleTable:
    """One encoder's title vectors: one row per article, and each passage's row (-1: not covered)."""

    keys: list[str]
    langs: np.ndarray
    vecs: np.ndarray
    passage_rows: np.ndarray


def _title_table(enc: Encoder, passages: list[Passage]) -> TitleTable | None:
    rows: dict[str, int] = {}
    titles: list[str] = []
    langs: list[str] = []
    prow = np.full(len(passages), -1, np.int64)
    for i, p in enumerate(passages):
        if enc.languages is not None and p.lang not in enc.languages:
            continue
        if p.article_key not in rows:
            rows[p.article_key] = len(titles)
            titles.append(p.title)
            langs.append(p.lang)
        prow[i] = rows[p.article_key]
    if not titles or len(titles) > MAX_TITLE_ARTICLES:
        return None
    return TitleTable(list(rows), np.array(langs, dtype=object), _embed_titles(enc, titles), prow)


def _article_rows(passages: list[Passage], searchable: np.ndarray) -> dict[str, np.ndarray]:
    out: dict[str, list[int]] = {}
    for i, p in enumerate(passages):
        if searchable[i]:
            out.setdefault(p.article_key, []).append(i)
    return {k: np.asarray(v, np.int64) for k, v in out.items()}


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
        self.fusion = fusion.FusionConfig.from_settings(fcfg)
        self.candidates = int(fcfg["candidates"])
        self.title_articles = int(fcfg.get("title_candidates", 10))
        self.threshold = float(settings["answerable"]["threshold"])
        self.searchable = boilerplate_mask(data.passages) == 0
        self._article_rows = _article_rows(data.passages, self.searchable)
        self.title_distinct = _title_distinct(data.passages)
        self._title_lock = threading.Lock()
        self._titles: dict[str, TitleTable | None] = {}

    # ------------------------------------------------------------ titles

    def title_table(self, key: str) -> TitleTable | None:
        """Titles embedded *as queries* by encoder ``key`` (computed once; None above ``MAX_TITLE_ARTICLES``).

        A customer's short question usually paraphrases an article's title, so question-to-title similarity
        is a third signal next to question-to-passage (dense) and keywords (BM25).
        """
        if key in self._titles:
            return self._titles[key]
        with self._title_lock:
            if key not in self._titles:
                self._titles[key] = _title_table(self.encoders[key], self.data.passages)
            return self._titles[key]

    def warm(self) -> None:
        """Embed the titles now (the process keeps them across reloads), not during a customer's first search."""
        if self.fusion.method == "adaptive" and self.fusion.title_signal:
            for key in self.encoders:
                self.title_table(key)

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
        members = members[self.searchable[members]]
        msc = bm[members]
        top = members[np.argsort(-msc, kind="stable")[:c]] if len(members) else members
        lex_cand = top[bm[top] > 0]
        keep = self._keep_mask(exclude) if exclude else self.searchable
        lex_cand = lex_cand[keep[lex_cand]]
        if not need_dense and not verdict:
            order = np.lexsort((lex_cand, -bm[lex_cand]))
            lx = bm[lex_cand][order] / bound
            return GroupResult(group_lang, key, lex_cand[order], lx, np.zeros_like(lx), lx, {}, float("nan"))
        if key not in qvecs:
            # The encoder reads standard spelling ("cadê", "você"); keyword search folds accents anyway.
            qvecs[key] = self.encoders[key].encode_queries([standard_spelling(query, query_lang)])[0]
        qv = qvecs[key]
        index, fa_members = entry
        hidden = int((~keep[fa_members]).sum())  # boilerplate / excluded passages still sit in FAISS
        _, pos = index.search(qv[None, :].astype(np.float32), min(c + hidden, len(fa_members)))
        dense_cand = fa_members[pos[0][pos[0] >= 0]]
        dense_cand = dense_cand[keep[dense_cand]][:c]
        table = self.title_table(key) if method == "hybrid" and self.fusion.title_signal else None
        tsims = None
        if table is not None:
            tsims = table.vecs @ qv
            ok = table.langs == group_lang
            if exclude:
                ok &= np.array([k not in exclude for k in table.keys], bool)
            pool = np.flatnonzero(ok)
            n = min(self.title_articles, len(pool))
            if n:
                best = pool[np.argpartition(-tsims[pool], n - 1)[:n]]
                rows_ = [self._article_rows[table.keys[i]] for i in best.tolist() if table.keys[i] in self._article_rows]
                if rows_:
                    cand.append(np.concatenate(rows_))
        if need_dense:
            cand.append(dense_cand)
        if need_lex:
            cand.append(lex_cand)
        idx = np.unique(np.concatenate(cand)) if cand else np.zeros(0, np.int64)
        feat_idx = np.unique(np.concatenate([dense_cand, lex_cand]))
        vecs = data.vectors[key]
        rows = data.rows[key]
        dense_all = vecs[rows[feat_idx]] @ qv
        dense = (vecs[rows[idx]] @ qv).astype(np.float32)
        lex = bm[idx] / bound
        title = None
        if table is not None and tsims is not None:
            trow = table.passage_rows[idx]
            title = np.where(trow >= 0, tsims[np.maximum(trow, 0)], 0.0).astype(np.float32)
        if method == "dense":
            fused = dense
        elif method == "bm25":
            fused = lex
        else:
            fused = fusion.fuse(dense, lex, self.fusion, key, title=title,
                                title_distinct=self.title_distinct.get(group_lang, 1.0))
        order = np.lexsort((idx, -fused))
        feats = self._features(feat_idx, dense_all, float(bm[feat_idx].max(initial=0.0)) / bound)
        prob = self.calibrator.prob(self.encoders[key].name, feats)
        return GroupResult(group_lang, key, idx[order], fused[order], dense[order], lex[order], feats, prob,
                           title[order] if title is not None else None)

    def _keep_mask(self, exclude: set[str]) -> np.ndarray:
        return self.searchable & np.array([p.article_key not in exclude for p in self.data.passages], bool)

    def _features(self, idx: np.ndarray, dense: np.ndarray, lex_cov: float) -> dict[str, float]:
        best: dict[str, float] = {}
        for i, d in zip(idx.tolist(), dense.tolist(), strict=True):
            art = self.data.passages[i].article_key
            if d > best.get(art, -2.0):
                best[art] = d
        tops = sorted(best.values(), reverse=True) + [0.0, 0.0]
        return {"dense_top": float(tops[0]), "dense_margin": float(tops[0] - tops[1]), "lex_cov": float(lex_cov)}

    # ------------------------------------------------------------ public search

    def choose_group(self, query: str, qlang: str, method: str = "hybrid",
                     qvecs: dict[str, np.ndarray] | None = None) -> GroupResult | None:
        """The passage language to answer from: the customer's, unless it has nothing answerable.

        The other language is searched when the customer's has no passages at all or its calibrated verdict
        is "not answerable"; it wins only when it is answerable and more probable (the multilingual encoder
        matches across languages, so a Portuguese question can find an English-only article).
        With ``method="bm25"`` there is no verdict: the other language is used only when the customer's is empty.
        """
        qvecs = {} if qvecs is None else qvecs
        verdict = method != "bm25"
        others = [g for g in self.langs if g != qlang]
        first = self.score_group(query, qlang, qlang, method, qvecs, verdict) if qlang in self.langs else None
        if first is not None and (not verdict or first.probability >= self.threshold):
            return first
        if first is not None and not self.settings["language"]["fallback"]:
            return first
        alts = [g for g in (self.score_group(query, qlang, o, method, qvecs, verdict) for o in others) if g is not None]
        if first is None:
            return max(alts, key=lambda g: g.probability if verdict else 0.0, default=None)
        best = max(alts, key=lambda g: g.probability, default=None)
        if best is not None and best.probability >= self.threshold and best.probability > first.probability:
            return best
        return first

    def search(self, query: str, lang: str = "auto", k: int = 5, per_article: int = 1) -> SearchResult:
        """Top ``k`` passages (at most ``per_article`` per article) and the answerable verdict."""
        query = " ".join(query.split())
        default = str(self.settings["language"]["default"])
        qlang = detect_language(query, default) if lang == "auto" else lang
        chosen = self.choose_group(query, qlang, "hybrid")
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
        """Article keys ranked by the best passage score (benchmarks rank documents, not passages).

        The language is chosen as in :meth:`search`, so a question in a language the corpus lacks is
        ranked over the other language's documents instead of finding nothing.
        """
        res = self.choose_group(query, lang, method)
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
