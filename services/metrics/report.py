"""A metrics report: one period's samples, filtered, reduced to figures, compared with the previous period.

Why the previous period is computed the same way (its own read, its own backlog snapshot): a change is only
meaningful when both numbers come from the same definitions over the same filters.

Two ways to the same samples (:class:`Source`): the precomputed ``metric_samples`` table
(:mod:`services.metrics.precompute`, read by :mod:`services.metrics.sql`; the default, fast) and the
from-scratch walk through the event log (:meth:`MetricsService.samples`; used when a report asks for an
assumed-resolution window other than the stored one, and by the tests that check the two agree).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from handoff.hours import BusinessHours
from handoff.routing import Router
from services.db import Database
from services.metrics import aggregate, sql, unanswered
from services.metrics import definitions as d
from services.metrics.aggregate import Stats
from services.metrics.calendar import Durations
from services.metrics.definitions import Sample
from services.metrics.precompute import SampleStore
from services.metrics.query import MetricQuery
from services.metrics.store import agent_names, load
from services.metrics.timeline import split

# Figures repeated in every per-team / language / intent / agent row (the summary table has all of them).
GROUP_COLUMNS = ("contacts", "frt_bot.median_seconds", "frt_human.median_seconds", "frt_human.count",
                 "resolution_time.median_seconds", "resolution_time.count", "csat.responses", "csat.satisfied_pct",
                 "csat.response_pct", "containment.pct", "bot_resolution.pct", "handoff.pct",
                 "repeat_contact.pct_7d", "queue_wait.median_seconds", "handling_time.count",
                 "handling_time.median_seconds")
GROUP_COLUMNS = (*GROUP_COLUMNS, "csat.average", "nps.responses", "nps.score", "handoff.escalated")
GROUPS = {"by_team": "team", "by_language": "language", "by_intent": "intent", "by_agent": "agent_id",
          "by_channel": "channel", "by_day": "day"}
TABLES = ("summary", *GROUPS, "handoff_reasons", "kb_articles", "frt_buckets", "backlog", "comments", "unanswered")
COMMENTS_LIMIT = 50
UNANSWERED_LIMIT = 20


@dataclass(frozen=True)
class Table:
    """Rows of one report table; the JSON API and the CSV export both serve exactly these."""

    name: str
    columns: list[str]
    rows: list[list[Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.name, "columns": self.columns, "rows": self.rows}


class Source(Protocol):
    """Where one period's samples come from (precomputed rows or the log itself); both give the same Stats."""

    def stats(self, group: str | None = None) -> dict[Any, Stats]: ...
    def backlog(self) -> list[Sample]: ...
    def comments(self, limit: int) -> list[Sample]: ...
    def kb_titles(self) -> dict[str, str]: ...


