"""Tables of the chat gateway: conversations, their messages, CSAT answers and contact requests.

The conversation record itself (with its one ``status``) belongs to :mod:`services.conversations`; it is
re-exported here because every message references it. Messages carry a per-conversation ``seq`` so a client can ask
"everything after seq N" after a reconnect, and an optional ``client_message_id`` that is unique per
conversation, which is what makes re-sending a queued message idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.conversations.models import Conversation, iso, utcnow
from services.db import Base

__all__ = ["ROLES", "ChatMessage", "ContactRequest", "Conversation", "utcnow"]

ROLES = ("customer", "bot", "agent", "system")


class ChatMessage(Base):
    """One message of a conversation, in the order given by ``seq``."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_chat_messages_seq"),
        UniqueConstraint("conversation_id", "client_message_id", name="uq_chat_messages_client_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("chat_conversations.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    client_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape sent on both WebSockets (``{"type": "message", "message": ...}``)."""
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "seq": self.seq,
            "role": self.role,
            "text": self.text,
            "payload": self.payload or {},
            "author_name": self.author_name,
            "client_message_id": self.client_message_id,
            "created_at": iso(self.created_at),
        }


class ContactRequest(Base):
    """Contact details a customer left when the assistant or the team was unavailable."""

    __tablename__ = "chat_contact_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("chat_conversations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

