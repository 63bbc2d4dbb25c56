"""Reading the event log for a report: every event of the conversations a period touches, in log order.

Why whole conversations: most definitions need events outside the period — the reply that came after midnight,
the earlier contact that makes this one a repeat, the 24 hours of silence that make a bot answer an assumed
resolution. So the period selects conversations (any event inside it, or a chat still waiting or held by an agent
at its end: the backlog), and all their events up to ``as_of`` are read.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, case, func, select, type_coerce
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


# Kinds whose whole ``data`` a definition reads. Bot replies (the most common of them) need only ``seq`` and
# ``intent``, read by the database; the other kinds (messages, joins) need nothing, so they are not decoded at all.
DATA_KINDS = frozenset({kinds.OPENED, kinds.LANGUAGE_CHANGED, kinds.KB_ANSWER, kinds.KB_FEEDBACK, kinds.ESCALATED,
                        kinds.QUEUED, kinds.TRANSFERRED, kinds.RESOLVED, kinds.CSAT, "nps"})


def _data(raw: Any, seq: Any, intent: Any) -> dict[str, Any]:
    if raw is None:
        return {"seq": seq, "intent": intent} if seq is not None or intent is not None else {}
    if isinstance(raw, str):  # SQLite hands the JSON text over; PostgreSQL's driver has decoded it already
        raw = json.loads(raw)
    return raw if isinstance(raw, dict) else {}


def load(session: Session, start: datetime, end: datetime, as_of: datetime) -> dict[str, list[Ev]]:
    """conversation id -> its events (log order) for the conversations active in ``[start, end)``.

    Read through SQLAlchemy Core, with the whole ``data`` fetched and decoded only for :data:`DATA_KINDS` and the
    two fields of a bot reply extracted by the database: the ORM's per-row work and decoding the JSON of every
    event were most of a report's time.
    """
    t = ConversationEvent.__table__
    active = select(t.c.conversation_id).where(t.c.created_at >= start, t.c.created_at < end)
    ids = active.union(_held_at(end)).subquery()
    return _read(session, t.c.conversation_id.in_(select(ids.c.conversation_id)) & (t.c.created_at < as_of))


def load_conversations(session: Session, conversation_ids: list[str]) -> dict[str, list[Ev]]:
    """conversation id -> all its events (log order): what the precomputed samples of a conversation come from."""
    return _read(session, ConversationEvent.__table__.c.conversation_id.in_(conversation_ids))


def _read(session: Session, where: Any) -> dict[str, list[Ev]]:
    t = ConversationEvent.__table__
    data = t.c.data
    is_reply = t.c.kind == kinds.BOT_REPLY
    rows = session.connection().execute(
        select(t.c.id, t.c.conversation_id, t.c.kind, t.c.actor, t.c.agent_id, t.c.team, t.c.handoff_id,
               t.c.status, case((t.c.kind.in_(DATA_KINDS), type_coerce(data, Text)), else_=None),
               case((is_reply, data["seq"].as_integer()), else_=None),
               case((is_reply, data["intent"].as_string()), else_=None), t.c.created_at)
        .where(where).order_by(t.c.conversation_id, t.c.id)).all()
    out: dict[str, list[Ev]] = defaultdict(list)
    for row in rows:
        out[row[1]].append(Ev(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                              _data(row[8], row[9], row[10]), row[11]))
    return dict(out)


def agent_names(session: Session) -> dict[int, str]:
    """Agent id -> name, for tables a person reads (the log stores ids)."""
    return {a_id: name for a_id, name in session.execute(select(Agent.id, Agent.name))}