class LiveSource:
    """Samples computed from the event log for this request (the definition itself; slow on a big log)."""

    def __init__(self, service: MetricsService, query: MetricQuery, as_of: datetime) -> None:
        self.service = service
        self.samples = service.samples(query, as_of)

    def stats(self, group: str | None = None) -> dict[Any, Stats]:
        groups: dict[Any, list[Sample]] = {}
        for s in self.samples:
            if s.metric != d.BACKLOG:
                groups.setdefault(self.service.attribute(s, group), []).append(s)
        return {key: Stats.of(rows) for key, rows in groups.items()}

    def backlog(self) -> list[Sample]:
        return [s for s in self.samples if s.metric == d.BACKLOG]

    def comments(self, limit: int) -> list[Sample]:
        rows = [s for s in self.samples if s.metric in (d.CSAT, d.NPS) and s.label]
        return sorted(rows, key=lambda s: s.at, reverse=True)[:limit]

    def kb_titles(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for s in self.samples:
            if s.metric == d.KB and s.key and s.label:
                out[s.key] = max(out.get(s.key, ""), s.label)
        return out


class StoredSource:
    """Samples read from ``metric_samples`` (brought up to date first)."""

    def __init__(self, service: MetricsService, query: MetricQuery, as_of: datetime) -> None:
        self.db, self.query, self.as_of, self.hours = service.db, query, as_of, service.hours
        self.durations = Durations(service.hours, query.business_hours)

    def stats(self, group: str | None = None) -> dict[Any, Stats]:
        with self.db.session() as s:
            return sql.stats(s, self.query, self.as_of, self.hours, group)

    def backlog(self) -> list[Sample]:
        with self.db.session() as s:
            return sql.backlog(s, self.query, min(self.query.end, self.as_of), self.durations)

    def comments(self, limit: int) -> list[Sample]:
        with self.db.session() as s:
            return sql.comments(s, self.query, limit)

    def kb_titles(self) -> dict[str, str]:
        with self.db.session() as s:
            return sql.kb_titles(s, self.query)


class MetricsService:
    """Computes reports (on ``app.state.metrics``) from the precomputed samples when ``store`` is set."""

    def __init__(self, db: Database, hours: BusinessHours, router: Router, clock: Callable[[], datetime],
                 store: SampleStore | None = None) -> None:
        self.db = db
        self.hours = hours
        self.router = router
        self.topics = frozenset(router.topics)
        self.clock = clock
        self.store = store
        self._teams: dict[str, str | None] = {}

    def team_of_intent(self, intent: str) -> str | None:
        if intent not in self._teams:
            self._teams[intent] = self.router.team_for_intent(intent)[0]
        return self._teams[intent]

    def attribute(self, s: Sample, group: str | None) -> Any:
        """The value a sample is grouped by (``day``: its business-timezone date)."""
        if group is None:
            return None
        if group == "day":
            return self.hours.local(s.at).date()
        return getattr(s, group)

    # -- samples -----------------------------------------------------------------------------------------
    def samples(self, query: MetricQuery, as_of: datetime | None = None) -> list[Sample]:
        """Every sample anchored in the period that passes the filters, plus the backlog at the period's end,
        computed from the event log (the from-scratch path)."""
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
                and (q.intent is None or s.intent == q.intent) and (q.agent_id is None or s.agent_id == q.agent_id)
                and (q.channel is None or s.channel == q.channel))

    def source(self, query: MetricQuery, as_of: datetime, live: bool = False) -> Source:
        """The precomputed samples when they answer this query (stored window), else the log itself."""
        if live or self.store is None or query.assumed_hours != self.store.window.total_seconds() / 3600:
            return LiveSource(self, query, as_of)
        self.store.catch_up()
        return StoredSource(self, query, as_of)

    def overall(self, source: Source) -> Stats:
        stats = source.stats().get(None) or Stats()
        stats.backlog = source.backlog()
        return stats

    # -- reports -----------------------------------------------------------------------------------------
    def report(self, query: MetricQuery, compare: bool = True, live: bool = False) -> dict[str, Any]:
        """Figures of the period and, when ``compare``, of the previous one with the change of every number."""
        as_of = self.clock()
        current = aggregate.figures_of(self.overall(self.source(query, as_of, live)))
        out: dict[str, Any] = {"query": query.describe(), "as_of": as_of.isoformat() + "Z", "figures": current}
        if compare:
            previous_query = query.previous()
            previous = aggregate.figures_of(self.overall(self.source(previous_query, as_of, live)))
            out["previous"] = {"start": previous_query.start.isoformat() + "Z",
                               "end": previous_query.end.isoformat() + "Z", "figures": previous}
        return out

    def tables(self, query: MetricQuery, names: Iterable[str] = TABLES, live: bool = False) -> dict[str, Table]:
        """The named tables of one report (each source read once for all of them)."""
        as_of = self.clock()
        names = list(names)
        src = self.source(query, as_of, live)
        cache: dict[str, Any] = {}

        def once(key: str, make: Callable[[], Any]) -> Any:
            if key not in cache:
                cache[key] = make()
            return cache[key]

        def current() -> Stats:
            return once("current", lambda: self.overall(src))

        def previous() -> Stats:
            return once("previous", lambda: self.overall(self.source(query.previous(), as_of, live)))

        def agents() -> dict[int, str]:
            def read() -> dict[int, str]:
                with self.db.session() as session:
                    return agent_names(session)
            return once("agents", read)

        builders: dict[str, Callable[[], Table]] = {
            "summary": lambda: summary_table(current(), previous()),
            "handoff_reasons": lambda: reasons_table(current(), previous()),
            "kb_articles": lambda: kb_table(current(), src.kb_titles()),
            "frt_buckets": lambda: buckets_table(current()),
            "backlog": lambda: backlog_table(src.backlog(), agents()),
            "comments": lambda: comments_table(src.comments(COMMENTS_LIMIT), agents(), self.hours),
            "unanswered": lambda: self.unanswered_table(query),
            **{name: (lambda name=name: group_table(name, GROUPS[name], src.stats(GROUPS[name]), agents()))
               for name in GROUPS},
        }
        return {name: builders[name]() for name in names}

    def unanswered_table(self, query: MetricQuery) -> Table:
        with self.db.session() as session:
            rows = unanswered.top(session, query, UNANSWERED_LIMIT, self.hours)
        return Table("unanswered", ["question", "count", "last_seen", "language"], rows)


