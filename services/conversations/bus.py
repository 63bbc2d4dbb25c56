"""Listeners of the conversation event log: the side effects of what happened, in one place each.

Two moments a listener can run at:

* **in the transaction** (``in_transaction=True``, a plain function ``(session, event)``): for effects that must
  commit or roll back with the change itself, such as the webhook outbox row;
* **after the commit** (an ``async`` function ``(event)``): telling people — the customer's notice, the consoles'
  refresh, the queue positions, Rasa's resume. They run only for committed events, one after another in
  the order of the log, and a failing listener is logged without stopping the others (the fact is already
  stored; a lost notice is repaired by the next refresh, a lost change is not).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """A committed (or about to be committed) row of the event log, detached from any session."""

    id: int
    conversation_id: str
    kind: str
    actor: str
    status: str
    data: dict[str, Any] = field(default_factory=dict)
    agent_id: int | None = None
    team: str | None = None
    handoff_id: int | None = None
    created_at: datetime | None = None
    previous_status: str | None = None  # set on status changes
    # Not stored: the JSON the sockets need (e.g. the stored chat message), so the real-time listener does
    # not read back what the transaction just wrote.
    wire: dict[str, Any] | None = field(default=None, compare=False)


InTransactionListener = Callable[[Session, Event], None]
AfterCommitListener = Callable[[Event], Awaitable[None]]


class EventBus:
    """Who listens to which kinds of event (``None``: every kind)."""

    def __init__(self) -> None:
        self._in_tx: list[tuple[frozenset[str] | None, InTransactionListener]] = []
        self._after: list[tuple[frozenset[str] | None, AfterCommitListener]] = []

    @staticmethod
    def _kinds(kinds: str | Iterable[str] | None) -> frozenset[str] | None:
        if kinds is None:
            return None
        return frozenset([kinds] if isinstance(kinds, str) else kinds)

    def on_transaction(self, kinds: str | Iterable[str] | None, listener: InTransactionListener) -> None:
        self._in_tx.append((self._kinds(kinds), listener))

    def on_commit(self, kinds: str | Iterable[str] | None, listener: AfterCommitListener) -> None:
        self._after.append((self._kinds(kinds), listener))

    def run_in_transaction(self, session: Session, event: Event) -> None:
        """Called by :meth:`Tx.append`; an exception here rolls the whole change back."""
        for kinds, listener in self._in_tx:
            if kinds is None or event.kind in kinds:
                listener(session, event)

    async def dispatch(self, events: Iterable[Event]) -> None:
        """Run the after-commit listeners for committed events, in log order."""
        for event in events:
            for kinds, listener in self._after:
                if kinds is None or event.kind in kinds:
                    try:
                        await listener(event)
                    except Exception:  # noqa: BLE001 - one listener must not silence the others
                        log.exception("listener %s failed on %s event %s", getattr(listener, "__qualname__",
                                      listener), event.kind, event.id)
