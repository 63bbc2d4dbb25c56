"""Samples to figures: duration statistics, shares, CSAT, NPS, backlog counts.

Why one reducer for everything: the summary, every per-team/agent/language/intent row and every CSV line are
``figures(samples)`` over a different subset, so the same definition gives the same number wherever it is read.
Percentiles are nearest-rank (the p90 is a duration some sample really had); shares are percentages rounded to
one decimal, with their numerator and denominator next to them so nobody has to trust a rounded figure.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from services.metrics import definitions as d
from services.metrics.definitions import Sample

NO_DATA = "no data"
# First-response distribution buckets (upper bounds in seconds; the last is open).
FRT_BUCKETS = (("0-1 min", 60), ("1-5 min", 300), ("5-15 min", 900), ("15-60 min", 3600), ("1 h+", math.inf))


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# Metrics whose ``value`` is reduced (durations, ratings, scores); the others are only counted by outcome.
VALUE_METRICS = (d.FRT_BOT, d.FRT_HUMAN, d.RESOLUTION, d.QUEUE_WAIT, d.HANDLING, d.CSAT, d.NPS)


@dataclass
class Values:
    """What the figures need of one metric's measured values: enough to be computed by SQL or from a list."""

    count: int = 0
    total: float = 0.0
    median: float | None = None
    p90: float | None = None
    buckets: tuple[int, ...] = (0,) * len(FRT_BUCKETS)
    satisfied: int = 0  # ratings 4-5
    promoters: int = 0  # scores 9-10
    detractors: int = 0  # scores 0-6

    @classmethod
    def of(cls, values: list[float]) -> Values:
        if not values:
            return cls()
        counts = [0] * len(FRT_BUCKETS)
        for v in values:
            counts[next(i for i, (_, upper) in enumerate(FRT_BUCKETS) if v < upper)] += 1
        return cls(count=len(values), total=math.fsum(values), median=statistics.median(values),
                   p90=nearest_rank(values, 0.9), buckets=tuple(counts),
                   satisfied=sum(1 for v in values if int(v) >= 4), promoters=sum(1 for v in values if int(v) >= 9),
                   detractors=sum(1 for v in values if int(v) <= 6))


@dataclass
class Stats:
    """One group's samples reduced to counts and value summaries: the input of :func:`figures_of`.

    Why this middle step: the from-scratch path builds it from a list of samples, the precomputed path from two
    ``GROUP BY`` queries; one reducer then turns either into the same figures.
    """

    counts: Counter[tuple[str, str, str | None]] = field(default_factory=Counter)  # (metric, outcome, key) -> n
    values: dict[str, Values] = field(default_factory=dict)
    backlog: list[Sample] = field(default_factory=list)

    @classmethod
    def of(cls, samples: Iterable[Sample]) -> Stats:
        stats = cls()
        measured: dict[str, list[float]] = {}
        for s in samples:
            if s.metric == d.BACKLOG:
                stats.backlog.append(s)
                continue
            stats.counts[(s.metric, s.outcome or "", s.key)] += 1
            if s.value is not None and s.metric in VALUE_METRICS:
                measured.setdefault(s.metric, []).append(s.value)
        stats.values = {metric: Values.of(values) for metric, values in measured.items()}
        return stats

    def outcomes(self, metric: str) -> Counter[str]:
        out: Counter[str] = Counter()
        for (m, outcome, _key), n in self.counts.items():
            if m == metric:
                out[outcome] += n
        return out

    def keyed(self, metric: str) -> Counter[tuple[str | None, str]]:
        out: Counter[tuple[str | None, str]] = Counter()
        for (m, outcome, key), n in self.counts.items():
            if m == metric:
                out[(key, outcome)] += n
        return out

    def total(self, metric: str) -> int:
        return sum(self.outcomes(metric).values())

    def value(self, metric: str) -> Values:
        return self.values.get(metric) or Values()


def durations_of(v: Values, rows: int) -> dict[str, Any]:
    """count (measured), pending (not finished: never answered, still waiting...), mean, median and p90 in seconds."""
    out: dict[str, Any] = {"count": v.count, "pending": rows - v.count}
    if v.count:
        out.update(mean_seconds=round(v.total / v.count, 1), median_seconds=round(v.median or 0.0, 1),
                   p90_seconds=round(v.p90 or 0.0, 1))
    else:
        out.update(mean_seconds=None, median_seconds=None, p90_seconds=None)
    return out


def buckets_of(v: Values) -> dict[str, int]:
    """How many measured durations fall in each first-response bucket."""
    return {name: v.buckets[i] for i, (name, _) in enumerate(FRT_BUCKETS)}


def csat_of(ratings: Values, asked: Counter[str]) -> dict[str, Any]:
    surveys = sum(asked.values())
    return {"responses": ratings.count, "satisfied": ratings.satisfied, "satisfied_pct": pct(ratings.satisfied,
                                                                                           ratings.count),
            "average": round(ratings.total / ratings.count, 2) if ratings.count else None,
            "surveys": surveys, "answered": asked["answered"], "response_pct": pct(asked["answered"], surveys)}


