"""Keeping the ``metric_samples`` table up to date with the event log, incrementally and idempotently.

How: a cursor (the last event id covered) in ``metric_cursor``. :meth:`SampleStore.catch_up` finds the
conversations with events after it, recomputes **all** samples of each such conversation from its whole log
(:func:`conversation_rows`) and replaces that conversation's rows in one transaction, then moves the cursor.
Replacing per conversation is why nothing is counted twice (running it again, or two processes running it at
once, gives the same rows) and why a restart simply catches up from the stored cursor. The app runs it before
each report (so a report sees every committed event) and in the background after new events (woken by the event
bus, so the report rarely has anything left to do).

Two details resolved when reading, not here: a bot answer the customer never came back to is stored as
"pending" with the instant (``due``) its 24 h window ends, and the backlog is stored as intervals (``held``),
so neither goes stale as time passes without new events.

PostgreSQL assigns ids when a row is inserted, not when its transaction commits, so an event with a smaller id
can become visible after the cursor has passed it: each catch-up that has anything new also recomputes the
conversations of the last :data:`LOOKBACK` ids before the cursor. The cursor row is locked (``FOR UPDATE``)
while a batch is replaced, so two processes never interleave their delete and insert of one conversation.

The cursor's name carries a fingerprint of what the samples depend on besides the log (topics, routing, business
calendars, the assumed-resolution window): change any of them and the samples are rebuilt from scratch.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from handoff.hours import BusinessHours
from handoff.routing import Router
from services.conversations.models import ConversationEvent
from services.db import Database
from services.metrics import definitions as d
from services.metrics.calendar import Durations
from services.metrics.models import MetricCursor, MetricDaily, MetricSample
from services.metrics.store import Ev, load_conversations
from services.metrics.timeline import split

log = logging.getLogger(__name__)

HELD = "held"  # metric name of a stored backlog interval
LOOKBACK = 200  # event ids re-read behind the cursor (PostgreSQL commit order, see the module docstring)
BATCH = 400  # conversations replaced per transaction
ROLLUP = ("day", "metric", "outcome", "key", "team", "language", "intent", "channel", "agent_id")


def rollup(session: Session, days: set[Any] | None) -> None:
    """Recount ``metric_daily`` for these business days (``None``: all) from ``metric_samples``.

    Recounting whole days (a few thousand samples each) instead of adding and subtracting is what keeps the
    rollup equal to the samples whatever was replaced. Held intervals stay out; bot answers stored as "pending"
    are counted as such (the reader moves those whose ``due`` has passed to "assumed").
    """
    if days is not None and not days:
        return
    t = MetricSample.__table__
    where = [t.c.metric != HELD]
    if days is not None:
        where.append(t.c.day.in_(days))
        session.execute(delete(MetricDaily).where(MetricDaily.day.in_(days)))
    else:
        session.execute(delete(MetricDaily))
    columns = [t.c[name] for name in ROLLUP]
    session.execute(insert(MetricDaily).from_select(
        [*ROLLUP, "n"], select(*columns, func.count()).where(*where).group_by(*columns)))


def fingerprint(hours: BusinessHours, router: Router, window: timedelta) -> str:
    """A short hash of everything besides the log that the stored samples depend on."""
    topics = sorted(router.topics)
    routing = [(t, router.team_for_intent(t)[0]) for t in topics]
    weekly = sorted((team, sorted((day, [(a.isoformat(), b.isoformat()) for a, b in ranges])
                                  for day, ranges in days.items())) for team, days in hours.weekly.items())
    text = repr((topics, routing, weekly, sorted(hours.holidays), str(hours.tz), window.total_seconds()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class SampleStore:
    """Computes and stores the samples of conversations; reads are in :mod:`services.metrics.sql`."""

    def __init__(self, db: Database, hours: BusinessHours, router: Router, window: timedelta) -> None:
        self.db = db
        self.hours = hours
        self.router = router
        self.topics = frozenset(router.topics)
        self.window = window
        self.cursor_name = f"samples:{fingerprint(hours, router, window)}"
        self._teams: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._wall = Durations(hours, False)
        self._business = Durations(hours, True)

    def team_of_intent(self, intent: str) -> str | None:
        if intent not in self._teams:
            self._teams[intent] = self.router.team_for_intent(intent)[0]
        return self._teams[intent]

    # -- computing ---------------------------------------------------------------------------------------
    def conversation_rows(self, conversation_id: str, events: list[Ev]) -> list[dict[str, Any]]:
        """Every stored row of one conversation: its contacts' samples (wall-clock and business-hours values
        side by side) and its held intervals."""
        contacts = split(events, self.window, self.topics, self.team_of_intent)
        rows: list[dict[str, Any]] = []
        for contact in contacts:
            # as_of = the beginning of time: a bot answer is "pending" here and becomes "assumed" when read after
            # its ``due`` instant, which is what the from-scratch computation decides with the real as_of.
            wall = d.contact_samples(contact, self._wall, datetime.min, self.window)
            business = d.contact_samples(contact, self._business, datetime.min, self.window)
            for s, b in zip(wall, business, strict=True):
                rows.append(self._row(s, b.value))
        for h in d.held_intervals(conversation_id, events, contacts[-1] if contacts else None):
            rows.append({"conversation_id": conversation_id, "metric": HELD, "at": h.since, "day": self.day(h.since),
                         "team": h.team, "language": h.language, "intent": h.intent, "channel": h.channel,
                         "agent_id": h.agent_id, "value": None, "value_bh": None, "outcome": h.state, "key": None,
                         "label": None, "due": None, "until": h.until, "origin": h.origin})
        return rows

    def day(self, at: datetime) -> Any:
        return self.hours.local(at).date()

    def _row(self, s: d.Sample, value_bh: float | None) -> dict[str, Any]:
        return {"conversation_id": s.conversation_id, "metric": s.metric, "at": s.at, "day": self.day(s.at),
                "team": s.team, "language": s.language, "intent": s.intent, "channel": s.channel,
                "agent_id": s.agent_id, "value": s.value, "value_bh": value_bh, "outcome": s.outcome,
                "key": s.key[:120] if s.key else s.key, "label": s.label, "due": s.due, "until": None,
                "origin": None}

    # -- keeping up ---------------------------------------------------------------------------------------
    def catch_up(self) -> int:
        """Bring the samples up to the last committed event; returns how many conversations were recomputed.

        Safe to call from several threads (one runs, the others wait and then find nothing to do) and from
        several processes (each batch holds the cursor row's lock while it replaces rows).
        """
        with self._lock:
            with self.db.session() as s:
                cursor = s.get(MetricCursor, self.cursor_name)
                done = cursor.last_event_id if cursor else None
                high = s.scalar(select(func.max(ConversationEvent.id))) or 0
                stale_rollup = (done is not None and s.scalar(select(MetricDaily.id).limit(1)) is None
                                and s.scalar(select(MetricSample.id).limit(1)) is not None)
                if stale_rollup:  # samples written before the rollup existed (an upgrade): count them once
                    rollup(s, None)
                if done is not None and high <= done:
                    return 0
                if done is None:  # first run, or the definitions' inputs changed: rebuild everything
                    s.execute(delete(MetricSample))
                    s.execute(delete(MetricCursor).where(MetricCursor.name.like("samples:%")))
                    s.add(MetricCursor(name=self.cursor_name, last_event_id=0))
                    low = 0
                else:
                    low = max(0, done - LOOKBACK)
                ids = list(s.scalars(select(ConversationEvent.conversation_id)
                                     .where(ConversationEvent.id > low, ConversationEvent.id <= high)
                                     .distinct()))
            rebuild = done is None
            for i in range(0, len(ids), BATCH):
                self.replace(ids[i:i + BATCH], recount=not rebuild)
            with self.db.session() as s:
                row = s.get(MetricCursor, self.cursor_name, with_for_update=True)
                if rebuild:
                    rollup(s, None)
                if row is not None and row.last_event_id < high:
                    row.last_event_id = high
            if rebuild and ids:
                self.analyze()
            if ids:
                log.info("metrics: samples of %d conversation(s) recomputed up to event %d", len(ids), high)
            return len(ids)

    def replace(self, conversation_ids: Iterable[str], recount: bool = True) -> None:
        """Recompute the rows of these conversations and swap them in, with the rollup of the days they touch
        (old rows' days and new rows' days), in one transaction."""
        batch = list(conversation_ids)
        with self.db.session() as s:
            s.get(MetricCursor, self.cursor_name, with_for_update=True)  # serialises writers (PostgreSQL)
            log_ = load_conversations(s, batch)
            rows: list[dict[str, Any]] = []
            for cid, events in log_.items():
                rows.extend(self.conversation_rows(cid, events))
            days: set[Any] = set()
            if recount:
                days = set(s.scalars(select(MetricSample.day).where(MetricSample.conversation_id.in_(batch))
                                     .distinct()))
                days |= {row["day"] for row in rows}
            s.execute(delete(MetricSample).where(MetricSample.conversation_id.in_(batch)))
            if rows:
                s.execute(insert(MetricSample), rows)
            if recount:
                rollup(s, days)

    def analyze(self) -> None:
        """Fresh planner statistics after a bulk (re)build, so periods are read by scans, not row by row."""
        with self.db.session() as s:
            s.execute(text("ANALYZE metric_samples"))
            s.execute(text("ANALYZE metric_daily"))
