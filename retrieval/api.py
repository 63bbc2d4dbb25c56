"""``GET /api/search`` — knowledge-base search for the bot's fallback and the help center.

The services app owns the state: call :func:`install` (or set ``app.state.search`` to a
:class:`~retrieval.service.SearchState`) at start-up and include :data:`router`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from retrieval.search import SearchResult
from retrieval.service import SearchState
from retrieval.snippets import snippet

router = APIRouter(prefix="/api", tags=["search"])

SNIPPET_CHARS = 300


class PassageOut(BaseModel):
    article_id: str = Field(description="article id from its front matter")
    title: str
    url: str = Field(description="help-center URL, /help/{lang}/{article_id}")
    lang: Literal["pt", "en"]
    category: Literal["service", "support"]
    heading: str = Field(description="section path inside the article, joined by ' › '")
    snippet: str = Field(description=f"start of the passage as plain text, tables as sentences "
                                     f"(at most {SNIPPET_CHARS} characters)")
    score: float = Field(description="fused ranking score, comparable only within one response")
    other_language: bool = Field(description="true when this passage is not in the customer's language `lang`")


class SearchResponse(BaseModel):
    query: str
    lang: Literal["pt", "en"] = Field(description="the customer's language (given, or detected for lang=auto)")
    results_lang: Literal["pt", "en"] | None = Field(description="language of the returned passages")
    fallback: bool = Field(description="true when nothing answerable existed in the customer's language, so "
                                       "the results are in the other language")
    language_note: str | None = Field(
        description="when `fallback`: one sentence in the customer's language saying the article is in the "
                    "other language (the bot can show it before the link); otherwise null")
    answerable: bool = Field(description="calibrated verdict: the knowledge base answers this question")
    probability: float = Field(ge=0, le=1, description="calibrated probability behind `answerable`")
    index_version: str
    results: list[PassageOut]


class ReloadResponse(BaseModel):
    index_version: str


# (customer's language, results' language) -> what the customer reads
LANGUAGE_NOTES = {
    ("pt", "en"): "Não encontrei esse assunto em português; o artigo abaixo está em inglês.",
    ("en", "pt"): "I couldn't find this in English; the article below is in Portuguese.",
}


def language_note(lang: str, results_lang: str | None) -> str | None:
    """The sentence telling the customer the article is in the other language (None when it is not)."""
    if results_lang is None or results_lang == lang:
        return None
    return LANGUAGE_NOTES.get((lang, results_lang))


def to_response(res: SearchResult) -> SearchResponse:
    note = language_note(res.lang, res.results_lang) if res.fallback else None
    return SearchResponse(
        query=res.query, lang=res.lang, results_lang=res.results_lang, fallback=res.fallback,  # type: ignore[arg-type]
        language_note=note,
        answerable=res.answerable, probability=round(res.probability, 4), index_version=res.index_version,
        results=[PassageOut(article_id=h.passage.article_id, title=h.passage.title, url=h.passage.url,
                            lang=h.passage.lang, category=h.passage.category,  # type: ignore[arg-type]
                            heading=h.passage.heading, snippet=snippet(h.passage.text, SNIPPET_CHARS),
                            score=round(h.score, 4), other_language=h.passage.lang != res.lang)
                 for h in res.hits])


def get_state(request: Request) -> SearchState:
    state = getattr(request.app.state, "search", None)
    if state is None:
        raise HTTPException(status_code=503, detail="knowledge-base search is not ready")
    return state


@router.get("/search", response_model=SearchResponse, summary="Search the help-center knowledge base",
            responses={422: {"description": "q empty or longer than 500 characters, k outside 1..20, "
                                            "or lang not pt|en|auto"},
                       503: {"description": "the index is not loaded yet"}})
def search(
    state: Annotated[SearchState, Depends(get_state)],
    q: Annotated[str, Query(min_length=1, max_length=500, description="the customer's question")],
    lang: Annotated[Literal["pt", "en", "auto"], Query(description="customer language; auto detects it")] = "auto",
    k: Annotated[int, Query(ge=1, le=20, description="number of passages (one per article)")] = 5,
) -> SearchResponse:
    """Hybrid (meaning + keyword) search; results prefer the customer's language."""
    if not q.strip() or "\x00" in q:
        raise HTTPException(status_code=422, detail="q must contain text")
    return to_response(state.searcher.search(q, lang=lang, k=k))


def install(app, state: SearchState) -> None:  # type: ignore[no-untyped-def]
    """Attach ``state`` to ``app`` and include the router (what services/app.py needs to do)."""
    app.state.search = state
    app.include_router(router)


def reload_index(state: SearchState) -> ReloadResponse:
    """Reload hook: re-read the live index from disk (after `python -m retrieval ingest`)."""
    return ReloadResponse(index_version=state.reload())
