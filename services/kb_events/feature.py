"""HTTP side of the knowledge-base events: the action server records, leads read per-article figures."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import case, func, select

from services.deps import DatabaseDep, SessionDep
from services.internal_auth import require_internal_token
from services.kb_events.models import KbEvent

router = APIRouter(prefix="/api/kb", tags=["knowledge-base events"])


class KbEventIn(BaseModel):
    conversation_id: str = Field(min_length=1, max_length=128)
    kind: Literal["answer", "no_answer", "link", "feedback"]
    query: str | None = Field(default=None, max_length=500)
    article_id: str | None = Field(default=None, max_length=120)
    intent: str | None = Field(default=None, max_length=64)
    language: Literal["pt", "en"] | None = None
    score: float | None = None
    probability: float | None = None
    helped: bool | None = None


class ArticleStats(BaseModel):
    article_id: str
    shown: int
    helped: int
    not_helped: int


class KbStats(BaseModel):
    answers: int
    no_answer: int
    feedback_helped: int
    feedback_not_helped: int
    articles: list[ArticleStats]


@router.post("/events", status_code=201, dependencies=[Depends(require_internal_token)])
def record(event: KbEventIn, session: SessionDep) -> dict[str, int]:
    """Store one event (called by the action server)."""
    row = KbEvent(**event.model_dump())
    session.add(row)
    session.flush()
    return {"id": row.id}


@router.get("/stats", response_model=KbStats, dependencies=[Depends(require_internal_token)])
def stats(db: DatabaseDep) -> KbStats:
    """Totals and per-article figures: how often each article was shown and whether it helped."""
    with db.session() as session:
        def count(kind: str, helped: bool | None = None) -> int:
            query = select(func.count()).select_from(KbEvent).where(KbEvent.kind == kind)
            if helped is not None:
                query = query.where(KbEvent.helped.is_(helped))
            return session.scalar(query) or 0

        shown = func.sum(case((KbEvent.kind.in_(["answer", "link"]), 1), else_=0))
        helped = func.sum(case(((KbEvent.kind == "feedback") & KbEvent.helped.is_(True), 1), else_=0))
        not_helped = func.sum(case(((KbEvent.kind == "feedback") & KbEvent.helped.is_(False), 1), else_=0))
        rows = session.execute(
            select(KbEvent.article_id, shown, helped, not_helped)
            .where(KbEvent.article_id.is_not(None)).group_by(KbEvent.article_id).order_by(shown.desc())
        ).all()
        return KbStats(
            answers=count("answer"), no_answer=count("no_answer"),
            feedback_helped=count("feedback", True), feedback_not_helped=count("feedback", False),
            articles=[ArticleStats(article_id=r[0], shown=r[1] or 0, helped=r[2] or 0, not_helped=r[3] or 0)
                      for r in rows],
        )


def register(app: FastAPI) -> None:
    app.include_router(router)