def _change(now: Any, before: Any) -> Any:
    if isinstance(now, int | float) and isinstance(before, int | float) and not isinstance(now, bool):
        return round(now - before, 1)
    return None


def summary_table(current: Stats, previous: Stats) -> Table:
    now, before = aggregate.flatten(aggregate.figures_of(current)), aggregate.flatten(aggregate.figures_of(previous))
    rows = [[name, value, before.get(name), _change(value, before.get(name))] for name, value in now.items()
            if ".buckets." not in name and ".escalations_by_reason." not in name]
    return Table("summary", ["figure", "value", "previous", "change"], rows)


def group_table(name: str, attribute: str, groups: dict[Any, Stats], agents: dict[int, str]) -> Table:
    rows = []
    for key in sorted(groups, key=lambda k: (k is None, str(k))):
        flat = aggregate.flatten(aggregate.figures_of(groups[key]))
        label = agents.get(key, f"agent {key}") if attribute == "agent_id" and key is not None else key
        lead = [key, label] if attribute == "agent_id" else [key.isoformat() if attribute == "day" else key]
        rows.append([*lead, *(flat[c] for c in GROUP_COLUMNS)])
    head = ["agent_id", "agent_name"] if attribute == "agent_id" else [attribute]
    return Table(name, [*head, *GROUP_COLUMNS], rows)


def reasons_table(current: Stats, previous: Stats) -> Table:
    def count(stats: Stats) -> dict[str, int]:
        return aggregate.figures_of(stats)["handoff"]["escalations_by_reason"]

    now, before = count(current), count(previous)
    total = sum(now.values())
    rows = [[reason, now.get(reason, 0), aggregate.pct(now.get(reason, 0), total), before.get(reason, 0)]
            for reason in sorted(set(now) | set(before))]
    return Table("handoff_reasons", ["reason", "escalations", "share_pct", "previous"], rows)


def kb_table(current: Stats, titles: dict[str, str]) -> Table:
    articles: dict[str, dict[str, int]] = {}
    for (key, outcome), n in current.keyed(d.KB).items():
        if key:
            counts = articles.setdefault(key, {})
            counts[outcome] = counts.get(outcome, 0) + n
    rows = []
    for article, counts in sorted(articles.items()):
        answers = sum(counts.values())
        helped = counts.get("helped", 0)
        feedback = helped + counts.get("not_helped", 0)
        rows.append([article, titles.get(article, ""), answers, feedback, helped, aggregate.pct(helped, feedback),
                     aggregate.pct(feedback, answers)])
    return Table("kb_articles", ["article_id", "title", "answers", "feedback", "helped", "helped_pct",
                                 "feedback_pct"], rows)


def buckets_table(current: Stats) -> Table:
    figures = aggregate.figures_of(current)
    rows = [[bucket, figures["frt_bot"]["buckets"][bucket], figures["frt_human"]["buckets"][bucket]]
            for bucket, _ in aggregate.FRT_BUCKETS]
    return Table("frt_buckets", ["bucket", "bot", "human"], rows)


def backlog_table(samples: list[Sample], agents: dict[int, str]) -> Table:
    rows = [[s.conversation_id, s.team, s.outcome, s.agent_id, agents.get(s.agent_id) if s.agent_id else None,
             round(s.value, 1) if s.value is not None else None]
            for s in sorted(samples, key=lambda s: (-(s.value or 0), s.conversation_id))]
    return Table("backlog", ["conversation_id", "team", "state", "agent_id", "agent_name", "age_seconds"], rows)


def comments_table(samples: list[Sample], agents: dict[int, str], hours: BusinessHours) -> Table:
    """The latest survey comments (customer text, shown as text by the page), newest first."""
    rows = [[hours.local(s.at).replace(tzinfo=None).isoformat(timespec="minutes"), s.metric,
             int(s.value) if s.value is not None else None, s.team, s.language,
             agents.get(s.agent_id) if s.agent_id else None, s.label] for s in samples]
    return Table("comments", ["at", "survey", "score", "team", "language", "agent_name", "comment"], rows)
