"""Tables of the handoff module: agents and their sessions, handoffs (escalations), notes and the webhook outbox.

What happened to a handoff (created, claimed, transferred, resolved...) is in the conversation event log
(``conversation_events`` with its ``handoff_id``), not in a table of its own.

Why an outbox table for webhooks: an event must survive a restart between "the handoff changed" and "the
helpdesk received it", so the delivery is committed in the same transaction as the change and a background
worker (in any app process) sends it with retries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base, iso, utcnow

ROLES = ("agent", "lead")
AGENT_STATUSES = ("online", "away", "offline")
# The escalation's own record (the conversation's status, in services.conversations, says who has the chat):
# queued: waiting for an agent; offline: outside hours / nobody online, waits as a ticket;
# active: an agent holds it; resolved / handed_back: closed. Written together with the status, in one Tx.
HANDOFF_STATUSES = ("queued", "offline", "active", "resolved", "handed_back")
OPEN_STATUSES = ("queued", "offline", "active")
WAITING_STATUSES = ("queued", "offline")




class Agent(Base):
    """A person who answers chats (role ``agent``) or supervises every team (role ``lead``)."""

    __tablename__ = "handoff_agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    teams: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="offline")
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"

    def can_see_team(self, team: str) -> bool:
        return self.is_lead or team in (self.teams or [])

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "name": self.name, "role": self.role,
                "teams": list(self.teams or []), "status": self.status, "last_seen_at": iso(self.last_seen_at)}


class AgentSession(Base):
    """A signed-in browser; only the SHA-256 of the cookie token is stored, so a database leak is no login."""

    __tablename__ = "handoff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(Integer, ForeignKey("handoff_agents.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class Handoff(Base):
    """One escalation of a conversation to a person, from the queue to its resolution."""

    __tablename__ = "handoff_handoffs"
    __table_args__ = (
        # At most one open handoff per conversation, even when two escalations race.
        Index("uq_handoff_open_conversation", "conversation_id", unique=True,
              sqlite_where=text("status IN ('queued', 'offline', 'active')"),
              postgresql_where=text("status IN ('queued', 'offline', 'active')")),
        Index("ix_handoff_queue", "status", "team", "priority", "queued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("chat_conversations.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    team: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(SmallInteger, default=3)
    reason: Mapped[str] = mapped_column(String(32))
    reason_detail: Mapped[str] = mapped_column(Text, default="")
    intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    language: Mapped[str] = mapped_column(String(5), default="pt")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    agent_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("handoff_agents.id", ondelete="SET NULL"), nullable=True, index=True)
    resolution_tag: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resolution_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    transcript: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    def summary(self) -> dict[str, Any]:
        """What queue lists show (no transcript)."""
        return {
            "id": self.id, "conversation_id": self.conversation_id, "status": self.status, "team": self.team,
            "priority": self.priority, "reason": self.reason, "reason_detail": self.reason_detail,
            "intent": self.intent, "category": self.category, "language": self.language,
            "created_at": iso(self.created_at), "queued_at": iso(self.queued_at),
            "claimed_at": iso(self.claimed_at), "closed_at": iso(self.closed_at), "agent_id": self.agent_id,
            "resolution_tag": self.resolution_tag, "resolution_note": self.resolution_note,
            "contact": self.contact,
        }


class HandoffNote(Base):
    """An internal note: agents and leads see it, the customer never does."""

    __tablename__ = "handoff_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[int] = mapped_column(Integer, ForeignKey("handoff_handoffs.id", ondelete="CASCADE"),
                                            index=True)
    agent_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("handoff_agents.id", ondelete="SET NULL"),
                                                 nullable=True)
    author_name: Mapped[str] = mapped_column(String(120), default="")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "handoff_id": self.handoff_id, "agent_id": self.agent_id,
                "author_name": self.author_name, "text": self.text, "created_at": iso(self.created_at)}


class WebhookDelivery(Base):
    """One outbound webhook call waiting to be made (or made); see :mod:`handoff.webhooks`."""

    __tablename__ = "handoff_webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(500))
    event: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class LoginFailure(Base):
    """One failed sign-in, keyed by hashes of the e-mail and the client address (no personal data in clear).

    Why a table rather than a counter in memory: every app process (and, in production, every replica) sees the
    same failures, and a restart does not reset them.
    """

    __tablename__ = "handoff_login_failures"
    __table_args__ = (Index("ix_login_failure_account", "account_key", "created_at"),
                      Index("ix_login_failure_client", "client_key", "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_key: Mapped[str] = mapped_column(String(64))  # sha256(e-mail + client address)
    client_key: Mapped[str] = mapped_column(String(64))  # sha256(client address)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


AUDIT_ACTIONS = ("sign_in", "sign_in_failed", "sign_in_refused", "sign_out", "session_revoked", "status",
                 "transcript_view", "export", "requeued")


class AuditEntry(Base):
    """Who did what and when, for actions the conversation event log does not hold (sign-in, views, exports).

    Claims, transfers, resolutions and notes are conversation events (``conversation_events`` with the agent);
    this table holds the rest, so "who read this customer's transcript" has an answer.
    """

    __tablename__ = "handoff_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    agent_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("handoff_agents.id", ondelete="SET NULL"), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(32))
    handoff_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "created_at": iso(self.created_at), "agent_id": self.agent_id, "action": self.action,
                "handoff_id": self.handoff_id, "data": self.data or {}}
