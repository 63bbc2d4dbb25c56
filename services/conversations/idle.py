"""Closing idle conversations: a conversation nobody wrote in for a while ends (status ``closed``).

Why: a conversation's end is a fact the product needs — the widget starts a fresh conversation instead of
resuming a stale one, and the metrics count when a bot-only conversation ended. A conversation with the bot
(``bot``) or one a person resolved (``resolved``) closes after ``close_idle_after_hours`` (services/chat/chat.yml)
without activity; one waiting for or held by a person never closes on its own. Every process may run the
closer: the status change is conditional, so two processes never close the same conversation twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import select

from services.conversations import kinds
from services.conversations import status as st
from services.conversations.bus import Event
from services.conversations.lifecycle import Conversations
from services.conversations.models import Conversation
from services.conversations.status import TransitionRefused

log = logging.getLogger(__name__)
BATCH = 200


class IdleCloser:
    """Closes conversations idle for ``idle_after``; :meth:`start` runs it every ``interval_seconds``."""

    def __init__(self, conversations: Conversations, idle_after: timedelta, interval_seconds: float = 60.0) -> None:
        self.conversations = conversations
        self.idle_after = idle_after
        self.interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def due(self) -> list[tuple[str, str]]:
        """(conversation id, status) of conversations idle for longer than ``idle_after``, oldest first."""
        cutoff = self.conversations.clock() - self.idle_after
        with self.conversations.db.session() as s:
            rows = s.execute(select(Conversation.id, Conversation.status).where(
                Conversation.status.in_((st.BOT, st.RESOLVED)), Conversation.updated_at < cutoff)
                .order_by(Conversation.updated_at).limit(BATCH)).all()
        return [(cid, status) for cid, status in rows]

    def close_due(self) -> list[Event]:
        """Close every due conversation, each in its own transaction; the events to dispatch."""
        events: list[Event] = []
        hours = round(self.idle_after.total_seconds() / 3600, 2)
        for cid, status in self.due():
            try:
                _, committed = self.conversations.run_sync(lambda tx, cid=cid, status=status: tx.set_status(
                    cid, st.CLOSED, kinds.CLOSED, "system", expect=status, why="idle", idle_hours=hours))
            except TransitionRefused:
                continue  # the customer wrote meanwhile, or another process closed it first
            events.extend(committed)
        return events

    async def run_once(self) -> int:
        events = await asyncio.to_thread(self.close_due)
        await self.conversations.bus.dispatch(events)
        return len(events)

    async def _loop(self) -> None:
        while True:
            try:
                closed = await self.run_once()
                if closed:
                    log.info("closed %d idle conversation(s)", closed)
            except Exception:  # noqa: BLE001 - the next round tries again; a failure here loses nothing
                log.exception("closing idle conversations failed")
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="idle-closer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
