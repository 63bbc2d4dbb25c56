"""Lead workspace: the gaps area's routes (``/api/lead/gaps``).

``GET`` the ranked clusters of questions the knowledge base did not answer; ``POST /{id}/draft`` writes draft
articles from one cluster (audited ``draft_created``). The report is computed on request, off the event loop,
with the encoder the search already holds (``app.state.search``): no second copy of the model in memory.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from services.deps import DatabaseDep
from services.workspace import audit
from services.workspace.articles import ArticleError, ArticleFiles
from services.workspace.deps import SAME_ORIGIN, LeadDep, WorkspaceConfigDep, articles_dir
from services.workspace.drafts import create_drafts, parse_request
from services.workspace.gaps import Gap, GapFinder

router = APIRouter(prefix="/api/lead/gaps", tags=["lead workspace"], dependencies=SAME_ORIGIN)


def finder(request: Request) -> GapFinder:
    """The app's gap finder, made on first use with the search's multilingual encoder."""
    app = request.app
    found = getattr(app.state, "gap_finder", None)
    if found is None:
        state = getattr(app.state, "search", None)
        if state is None:
            raise ArticleError("the knowledge-base search is not loaded yet; try again in a minute")
        found = app.state.gap_finder = GapFinder(state.encoders["default"].encode_queries)
    return found


def _searcher(request: Request) -> Any:
    state = getattr(request.app.state, "search", None)
    try:
        return state.searcher if state is not None else None
    except Exception:  # noqa: BLE001 - no index loaded: the report still lists the gaps, without closest article
        return None


async def _report(request: Request, db: Any, config: Any) -> tuple[list[Gap], dict[str, Any]]:
    return await asyncio.to_thread(finder(request).report, db, config.file.gaps, _searcher(request))


@router.get("", response_model=None)
async def list_gaps(request: Request, db: DatabaseDep, lead: LeadDep, config: WorkspaceConfigDep) -> Any:
    try:
        gaps, window = await _report(request, db, config)
    except ArticleError as error:
        return JSONResponse({"detail": error.message}, status_code=503)
    return {"gaps": [g.to_dict() for g in gaps], "window": window}


@router.post("/{gap_id}/draft", response_model=None)
async def draft_from_gap(gap_id: str, request: Request, db: DatabaseDep, lead: LeadDep,
                         config: WorkspaceConfigDep, body: Annotated[dict[str, Any], Body()]) -> Any:
    """Draft article(s) from one gap: ``{"langs": ["pt", "en"], "titles": {...}?, "category": ...?}``."""
    try:
        wanted = parse_request(body)
        gap = finder(request).find(gap_id[:40])
        if gap is None:  # the page is older than this process's last report: compute it again
            await _report(request, db, config)
            gap = finder(request).find(gap_id[:40])
        if gap is None:
            return JSONResponse({"detail": "this gap is no longer in the report (new questions regrouped it); "
                                           "reload the gaps page"}, status_code=404)
        files = ArticleFiles(articles_dir(request))
        changes = await asyncio.to_thread(create_drafts, files, db, gap, wanted)
    except ArticleError as error:
        return JSONResponse({"detail": error.message, "problems": error.problems}, status_code=error.status_code)
    summary = gap.to_dict()
    await asyncio.to_thread(audit.record, db, "draft_created", lead, f"gap:{gap.id}",
                            {"gap": {k: summary[k] for k in ("title", "customers", "questions", "examples")}},
                            {"files": [f"{c.lang}/{c.id}.md" for c in changes], "texts": [c.after for c in changes]})
    return {"drafts": [{"lang": c.lang, "id": c.id, "version": c.version} for c in changes]}
