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


def durations(samples: Iterable[Sample]) -> dict[str, Any]:
    """count (measured), pending (not finished: never answered, still waiting...), mean, median and p90 in seconds."""
    rows = list(samples)
    values = [s.value for s in rows if s.value is not None]
    out: dict[str, Any] = {"count": len(values), "pending": len(rows) - len(values)}
    if values:
        out.update(mean_seconds=round(statistics.fmean(values), 1), median_seconds=round(statistics.median(values), 1),
                   p90_seconds=round(nearest_rank(values, 0.9), 1))
    else:
        out.update(mean_seconds=None, median_seconds=None, p90_seconds=None)
    return out


def buckets(samples: Iterable[Sample]) -> dict[str, int]:
    """How many measured durations fall in each first-response bucket."""
    counts = dict.fromkeys((name for name, _ in FRT_BUCKETS), 0)
    for s in samples:
        if s.value is not None:
            counts[next(name for name, upper in FRT_BUCKETS if s.value < upper)] += 1
    return counts


def csat(answers: list[Sample], asked: list[Sample]) -> dict[str, Any]:
    ratings = [int(s.value) for s in answers if s.value is not None]
    satisfied = sum(1 for r in ratings if r >= 4)
    answered = sum(1 for s in asked if s.outcome == "answered")
    return {"responses": len(ratings), "satisfied": satisfied, "satisfied_pct": pct(satisfied, len(ratings)),
            "average": round(statistics.fmean(ratings), 2) if ratings else None,
            "surveys": len(asked), "answered": answered, "response_pct": pct(answered, len(asked))}


def nps(answers: list[Sample]) -> dict[str, Any]:
    """% promoters (9-10) minus % detractors (0-6); "no data" until the NPS survey writes its events."""
    scores = [int(s.value) for s in answers if s.value is not None]
    if not scores:
        return {"responses": 0, "score": None, "status": NO_DATA}
    promoters = sum(1 for v in scores if v >= 9)
    detractors = sum(1 for v in scores if v <= 6)
    return {"responses": len(scores), "promoters_pct": pct(promoters, len(scores)),
            "detractors_pct": pct(detractors, len(scores)),
            "score": round(100.0 * (promoters - detractors) / len(scores), 1), "status": "ok"}


def outcomes(samples: list[Sample]) -> Counter[str]:
    return Counter(s.outcome or "" for s in samples)


def figures(samples: Iterable[Sample]) -> dict[str, Any]:
    """Every headline figure of a set of samples (already filtered to one period and one group)."""
    by: dict[str, list[Sample]] = {}
    for s in samples:
        by.setdefault(s.metric, []).append(s)

    def get(metric: str) -> list[Sample]:
        return by.get(metric, [])

    contain = outcomes(get(d.CONTAINMENT))
    bot = outcomes(get(d.BOT_RESOLUTION))
    decided = bot["confirmed"] + bot["assumed"] + bot["unresolved"]
    handoff = outcomes(get(d.HANDOFF))
    contacts = len(get(d.HANDOFF))
    repeat = outcomes(get(d.REPEAT))
    same_topic = sum(1 for s in get(d.REPEAT) if s.key == "same_topic" and s.outcome == "within_7d")
    kb = outcomes(get(d.KB))
    kb_feedback = kb["helped"] + kb["not_helped"]
    queue = get(d.QUEUE_WAIT)
    backlog = outcomes(get(d.BACKLOG))
    waiting_ages = [s.value for s in get(d.BACKLOG) if s.outcome != "assigned" and s.value is not None]
    handled = get(d.HANDLING)
    return {
        "contacts": contacts,
        "frt_bot": {**durations(get(d.FRT_BOT)), "buckets": buckets(get(d.FRT_BOT))},
        "frt_human": {**durations(get(d.FRT_HUMAN)), "buckets": buckets(get(d.FRT_HUMAN))},
        "resolution_time": durations(get(d.RESOLUTION)),
        "csat": csat(get(d.CSAT), get(d.CSAT_RESPONSE)),
        "nps": nps(get(d.NPS)),
        "containment": {"contacts": sum(contain.values()), "contained": contain["contained"],
                        "pct": pct(contain["contained"], sum(contain.values()))},
        "bot_resolution": {"confirmed": bot["confirmed"], "assumed": bot["assumed"], "unresolved": bot["unresolved"],
                           "pending": bot["pending"], "confirmed_pct": pct(bot["confirmed"], decided),
                           "assumed_pct": pct(bot["assumed"], decided),
                           "pct": pct(bot["confirmed"] + bot["assumed"], decided)},
        "handoff": {"contacts": contacts, "escalated": handoff["escalated"], "pct": pct(handoff["escalated"], contacts),
                    "escalations_by_reason": dict(sorted(Counter(s.key or "unknown"
                                                                 for s in get(d.ESCALATION)).items()))},
        "repeat_contact": {"contacts": len(get(d.REPEAT)), "within_7d": repeat["within_7d"],
                           "within_30d": repeat["within_7d"] + repeat["within_30d"],
                           "pct_7d": pct(repeat["within_7d"], len(get(d.REPEAT))),
                           "pct_30d": pct(repeat["within_7d"] + repeat["within_30d"], len(get(d.REPEAT))),
                           "same_topic_7d": same_topic},
        "kb": {"answers": len(get(d.KB)), "feedback": kb_feedback, "helped": kb["helped"],
               "helped_pct": pct(kb["helped"], kb_feedback), "feedback_pct": pct(kb_feedback, len(get(d.KB)))},
        "queue_wait": {**durations(s for s in queue if s.outcome != "abandoned"),
                       "abandoned": sum(1 for s in queue if s.outcome == "abandoned"),
                       "offline_tickets": sum(1 for s in queue if s.outcome == "offline")},
        "handling_time": {**durations(handled),
                          "total_seconds": round(sum(s.value for s in handled if s.value is not None), 1),
                          "resolved": sum(1 for s in handled if s.outcome == "resolved")},
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
