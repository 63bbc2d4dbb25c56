"""A metrics report: one period's samples, filtered, reduced to figures, compared with the previous period.

Why the previous period is computed the same way (its own read of the log, its own backlog snapshot): a change
is only meaningful when both numbers come from the same definitions over the same filters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from handoff.hours import BusinessHours
from handoff.routing import Router
from services.db import Database
from services.metrics import aggregate
from services.metrics import definitions as d
from services.metrics.calendar import Durations
from services.metrics.definitions import Sample
from services.metrics.query import MetricQuery
from services.metrics.store import agent_names, load
from services.metrics.timeline import split

# Figures repeated in every per-team / language / intent / agent row (the summary table has all of them).
GROUP_COLUMNS = ("contacts", "frt_bot.median_seconds", "frt_human.median_seconds", "frt_human.count",
                 "resolution_time.median_seconds", "resolution_time.count", "csat.responses", "csat.satisfied_pct",
                 "csat.response_pct", "containment.pct", "bot_resolution.pct", "handoff.pct",
                 "repeat_contact.pct_7d", "queue_wait.median_seconds", "handling_time.count",
                 "handling_time.median_seconds")
GROUPS = {"by_team": "team", "by_language": "language", "by_intent": "intent", "by_agent": "agent_id"}
TABLES = ("summary", *GROUPS, "handoff_reasons", "kb_articles", "frt_buckets", "backlog")


@dataclass(frozen=True)
class Table:
    """Rows of one report table; the JSON API and the CSV export both serve exactly these."""

    name: str
    columns: list[str]
    rows: list[list[Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.name, "columns": self.columns, "rows": self.rows}


class MetricsService:
    """Computes reports (on ``app.state.metrics``); stateless apart from the calendars and the topics."""

    def __init__(self, db: Database, hours: BusinessHours, router: Router, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.hours = hours
        self.router = router
        self.topics = frozenset(router.topics)
        self.clock = clock
        self._teams: dict[str, str | None] = {}

    def team_of_intent(self, intent: str) -> str | None:
        if intent not in self._teams:
            self._teams[intent] = self.router.team_for_intent(intent)[0]
        return self._teams[intent]

    # -- samples -----------------------------------------------------------------------------------------
    def samples(self, query: MetricQuery, as_of: datetime | None = None) -> list[Sample]:
        """Every sample anchored in the period that passes the filters, plus the backlog at the period's end."""
        as_of = as_of or self.clock()
        window = timedelta(hours=query.assumed_hours)
        durations = Durations(self.hours, query.business_hours)
        snapshot = min(query.end, as_of)
        with self.db.session() as session:
            log = load(session, query.start, query.end, as_of)
        out: list[Sample] = []
        for cid, events in log.items():
            contacts = split(events, window, self.topics, self.team_of_intent)
            for contact in contacts:
                out.extend(s for s in d.contact_samples(contact, durations, as_of, window)
                           if query.start <= s.at < query.end)
            out.extend(d.backlog_samples(cid, events, contacts[-1] if contacts else None, snapshot, durations))
        return [s for s in out if self._matches(s, query)]

    @staticmethod
    def _matches(s: Sample, q: MetricQuery) -> bool:
        return ((q.team is None or s.team == q.team) and (q.language is None or s.language == q.language)
                and (q.intent is None or s.intent == q.intent) and (q.agent_id is None or s.agent_id == q.agent_id))

    # -- reports -----------------------------------------------------------------------------------------
    def report(self, query: MetricQuery, compare: bool = True) -> dict[str, Any]:
        """Figures of the period and, when ``compare``, of the previous one with the change of every number."""
        as_of = self.clock()
        current = aggregate.figures(self.samples(query, as_of))
        out: dict[str, Any] = {"query": query.describe(), "as_of": as_of.isoformat() + "Z", "figures": current}
        if compare:
            previous_query = query.previous()
            previous = aggregate.figures(self.samples(previous_query, as_of))
            out["previous"] = {"start": previous_query.start.isoformat() + "Z",
                               "end": previous_query.end.isoformat() + "Z", "figures": previous}
        return out

    def tables(self, query: MetricQuery, names: Iterable[str] = TABLES) -> dict[str, Table]:
        """The named tables of one report (the samples are computed once for all of them)."""
        as_of = self.clock()
        names = list(names)
        samples = self.samples(query, as_of)
        # Only the summary and the reasons compare with the previous period: read it only for them.
        previous = self.samples(query.previous(), as_of) if {"summary", "handoff_reasons"} & set(names) else []
        with self.db.session() as session:
            agents = agent_names(session)
        builders: dict[str, Callable[[], Table]] = {
            "summary": lambda: summary_table(samples, previous),
            "handoff_reasons": lambda: reasons_table(samples, previous),
            "kb_articles": lambda: kb_table(samples),
            "frt_buckets": lambda: buckets_table(samples),
            "backlog": lambda: backlog_table(samples, agents),
            **{name: (lambda name=name: group_table(name, GROUPS[name], samples, agents)) for name in GROUPS},
        }
        return {name: builders[name]() for name in names}


