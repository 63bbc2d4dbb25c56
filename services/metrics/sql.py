"""Reading the precomputed ``metric_samples``: a panel is two ``GROUP BY`` queries, not a walk through the log.

Why the same :class:`~services.metrics.aggregate.Stats` as the from-scratch path: the figures are then made by
one reducer whichever path fed it, and a test can compare the two on the same events. PostgreSQL computes the
median (``percentile_cont``, the mean of the two middle values like :func:`statistics.median`) and the
nearest-rank p90 (``percentile_disc``) itself; SQLite has no percentile functions, so there the measured values
of the period are fetched and reduced in Python (still one indexed read, no JSON, no contacts to cut).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, text
from sqlalchemy.orm import Session

from handoff.hours import BusinessHours
from services.metrics import definitions as d
from services.metrics.aggregate import FRT_BUCKETS, VALUE_METRICS, Stats, Values
from services.metrics.calendar import Durations
from services.metrics.definitions import Held, Sample
from services.metrics.models import MetricDaily, MetricSample
from services.metrics.precompute import HELD
from services.metrics.query import MetricQuery

T = MetricSample.__table__
D = MetricDaily.__table__
GROUP_COLUMNS = {"team": T.c.team, "language": T.c.language, "intent": T.c.intent, "agent_id": T.c.agent_id,
                 "channel": T.c.channel, "day": T.c.day}


def _filters(q: MetricQuery, table: Any = T) -> list[Any]:
    out = []
    for name, value in (("team", q.team), ("language", q.language), ("intent", q.intent),
                        ("agent_id", q.agent_id), ("channel", q.channel)):
        if value is not None:
            out.append(table.c[name] == value)
    return out


def _days(q: MetricQuery, hours: BusinessHours) -> tuple[date, date] | None:
    """The period as business days ``[first, last)`` when it is whole days (what the API asks), else None."""
    start, end = hours.local(q.start), hours.local(q.end)
    if start.time() != time(0) or end.time() != time(0):
        return None
    return start.date(), end.date()


def _day(value: Any) -> Any:
    """SQLite hands a DATE back as text; the from-scratch path groups by :class:`datetime.date`."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def stats(session: Session, q: MetricQuery, as_of: datetime, hours: BusinessHours,
          group: str | None = None) -> dict[Any, Stats]:
    """group value (``None`` when not grouped) -> the Stats of the samples anchored in the period.

    Counts come from the daily rollup when the period is whole business days (plus the "pending" bot answers,
    read from the samples with their ``due``), else from the samples; values always from the samples.
    """
    g = GROUP_COLUMNS[group] if group else literal(None)
    period = [T.c.at >= q.start, T.c.at < q.end, T.c.metric != HELD, *_filters(q)]
    outcome = case((and_(T.c.metric == d.BOT_RESOLUTION, T.c.outcome == "pending", T.c.due <= as_of), "assumed"),
                   else_=T.c.outcome)
    out: dict[Any, Stats] = defaultdict(Stats)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL work_mem = '64MB'"))  # sorts for the percentiles stay in memory
    days = _days(q, hours)
    if days is None:
        counted = conn.execute(select(g, T.c.metric, outcome, T.c.key, func.count())
                               .where(*period).group_by(g, T.c.metric, outcome, T.c.key)).all()
    else:
        gd = D.c[group] if group else literal(None)
        rolled = conn.execute(select(gd, D.c.metric, D.c.outcome, D.c.key, func.sum(D.c.n))
                              .where(D.c.day >= days[0], D.c.day < days[1], *_filters(q, D))
                              .group_by(gd, D.c.metric, D.c.outcome, D.c.key)).all()
        # Stored "pending" bot answers are assumed resolved once their window ended; only those still inside
        # it at ``as_of`` (the last day's, an index range on ``due``) are read to stay pending.
        waiting = {(key, sample_key): int(n) for key, sample_key, n in conn.execute(
            select(g, T.c.key, func.count())
            .where(T.c.metric == d.BOT_RESOLUTION, T.c.outcome == "pending", T.c.due > as_of, *period)
            .group_by(g, T.c.key))}
        counted = []
        for key, metric, result, sample_key, n in rolled:
            if metric == d.BOT_RESOLUTION and result == "pending":
                still = waiting.get((key, sample_key), 0)
                counted += [(key, metric, "pending", sample_key, still), (key, metric, "assumed", sample_key,
                                                                           int(n) - still)]
            else:
                counted.append((key, metric, result, sample_key, n))
    for key, metric, result, sample_key, n in counted:
        out[_day(key) if group == "day" else key].counts[(metric, result or "", sample_key)] += int(n)
    v = T.c.value_bh if q.business_hours else T.c.value
    measured = [*period, T.c.metric.in_(VALUE_METRICS), v.is_not(None)]
    if conn.dialect.name == "postgresql":
        uppers = [upper for _, upper in FRT_BUCKETS[:-1]]
        below = [func.sum(case((v < upper, 1), else_=0)) for upper in uppers]
        rows = conn.execute(select(
            g, T.c.metric, func.count(v), func.sum(v), func.percentile_cont(0.5).within_group(v),
            func.percentile_disc(0.9).within_group(v), *below,
            func.sum(case((func.floor(v) >= 4, 1), else_=0)), func.sum(case((func.floor(v) >= 9, 1), else_=0)),
            func.sum(case((func.floor(v) <= 6, 1), else_=0))).where(*measured).group_by(g, T.c.metric))
        for key, metric, count, total, median, p90, *rest in rows:
            cumulative = [int(x or 0) for x in rest[:len(uppers)]]
            edges = [0, *cumulative, int(count)]
            out[_day(key) if group == "day" else key].values[metric] = Values(
                count=int(count), total=float(total or 0.0), median=float(median), p90=float(p90),
                buckets=tuple(edges[i + 1] - edges[i] for i in range(len(FRT_BUCKETS))),
                satisfied=int(rest[-3] or 0), promoters=int(rest[-2] or 0), detractors=int(rest[-1] or 0))
    else:
        values: dict[tuple[Any, str], list[float]] = defaultdict(list)
        for key, metric, value in conn.execute(select(g, T.c.metric, v).where(*measured)):
            values[(_day(key) if group == "day" else key, metric)].append(value)
        for (key, metric), listed in values.items():
            out[key].values[metric] = Values.of(listed)
    return dict(out)


