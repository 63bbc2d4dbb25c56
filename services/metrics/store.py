"""Reading the event log for a report: every event of the conversations a period touches, in log order.

Why whole conversations: most definitions need events outside the period — the reply that came after midnight,
the earlier contact that makes this one a repeat, the 24 hours of silence that make a bot answer an assumed
resolution. So the period selects conversations (any event inside it, or a chat still waiting or held by an agent
at its end: the backlog), and all their events up to ``as_of`` are read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from handoff.models import Agent
from services.conversations import kinds
from services.conversations import status as st
from services.conversations.models import ConversationEvent


@dataclass(frozen=True, slots=True)
class Ev:
    """One row of the log, detached from the session (only what the definitions read)."""

    id: int
    conversation_id: str
    kind: str
    actor: str
    agent_id: int | None
    team: str | None
    handoff_id: int | None
    status: str
    data: dict[str, Any]
    at: datetime


def _held_at(end: datetime) -> Select[Any]:
    """Conversations whose status at ``end`` was queued or assigned (their latest status event before ``end``)."""
    latest = (select(ConversationEvent.conversation_id, ConversationEvent.status,
                     func.row_number().over(partition_by=ConversationEvent.conversation_id,
                                            order_by=ConversationEvent.id.desc()).label("n"))
              .where(ConversationEvent.kind.in_(kinds.STATUS_KINDS), ConversationEvent.created_at < end)
              .subquery())
    return select(latest.c.conversation_id).where(latest.c.n == 1, latest.c.status.in_(st.WITH_PEOPLE))


def load(session: Session, start: datetime, end: datetime, as_of: datetime) -> dict[str, list[Ev]]:
    """conversation id -> its events (log order) for the conversations active in ``[start, end)``."""
    active = (select(ConversationEvent.conversation_id)
              .where(ConversationEvent.created_at >= start, ConversationEvent.created_at < end))
    ids = active.union(_held_at(end)).subquery()
    rows = session.execute(
        select(ConversationEvent.id, ConversationEvent.conversation_id, ConversationEvent.kind,
               ConversationEvent.actor, ConversationEvent.agent_id, ConversationEvent.team,
               ConversationEvent.handoff_id, ConversationEvent.status, ConversationEvent.data,
               ConversationEvent.created_at)
        .where(ConversationEvent.conversation_id.in_(select(ids.c.conversation_id)),
               ConversationEvent.created_at < as_of)
        .order_by(ConversationEvent.conversation_id, ConversationEvent.id))
    out: dict[str, list[Ev]] = defaultdict(list)
    for row in rows:
        out[row[1]].append(Ev(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8] or {},
                              row[9]))
    return dict(out)


def agent_names(session: Session) -> dict[int, str]:
    """Agent id -> name, for tables a person reads (the log stores ids)."""
    return {a_id: name for a_id, name in session.execute(select(Agent.id, Agent.name))}