def nps_of(scores: Values) -> dict[str, Any]:
    """% promoters (9-10) minus % detractors (0-6); "no data" until the NPS survey writes its events."""
    if not scores.count:
        return {"responses": 0, "score": None, "status": NO_DATA}
    n = scores.count
    return {"responses": n, "promoters_pct": pct(scores.promoters, n), "detractors_pct": pct(scores.detractors, n),
            "score": round(100.0 * (scores.promoters - scores.detractors) / n, 1), "status": "ok"}


def figures(samples: Iterable[Sample]) -> dict[str, Any]:
    """Every headline figure of a set of samples (already filtered to one period and one group)."""
    return figures_of(Stats.of(samples))


def figures_of(st: Stats) -> dict[str, Any]:
    """Every headline figure of one group's :class:`Stats`."""
    contain = st.outcomes(d.CONTAINMENT)
    bot = st.outcomes(d.BOT_RESOLUTION)
    decided = bot["confirmed"] + bot["assumed"] + bot["unresolved"]
    handoff = st.outcomes(d.HANDOFF)
    contacts = sum(handoff.values())
    repeat = st.outcomes(d.REPEAT)
    repeats = sum(repeat.values())
    same_topic = st.keyed(d.REPEAT)[("same_topic", "within_7d")]
    kb = st.outcomes(d.KB)
    kb_feedback = kb["helped"] + kb["not_helped"]
    queue = st.outcomes(d.QUEUE_WAIT)
    reasons: Counter[str] = Counter()
    for (key, _outcome), n in st.keyed(d.ESCALATION).items():
        reasons[key or "unknown"] += n
    handled = st.value(d.HANDLING)
    backlog = Counter(s.outcome or "" for s in st.backlog)
    waiting_ages = [s.value for s in st.backlog if s.outcome != "assigned" and s.value is not None]
    return {
        "contacts": contacts,
        "frt_bot": {**durations_of(st.value(d.FRT_BOT), st.total(d.FRT_BOT)),
                    "buckets": buckets_of(st.value(d.FRT_BOT))},
        "frt_human": {**durations_of(st.value(d.FRT_HUMAN), st.total(d.FRT_HUMAN)),
                      "buckets": buckets_of(st.value(d.FRT_HUMAN))},
        "resolution_time": durations_of(st.value(d.RESOLUTION), st.total(d.RESOLUTION)),
        "csat": csat_of(st.value(d.CSAT), st.outcomes(d.CSAT_RESPONSE)),
        "nps": nps_of(st.value(d.NPS)),
        "containment": {"contacts": sum(contain.values()), "contained": contain["contained"],
                        "pct": pct(contain["contained"], sum(contain.values()))},
        "bot_resolution": {"confirmed": bot["confirmed"], "assumed": bot["assumed"], "unresolved": bot["unresolved"],
                           "pending": bot["pending"], "confirmed_pct": pct(bot["confirmed"], decided),
                           "assumed_pct": pct(bot["assumed"], decided),
                           "pct": pct(bot["confirmed"] + bot["assumed"], decided)},
        "handoff": {"contacts": contacts, "escalated": handoff["escalated"], "pct": pct(handoff["escalated"], contacts),
                    "escalations_by_reason": dict(sorted(reasons.items()))},
        "repeat_contact": {"contacts": repeats, "within_7d": repeat["within_7d"],
                           "within_30d": repeat["within_7d"] + repeat["within_30d"],
                           "pct_7d": pct(repeat["within_7d"], repeats),
                           "pct_30d": pct(repeat["within_7d"] + repeat["within_30d"], repeats),
                           "same_topic_7d": same_topic},
        "kb": {"answers": sum(kb.values()), "feedback": kb_feedback, "helped": kb["helped"],
               "helped_pct": pct(kb["helped"], kb_feedback), "feedback_pct": pct(kb_feedback, sum(kb.values()))},
        "queue_wait": {**durations_of(st.value(d.QUEUE_WAIT), st.total(d.QUEUE_WAIT) - queue["abandoned"]),
                       "abandoned": queue["abandoned"], "offline_tickets": queue["offline"]},
        "handling_time": {**durations_of(handled, st.total(d.HANDLING)),
                          "total_seconds": round(handled.total, 1), "resolved": st.outcomes(d.HANDLING)["resolved"]},
        "backlog": {"waiting": backlog["waiting_queued"], "offline_tickets": backlog["waiting_offline"],
                    "assigned": backlog["assigned"],
                    "oldest_wait_seconds": round(max(waiting_ages), 1) if waiting_ages else None},
    }


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"csat": {"average": 4.5}}`` -> ``{"csat.average": 4.5}`` (the CSV's and the tables' column names)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out
