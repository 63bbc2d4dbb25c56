"""Help-center search: the retrieval layer's hybrid search when it is loaded, else accent-insensitive text.

The retrieval feature puts a ``SearchState`` on ``app.state.search`` (see retrieval/api.py). Until it is
ready (or if it fails), customers still get results from a plain text search over titles, tags and bodies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from retrieval.snippets import snippet
from services.helpcenter.articles import Article, ArticleStore
from textnorm import ALL_STOPWORDS, fold, words

log = logging.getLogger(__name__)
MAX_QUERY_CHARS = 200
SNIPPET_CHARS = 200


@dataclass
class SearchHit:
    article: Article
    snippet: str
    score: float


def _terms(query: str) -> list[str]:
    """Query words worth ranking by: glue words of either language dropped (the customer may write in the
    other language than the page), so "como faço para rastrear" matches on "rastrear"."""
    return [w for w in words(query) if w not in ALL_STOPWORDS and len(w) > 1]


def text_search(store: ArticleStore, query: str, lang: str, limit: int = 10) -> list[SearchHit]:
    """Rank articles by matched query terms (title matches count more); prefixes match ("rastre" → rastreio)."""
    terms = _terms(query)
    if not terms:
        return []
    hits = []
    for article in store.all(lang):
        title = fold(article.title)
        score = 0.0
        for term in terms:
            if term in article.words:
                score += 2.0
            elif len(term) >= 4 and any(w.startswith(term) for w in article.words):
                score += 1.0
            if term in title:
                score += 1.5
        if score:
            hits.append(SearchHit(article, article.summary(), score / len(terms)))
    hits.sort(key=lambda h: -h.score)
    return hits[:limit]


# Calibrated probability below which the nearest articles are unrelated to the query (measured on the real
# help center: nonsense and off-topic questions score about 0.01, a bare keyword like "battery" 0.07). The
# bot needs the stricter ``answerable`` verdict; a search page may show loosely related articles.
MIN_PROBABILITY = 0.04


def retrieval_search(state: Any, store: ArticleStore, query: str, lang: str, limit: int = 10) -> list[SearchHit]:
    """Hybrid search through ``app.state.search``; one hit per article, in the page's language only."""
    result = state.searcher.search(query, lang=lang, k=limit)
    if result.probability < MIN_PROBABILITY:
        return []
    hits: list[SearchHit] = []
    seen: set[str] = set()
    for hit in result.hits:
        passage = hit.passage
        if passage.lang != lang or passage.article_id in seen:
            continue
        article = store.get(lang, passage.article_id)
        if article is None:
            continue
        seen.add(passage.article_id)
        hits.append(SearchHit(article, snippet(str(passage.text), SNIPPET_CHARS), float(hit.score)))
    return hits


def search(state: Any, store: ArticleStore, query: str, lang: str, limit: int = 10) -> tuple[list[SearchHit], str]:
    """``(hits, engine)``: engine is ``retrieval`` or ``text`` (shown nowhere, useful in tests and logs)."""
    query = query.strip()[:MAX_QUERY_CHARS]
    if not query:
        return [], "text"
    if state is not None:
        try:
            hits = retrieval_search(state, store, query, lang, limit)
            if hits:
                return hits, "retrieval"
        except Exception:  # the index may be rebuilding; text search still answers
            log.exception("retrieval search failed; using text search")
    return text_search(store, query, lang, limit), "text"
