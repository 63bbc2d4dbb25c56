"""One transaction for a change of a conversation: its status, its event(s) and what depends on them.

Usage (any feature)::

    def work(tx: Tx) -> int:
        handoff = Handoff(...); tx.session.add(handoff); tx.session.flush()
        tx.set_status(cid, QUEUED, kinds.ESCALATED, actor="bot", handoff_id=handoff.id, reason=...)
        return handoff.id

    handoff_id = await app.state.conversations.run(work)   # commit, then the listeners

Everything ``work`` writes commits together or not at all; listeners subscribed to the events run after the
commit (:mod:`services.conversations.bus`). :meth:`Tx.set_status` is the only code that writes
``Conversation.status``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.conversations import kinds
from services.conversations.bus import Event, EventBus
from services.conversations.models import Conversation, ConversationEvent, utcnow
from services.conversations.status import TransitionRefused, check_transition
from services.db import Database

T = TypeVar("T")
ACTORS = ("customer", "bot", "agent", "system")


class Tx:
    """The unit of work handed to :meth:`Conversations.run`: a session plus the events it appended."""

    def __init__(self, session: Session, bus: EventBus, clock: Callable[[], datetime]) -> None:
        self.session = session
        self.bus = bus
        self.clock = clock
        self.events: list[Event] = []

    def conversation(self, conversation_id: str) -> Conversation:
        conv = self.session.get(Conversation, conversation_id)
        if conv is None:
            raise KeyError(conversation_id)
        return conv

    def append(self, conversation_id: str, kind: str, actor: str, *, agent_id: int | None = None,
               team: str | None = None, handoff_id: int | None = None, status: str | None = None,
               previous_status: str | None = None, wire: dict[str, Any] | None = None, **data: Any) -> Event:
        """Add one event to the log (in this transaction) and run the in-transaction listeners."""
        if kind not in kinds.CATALOGUE:
            raise ValueError(f"unknown event kind {kind!r}; add it to services/conversations/kinds.py")
        if actor not in ACTORS:
            raise ValueError(f"unknown actor {actor!r}")
        if status is None:
            status = self.session.scalar(select(Conversation.status).where(Conversation.id == conversation_id))
            if status is None:
                raise KeyError(conversation_id)
        row = ConversationEvent(conversation_id=conversation_id, kind=kind, actor=actor, agent_id=agent_id,
                                team=team, handoff_id=handoff_id, status=status, data=data,
                                created_at=self.clock())
        self.session.add(row)
        self.session.flush()
        event = Event(id=row.id, conversation_id=conversation_id, kind=kind, actor=actor, status=status,
                      data=dict(data), agent_id=agent_id, team=team, handoff_id=handoff_id,
                      created_at=row.created_at, previous_status=previous_status, wire=wire)
        self.bus.run_in_transaction(self.session, event)
        self.events.append(event)
        return event

    def set_status(self, conversation_id: str, target: str, kind: str, actor: str, *,
                   expect: str | frozenset[str] | None = None, agent_id: int | None = None,
                   team: str | None = None, handoff_id: int | None = None, **data: Any) -> Event:
        """Change the conversation's status and log why, in this transaction: the only writer of the status.

        ``expect``: the status (or statuses) the caller's decision was based on; a different current status
        (another request won a race) refuses the change. The UPDATE is conditional on the status read, so two
        concurrent changes cannot both pass.
        """
        if kind not in kinds.STATUS_KINDS:
            raise ValueError(f"{kind!r} is not a status-changing event kind")
        current = self.session.scalar(select(Conversation.status).where(Conversation.id == conversation_id))
        if current is None:
            raise KeyError(conversation_id)
        if expect is not None and current not in ({expect} if isinstance(expect, str) else expect):
            raise TransitionRefused(f"the conversation is {current} now; reload")
        check_transition(current, target)
        changed = self.session.execute(
            update(Conversation).where(Conversation.id == conversation_id, Conversation.status == current)
            .values(status=target, updated_at=self.clock()).execution_options(synchronize_session=False))
        if changed.rowcount != 1:
            raise TransitionRefused("the conversation changed meanwhile; reload")
        return self.append(conversation_id, kind, actor, agent_id=agent_id, team=team, handoff_id=handoff_id,
                           status=target, previous_status=current, **data)


class Conversations:
    """Runs units of work (on ``app.state.conversations``); one per app process, all state in the database."""

    def __init__(self, db: Database, bus: EventBus | None = None) -> None:
        self.db = db
        self.bus = bus or EventBus()
        self.clock: Callable[[], datetime] = utcnow  # tests replace it to freeze time

    def run_sync(self, work: Callable[[Tx], T]) -> tuple[T, list[Event]]:
        """Run ``work`` in one transaction (in this thread); the result and the events it committed."""
        with self.db.session() as session:
            tx = Tx(session, self.bus, self.clock)
            result = work(tx)
        return result, tx.events

    async def run(self, work: Callable[[Tx], T]) -> T:
        """Run ``work`` in one transaction in a worker thread, then the after-commit listeners."""
        result, events = await asyncio.to_thread(self.run_sync, work)
        await self.bus.dispatch(events)
        return result

    def current_team(self, session: Session, conversation_id: str) -> str | None:
        """The team that has (or last had) the chat: the latest event that names one."""
        return session.scalar(select(ConversationEvent.team).where(
            ConversationEvent.conversation_id == conversation_id, ConversationEvent.team.is_not(None))
            .order_by(ConversationEvent.id.desc()).limit(1))

    def history(self, conversation_id: str, after_id: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """The conversation's events in order (a reader for transcripts, reviews and metrics)."""
        with self.db.session() as s:
            rows = s.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == conversation_id,
                                                             ConversationEvent.id > after_id)
                             .order_by(ConversationEvent.id).limit(limit)).all()
            return [r.to_dict() for r in rows]
