"""What leads decided about inbox messages (``workspace_curation``): who, when, which text, which intent, which file.

Why a table and not only the audit log: the inbox must not show a decided message again (one indexed lookup
by event id), the "changes" list and the git round need the examples not yet committed, and a unique event id
makes "two leads labelled the same message" a refusal instead of two conflicting examples.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.db import Base, Database, iso, utcnow

ADDED, IGNORED, UNCHANGED = "added", "ignored", "unchanged"


class CurationRecord(Base):
    """One decision on one customer message (``event_id``), or an example added without one."""

    __tablename__ = "workspace_curation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    lead_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    lead_name: Mapped[str] = mapped_column(String(120), default="")
    event_id: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    conversation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")  # the example as written (no personal data)
    intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    language: Mapped[str | None] = mapped_column(String(5), nullable=True)
    file: Mapped[str | None] = mapped_column(String(300), nullable=True)
    commit: Mapped[str | None] = mapped_column(String(40), nullable=True)
    branch: Mapped[str | None] = mapped_column(String(200), nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "created_at": iso(self.created_at), "lead_id": self.lead_id,
                "lead_name": self.lead_name, "event_id": self.event_id, "conversation_id": self.conversation_id,
                "action": self.action, "text": self.text, "intent": self.intent, "language": self.language,
                "file": self.file, "commit": self.commit, "branch": self.branch}


def decided_event_ids(session: Session, event_ids: Iterable[int] | None = None) -> set[int]:
    """Event ids a lead already decided (all of them, or those among ``event_ids``)."""
    query = select(CurationRecord.event_id).where(CurationRecord.event_id.is_not(None))
    if event_ids is not None:
        ids = list(event_ids)
        if not ids:
            return set()
        query = query.where(CurationRecord.event_id.in_(ids))
    return {i for i in session.scalars(query) if i is not None}


def add(session: Session, lead: Any, action: str, *, event_id: int | None, conversation_id: str | None,
        text: str, intent: str | None, language: str | None, file: str | None) -> CurationRecord:
    record = CurationRecord(created_at=utcnow(), lead_id=getattr(lead, "id", None),
                            lead_name=getattr(lead, "name", "") or "", event_id=event_id,
                            conversation_id=conversation_id, action=action, text=text, intent=intent,
                            language=language, file=file)
    session.add(record)
    return record


def recent(db: Database, limit: int = 100) -> list[dict[str, Any]]:
    """Latest first."""
    with db.session() as s:
        rows = s.scalars(select(CurationRecord).order_by(CurationRecord.id.desc()).limit(max(1, min(limit, 1000))))
        return [r.to_dict() for r in rows]


def uncommitted(session: Session, lead_id: int | None) -> list[CurationRecord]:
    """This lead's examples not yet in a git round, oldest first."""
    return list(session.scalars(select(CurationRecord).where(
        CurationRecord.action == ADDED, CurationRecord.commit.is_(None), CurationRecord.lead_id == lead_id)
        .order_by(CurationRecord.id)))


def mark_committed(session: Session, ids: list[int], commit: str, branch: str) -> None:
    if ids:
        session.execute(update(CurationRecord).where(CurationRecord.id.in_(ids)).values(commit=commit, branch=branch))
