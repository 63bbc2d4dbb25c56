"""Top unanswered questions: what customers asked that the knowledge base had no answer for (``kb_events``).

Why here and not only in the lead's gap review: the dashboard shows how often each question came up in the
period next to the other figures, and links to /console/lead#gaps and #review where the lead acts on them.
Questions are grouped by their lower-cased text, with personal data masked (the ``pii`` rules) before they are
shown or exported. ``kb_events`` has no team, agent or channel: with an agent filter (an agent's own figures)
the table is empty; team and channel filters do not narrow it (said in docs/metrics.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handoff.hours import BusinessHours
from pii.redact import redact
from services.kb_events.models import KbEvent
from services.metrics.query import MetricQuery


def top(session: Session, q: MetricQuery, limit: int, hours: BusinessHours) -> list[list[Any]]:
    """[question, count, last seen (business time), language] for the most frequent unanswered questions."""
    if q.agent_id is not None:
        return []
    text = func.lower(func.trim(KbEvent.query))
    where = [KbEvent.kind == "no_answer", KbEvent.created_at >= q.start, KbEvent.created_at < q.end,
             KbEvent.query.is_not(None), func.length(func.trim(KbEvent.query)) > 0]
    if q.language is not None:
        where.append(KbEvent.language == q.language)
    if q.intent is not None:
        where.append(KbEvent.intent == q.intent)
    rows = session.execute(select(text, func.count(), func.max(KbEvent.created_at), func.max(KbEvent.language))
                           .where(*where).group_by(text).order_by(func.count().desc(), text).limit(limit))
    return [[redact(question)[:300], n, hours.local(last).replace(tzinfo=None).isoformat(timespec="minutes")
             if last else None, language] for question, n, last, language in rows]