def _change(now: Any, before: Any) -> Any:
    if isinstance(now, int | float) and isinstance(before, int | float) and not isinstance(now, bool):
        return round(now - before, 1)
    return None


def summary_table(samples: list[Sample], previous: list[Sample]) -> Table:
    now, before = aggregate.flatten(aggregate.figures(samples)), aggregate.flatten(aggregate.figures(previous))
    rows = [[name, value, before.get(name), _change(value, before.get(name))] for name, value in now.items()
            if ".buckets." not in name and ".escalations_by_reason." not in name]
    return Table("summary", ["figure", "value", "previous", "change"], rows)


def group_table(name: str, attribute: str, samples: list[Sample], agents: dict[int, str]) -> Table:
    groups: dict[Any, list[Sample]] = {}
    for s in samples:
        if s.metric != d.BACKLOG:
            groups.setdefault(getattr(s, attribute), []).append(s)
    rows = []
    for key in sorted(groups, key=lambda k: (k is None, str(k))):
        flat = aggregate.flatten(aggregate.figures(groups[key]))
        label = agents.get(key, f"agent {key}") if attribute == "agent_id" and key is not None else key
        lead = [key, label] if attribute == "agent_id" else [key]
        rows.append([*lead, *(flat[c] for c in GROUP_COLUMNS)])
    head = ["agent_id", "agent_name"] if attribute == "agent_id" else [attribute]
    return Table(name, [*head, *GROUP_COLUMNS], rows)


def reasons_table(samples: list[Sample], previous: list[Sample]) -> Table:
    def count(rows: list[Sample]) -> dict[str, int]:
        return aggregate.figures(rows)["handoff"]["escalations_by_reason"]

    now, before = count(samples), count(previous)
    total = sum(now.values())
    rows = [[reason, now.get(reason, 0), aggregate.pct(now.get(reason, 0), total), before.get(reason, 0)]
            for reason in sorted(set(now) | set(before))]
    return Table("handoff_reasons", ["reason", "escalations", "share_pct", "previous"], rows)


def kb_table(samples: list[Sample]) -> Table:
    articles: dict[str, list[Sample]] = {}
    for s in samples:
        if s.metric == d.KB and s.key:
            articles.setdefault(s.key, []).append(s)
    rows = []
    for article, rows_ in sorted(articles.items()):
        kb = aggregate.figures(rows_)["kb"]
        title = next((s.label for s in rows_ if s.label), "")
        rows.append([article, title, kb["answers"], kb["feedback"], kb["helped"], kb["helped_pct"],
                     kb["feedback_pct"]])
    return Table("kb_articles", ["article_id", "title", "answers", "feedback", "helped", "helped_pct",
                                 "feedback_pct"], rows)


def buckets_table(samples: list[Sample]) -> Table:
    figures = aggregate.figures(samples)
    rows = [[bucket, figures["frt_bot"]["buckets"][bucket], figures["frt_human"]["buckets"][bucket]]
            for bucket, _ in aggregate.FRT_BUCKETS]
    return Table("frt_buckets", ["bucket", "bot", "human"], rows)


def backlog_table(samples: list[Sample], agents: dict[int, str]) -> Table:
    rows = [[s.conversation_id, s.team, s.outcome, s.agent_id, agents.get(s.agent_id) if s.agent_id else None,
             round(s.value, 1) if s.value is not None else None]
            for s in sorted((s for s in samples if s.metric == d.BACKLOG), key=lambda s: -(s.value or 0))]
    return Table("backlog", ["conversation_id", "team", "state", "agent_id", "agent_name", "age_seconds"], rows)
