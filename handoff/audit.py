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
from services.db import Database

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
