"""The review area's tables: a lead's tags on a conversation and whether (and by whom) it was reviewed.

Why beside the conversation and not in the event log: the event log is what happened with the customer and is
append-only; a tag is a lead's opinion that changes (the audit log keeps its history with before/after). Both
tables hang off ``chat_conversations`` with ``ON DELETE CASCADE`` and a ``conversation_id`` column, so erasing
a customer's data (services/privacy) removes them with the conversation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base, iso, utcnow


class ReviewTag(Base):
    """One tag on one conversation (tags are normalised by :func:`services.workspace.review.normalise_tag`)."""

    __tablename__ = "review_tags"

    conversation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("chat_conversations.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)
    lead_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ConversationReview(Base):
    """A conversation a lead marked as reviewed (no row: not reviewed)."""

    __tablename__ = "review_marks"

    conversation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("chat_conversations.id", ondelete="CASCADE"), primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lead_name: Mapped[str] = mapped_column(String(120), default="")
    reviewed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {"by_id": self.lead_id, "by": self.lead_name, "at": iso(self.reviewed_at)}
