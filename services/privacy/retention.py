"""Retention: conversations whose last activity is older than ``retention_days`` (services/settings.yml) are
anonymised — texts and contact details removed, the shape the metrics count kept (LGPD Art. 15–16: personal
data ends with its purpose).

Why anonymise rather than delete: a support team compares this year with last year; counts, times, intents
and ratings are not personal once nothing links them to a person. Every app process may run the job: it
only picks conversations not yet anonymised and the rewrite is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from services.conversations import status as st
from services.conversations.models import Conversation
from services.db import utcnow
from services.privacy.models import AnonymisedConversation
from services.privacy.subject import SubjectData

log = logging.getLogger(__name__)
BATCH = 100
# A conversation still waiting for or held by a person is never anonymised under its feet.
FINISHED = (st.BOT, st.RESOLVED, st.CLOSED)


class RetentionJob:
    """Anonymises expired conversations every ``interval_seconds`` (0 days: keep forever, the job idles)."""

    def __init__(self, subjects: SubjectData, days: int, interval_seconds: float = 3600.0,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.subjects = subjects
        self.days = days
        self.interval = interval_seconds
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    def due(self) -> list[str]:
        """Expired conversations that still hold something personal (no ``anonymised`` mark yet)."""
        if self.days <= 0:
            return []
        cutoff = self.clock() - timedelta(days=self.days)
        with self.subjects.db.session() as s:
            return list(s.scalars(select(Conversation.id).where(
                Conversation.updated_at < cutoff, Conversation.status.in_(FINISHED),
                Conversation.id.not_in(select(AnonymisedConversation.conversation_id)))
                .order_by(Conversation.updated_at).limit(BATCH)).all())

    def run_once(self) -> int:
        """Anonymise one batch; the number of conversations handled."""
        ids = self.due()
        if ids:
            outcome = self.subjects.anonymise(ids, reason="retention")
            log.info("retention: anonymised %d conversations older than %d days (%s)", outcome.conversations,
                     self.days, ", ".join(f"{k} {v}" for k, v in sorted(outcome.rows.items())))
        return len(ids)

    def start(self) -> None:
        if self.days > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                while await asyncio.to_thread(self.run_once) == BATCH:
                    pass
            except Exception:  # a bad batch must not stop retention for good; it is retried next round
                log.exception("retention job failed; retrying in %.0f s", self.interval)
            await asyncio.sleep(self.interval)
