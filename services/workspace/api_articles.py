"""Lead workspace: the articles area's routes (``/api/lead/articles``).

List, read, save (with the version the lead loaded: a stale save is 409), publish, unpublish, and a preview
rendered by the help center's own renderer. A change to a published article re-indexes the knowledge base
(incrementally: only changed articles are embedded, off the event loop) and refreshes the help center, so the
bot and ``/help`` use it at once. Every write is audited with before/after.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.requests import HTTPConnection

from services.deps import DatabaseDep
from services.helpcenter.articles import render_markdown
from services.workspace import audit
from services.workspace.articles import ArticleError, ArticleFiles, Outcome
from services.workspace.deps import SAME_ORIGIN, LeadDep, articles_dir
from textnorm.frontmatter import DRAFT, MAX_ARTICLE_BYTES, PUBLISHED, FrontMatterError, split_front_matter

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/lead/articles", tags=["lead workspace"], dependencies=SAME_ORIGIN)
# Characters, generous over the byte limit (the byte limit is checked on the encoded text).
MAX_TEXT_CHARS = MAX_ARTICLE_BYTES


class SaveIn(BaseModel):
    text: str = Field(max_length=MAX_TEXT_CHARS, description="the whole file: front matter and Markdown body")
    version: str = Field(min_length=1, max_length=128, description="the version received when the file was loaded")


class StatusIn(BaseModel):
    version: str | None = Field(None, max_length=128, description="optional: refuse if the file changed since")


class PreviewIn(BaseModel):
    text: str = Field(max_length=MAX_TEXT_CHARS)


def refused(error: ArticleError) -> JSONResponse:
    return JSONResponse({"detail": error.message, "problems": error.problems}, status_code=error.status_code)


def article_files(conn: HTTPConnection) -> ArticleFiles:
    """The articles the search indexes (retrieval.yml ``articles_dir``): the one folder pages and bot read."""
    return ArticleFiles(articles_dir(conn))


ArticlesDep = Annotated[ArticleFiles, Depends(article_files)]


async def refresh_live(app: FastAPI) -> dict[str, Any]:
    """Re-index (only changed articles are embedded) and re-read the help center; never raises.

    Why it cannot fail the request: the file is already written (the source of truth); a failed re-index is
    reported to the lead, and the next change or a restart picks the file up."""
    out: dict[str, Any] = {}
    state = getattr(app.state, "search", None)
    if state is not None:
        started = time.monotonic()
        try:
            result = await asyncio.to_thread(state.rebuild)
            out["index"] = {"version": result.index_dir.name, "seconds": round(time.monotonic() - started, 2),
                            "passages_embedded": result.stats.get("passages_embedded")}
        except Exception as error:  # noqa: BLE001 - reported to the lead, logged with its traceback
            log.exception("re-indexing after an article change failed")
            out["index_error"] = f"o artigo foi gravado, mas a busca não foi atualizada: {error}"
    store = getattr(app.state, "helpcenter", None)
    if store is not None:
        await asyncio.to_thread(store.refresh, True)
    return out


def record(db: Any, lead: Any, action: str, outcome: Outcome, before_status: str, after_status: str) -> None:
    with db.session() as s:
        for change in outcome.changes:
            before, after = change.audit(before_status, after_status)
            audit.add(s, action, lead, change.target, before, after)


def outcome_body(outcome: Outcome, live: dict[str, Any]) -> dict[str, Any]:
    return {"changed": [{"lang": c.lang, "id": c.id, "version": c.version} for c in outcome.changes],
            "version": outcome.changes[0].version, "remarks": outcome.remarks, **live}


@router.get("")
async def list_articles(lead: LeadDep, articles: ArticlesDep) -> dict[str, Any]:
    return {"articles": await asyncio.to_thread(articles.list)}


@router.post("/preview")
def preview(body: PreviewIn, lead: LeadDep) -> dict[str, Any]:
    """The body rendered exactly as the help center renders it (raw HTML shown as text, unsafe links dropped)."""
    try:
        front = split_front_matter(body.text, "preview")
        text, problem, title = front.body, None, front.meta.get("title")
    except FrontMatterError as error:
        text, problem, title = body.text, error.problem, None
    return {"html": render_markdown(text), "title": str(title) if title else None, "problem": problem}


@router.get("/{lang}/{article_id}", response_model=None)
async def read_article(lang: str, article_id: str, lead: LeadDep, articles: ArticlesDep) -> Any:
    try:
        return (await asyncio.to_thread(articles.read, lang, article_id)).detail()
    except ArticleError as error:
        return refused(error)


@router.put("/{lang}/{article_id}", response_model=None)
async def save_article(lang: str, article_id: str, body: SaveIn, request: Request, db: DatabaseDep,
                       lead: LeadDep, articles: ArticlesDep) -> Any:
    try:
        outcome = await asyncio.to_thread(articles.save, lang, article_id, body.text, body.version)
    except ArticleError as error:
        return refused(error)
    status = PUBLISHED if outcome.live else DRAFT
    await asyncio.to_thread(record, db, lead, "article_saved", outcome, status, status)
    live = await refresh_live(request.app) if outcome.live else {}
    return outcome_body(outcome, live)


async def _set_status(request: Request, db: Any, lead: Any, articles: ArticleFiles, lang: str, article_id: str,
                      status: str, version: str | None) -> Any:
    try:
        outcome = await asyncio.to_thread(articles.set_status, lang, article_id, status, version)
    except ArticleError as error:
        return refused(error)
    action, before = ("article_published", DRAFT) if status == PUBLISHED else ("article_unpublished", PUBLISHED)
    await asyncio.to_thread(record, db, lead, action, outcome, before, status)
    return outcome_body(outcome, await refresh_live(request.app))


@router.post("/{lang}/{article_id}/publish", response_model=None)
async def publish(lang: str, article_id: str, request: Request, db: DatabaseDep, lead: LeadDep,
                  articles: ArticlesDep, body: StatusIn | None = None) -> Any:
    """Draft → published (with its draft translation), if the checker accepts the folder after the change."""
    return await _set_status(request, db, lead, articles, lang, article_id, PUBLISHED, body.version if body else None)


@router.post("/{lang}/{article_id}/unpublish", response_model=None)
async def unpublish(lang: str, article_id: str, request: Request, db: DatabaseDep, lead: LeadDep,
                    articles: ArticlesDep, body: StatusIn | None = None) -> Any:
    """Published → draft (with its translation): out of the search and the help center at once."""
    return await _set_status(request, db, lead, articles, lang, article_id, DRAFT, body.version if body else None)