def backlog(session: Session, q: MetricQuery, at: datetime, durations: Durations) -> list[Sample]:
    """The backlog at ``at``: the stored held intervals that contain it, aged with the report's calendar."""
    rows = session.connection().execute(
        select(T.c.conversation_id, T.c.at, T.c.until, T.c.origin, T.c.outcome, T.c.team, T.c.agent_id,
               T.c.language, T.c.intent, T.c.channel)
        .where(T.c.metric == HELD, T.c.at < at, or_(T.c.until.is_(None), T.c.until >= at), *_filters(q)))
    return [d.backlog_sample(Held(*row), at, durations) for row in rows]


def comments(session: Session, q: MetricQuery, limit: int) -> list[Sample]:
    """The latest survey answers with a comment in the period, newest first.

    One indexed backward read per survey (``metric, at``) merged here: a single ``metric IN (...)`` query is
    planned as a walk back through every sample of the period.
    """
    out: list[tuple[Any, ...]] = []
    for metric in (d.CSAT, d.NPS):
        out += session.connection().execute(
            select(T.c.metric, T.c.at, T.c.conversation_id, T.c.team, T.c.language, T.c.intent, T.c.agent_id,
                   T.c.value, T.c.outcome, T.c.key, T.c.label, T.c.channel, T.c.id)
            .where(T.c.metric == metric, T.c.at >= q.start, T.c.at < q.end, T.c.label.is_not(None), *_filters(q))
            .order_by(T.c.metric, T.c.at.desc(), T.c.id.desc()).limit(limit)).all()
    out.sort(key=lambda row: (row[1], row[-1]), reverse=True)
    return [Sample(*row[:-1]) for row in out[:limit]]


def kb_titles(session: Session, q: MetricQuery) -> dict[str, str]:
    rows = session.connection().execute(
        select(T.c.key, func.max(T.c.label))
        .where(T.c.at >= q.start, T.c.at < q.end, T.c.metric == d.KB, *_filters(q)).group_by(T.c.key))
    return {key: label or "" for key, label in rows if key}

