"""Tables of the conversation lifecycle: the conversation (with its one ``status``) and its event log.

The ``chat_conversations`` table keeps its name (the chat gateway's messages reference it); its ``status``
column is written only by :meth:`services.conversations.lifecycle.Tx.set_status`. ``conversation_events`` is
append-only: rows are inserted by :meth:`~services.conversations.lifecycle.Tx.append` and never updated; an
ORM guard refuses updates so a later feature cannot quietly rewrite history (erasing a customer's data deletes
the conversation, and its events with it, by the foreign key's cascade).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from services.conversations.status import BOT
from services.db import Base, iso, utcnow


class Conversation(Base):
    """One customer conversation; ``id`` is also the Rasa sender id (random, unguessable)."""

    __tablename__ = "chat_conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(5), default="pt")
    status: Mapped[str] = mapped_column(String(16), default=BOT)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    csat_rating: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    csat_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    csat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Who the customer is (services/chat/identity.py): the host site's customer id when it signed one, and the
    # browser's stable visitor id otherwise too. Retention and repeat contact link conversations by these;
    # the name is kept only to greet the customer (erasing the conversation erases it).
    customer_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    customer_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    visitor_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)

    @property
    def customer_key(self) -> str | None:
        """The one key for "the same customer": the signed customer id, else the visitor id (prefixed apart)."""
        if self.customer_id:
            return f"c:{self.customer_id}"
        return f"v:{self.visitor_id}" if self.visitor_id else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "status": self.status,
            "last_seq": self.last_seq,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "csat_rating": self.csat_rating,
            "csat_comment": self.csat_comment,
        }


class ConversationEvent(Base):
    """One thing that happened in a conversation (see :mod:`services.conversations.kinds`)."""

    __tablename__ = "conversation_events"
    __table_args__ = (
        Index("ix_conversation_events_conv", "conversation_id", "id"),
        Index("ix_conversation_events_kind_time", "kind", "created_at"),
        Index("ix_conversation_events_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("chat_conversations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    team: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    handoff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "conversation_id": self.conversation_id, "kind": self.kind, "actor": self.actor,
                "agent_id": self.agent_id, "team": self.team, "handoff_id": self.handoff_id,
                "status": self.status, "data": self.data or {}, "created_at": iso(self.created_at)}


@event.listens_for(ConversationEvent, "before_update")
def _refuse_update(_mapper: Any, _connection: Any, target: ConversationEvent) -> None:
    raise RuntimeError(f"conversation events are append-only (tried to update event {target.id})")
