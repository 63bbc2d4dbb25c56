"""Lead workspace: the review area's routes (``/api/lead/review``).

``GET  conversations``                 filters as query parameters (see :data:`services.workspace.review.PARAMS`):
                                       ``from``/``to`` (AAAA-MM-DD, the lead's days), ``language``, ``team``,
                                       ``intent``, ``confidence_min``/``confidence_max`` (0-1, on the same bot
                                       reading as ``intent``), ``fallback``, ``escalated``, ``reason``,
                                       ``kb_not_helped``, ``csat_max`` (1-5), ``tag`` (repeatable, all required),
                                       ``reviewed``, ``q`` (text the customer wrote), ``page``, ``per_page``.
                                       A bad value or an unknown name answers 422 with a message for the lead.
``GET  conversations/{id}``            every turn in order; recorded as a transcript view.
``PUT  conversations/{id}/tags``       ``{"tags": [...]}`` replaces the tags (normalised); audited.
``POST conversations/{id}/reviewed``   ``{"reviewed": true|false}``; audited.
``GET  facets``                        the filter form's choices.
"""

from __future__ import annotations

import asyncio
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, StrictBool

from services.deps import DatabaseDep
from services.workspace import review
from services.workspace.deps import SAME_ORIGIN, LeadDep, WorkspaceConfigDep

router = APIRouter(prefix="/api/lead/review", tags=["lead workspace"], dependencies=SAME_ORIGIN)
ConversationId = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class TagsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tags: list[Any]


class ReviewedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reviewed: StrictBool


def _fail(error: review.ReviewError) -> HTTPException:
    return HTTPException(status_code=error.status, detail=str(error))


@router.get("/conversations")
async def conversations(request: Request, db: DatabaseDep, lead: LeadDep, config: WorkspaceConfigDep
                        ) -> dict[str, Any]:
    """One page of past conversations matching the filters, newest first."""
    params = {key: request.query_params.getlist(key) for key in request.query_params}
    try:
        filters = review.parse_filters(params, config.file.review.page_size)
    except review.ReviewError as error:
        raise _fail(error) from error
    return await asyncio.to_thread(review.search, db, filters, ZoneInfo(config.file.review.timezone),
                                   config.file.inbox.low_confidence)


@router.get("/facets")
async def facets(db: DatabaseDep, lead: LeadDep) -> dict[str, Any]:
    return await asyncio.to_thread(review.facets, db)


@router.get("/conversations/{conversation_id}")
async def conversation(db: DatabaseDep, lead: LeadDep, config: WorkspaceConfigDep,
                       conversation_id: str = ConversationId) -> dict[str, Any]:
    """Every turn of one conversation, with its tags and review mark."""
    try:
        return await asyncio.to_thread(review.detail, db, conversation_id, lead, config.file.inbox.low_confidence)
    except review.ReviewError as error:
        raise _fail(error) from error


@router.put("/conversations/{conversation_id}/tags")
async def put_tags(body: TagsIn, db: DatabaseDep, lead: LeadDep, conversation_id: str = ConversationId
                   ) -> dict[str, Any]:
    try:
        tags = await asyncio.to_thread(review.set_tags, db, conversation_id, body.tags, lead)
    except review.ReviewError as error:
        raise _fail(error) from error
    return {"tags": tags}


@router.post("/conversations/{conversation_id}/reviewed")
async def post_reviewed(body: ReviewedIn, db: DatabaseDep, lead: LeadDep, conversation_id: str = ConversationId
                        ) -> dict[str, Any]:
    try:
        mark = await asyncio.to_thread(review.set_reviewed, db, conversation_id, body.reviewed, lead)
    except review.ReviewError as error:
        raise _fail(error) from error
    return {"reviewed": mark}
