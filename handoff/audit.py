"""The agents' audit log (``handoff_audit``): sign-in, sign-out, availability, transcript views and exports.

Claims, transfers, resolutions, hand-backs and notes are already conversation events with the agent who did
them (``conversation_events``); this table holds the actions that change no conversation, so "who signed in,
who read or exported this customer's transcript, and when" has an answer. No e-mail, password or message text
is written here: the agent's id, the action, the handoff and a few non-personal details.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from handoff.models import AUDIT_ACTIONS, AuditEntry, utcnow
from services.conversations import kinds
from services.conversations.models import ConversationEvent
from services.db import Database, iso

# What agents and leads do to conversations, as the event log records it (with the agent's id).
AGENT_EVENT_KINDS = (kinds.AGENT_JOINED, kinds.TRANSFERRED, kinds.RESOLVED, kinds.HANDED_BACK, kinds.NOTE)

log = logging.getLogger(__name__)


def record(db: Database, action: str, agent_id: int | None, handoff_id: int | None = None, **data: Any) -> None:
    """Append one entry; an unknown action is a programming error, not something to store."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to handoff.models.AUDIT_ACTIONS")
    with db.session() as s:
        s.add(AuditEntry(created_at=utcnow(), agent_id=agent_id, action=action, handoff_id=handoff_id, data=data))


def entries(db: Database, agent_id: int | None = None, handoff_id: int | None = None,
            limit: int = 200) -> list[dict[str, Any]]:
    """Latest entries first, optionally of one agent or one handoff."""
    query = select(AuditEntry)
    if agent_id is not None:
        query = query.where(AuditEntry.agent_id == agent_id)
    if handoff_id is not None:
        query = query.where(AuditEntry.handoff_id == handoff_id)
    with db.session() as s:
        return [e.to_dict() for e in s.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)).all()]


def conversation_actions(db: Database, agent_id: int | None = None, handoff_id: int | None = None,
                         limit: int = 200) -> list[dict[str, Any]]:
    """Claims, transfers, resolutions, hand-backs and notes from the event log, latest first: who, when, which
    handoff, what (the kind and its target team/agent or tag; never a note's or message's text)."""
    query = select(ConversationEvent).where(ConversationEvent.kind.in_(AGENT_EVENT_KINDS),
                                            ConversationEvent.agent_id.is_not(None))
    if agent_id is not None:
        query = query.where(ConversationEvent.agent_id == agent_id)
    if handoff_id is not None:
        query = query.where(ConversationEvent.handoff_id == handoff_id)
    keep = ("to_team", "to_agent_id", "from_team", "tag")
    with db.session() as s:
        rows = s.scalars(query.order_by(ConversationEvent.id.desc()).limit(limit)).all()
        return [{"created_at": iso(e.created_at), "agent_id": e.agent_id, "action": e.kind, "handoff_id": e.handoff_id,
                 "team": e.team, "data": {k: v for k, v in (e.data or {}).items() if k in keep}} for e in rows]
