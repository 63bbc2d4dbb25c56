"""Query time of the support metrics' dashboard panels on a generated event log (SQLite or PostgreSQL).

    python -m bench.metrics_query --database-url sqlite:////tmp/metrics-bench.db --conversations 100000 \
        --days 30 --runs 20 --out /tmp/metrics-bench.json

Measures the panels as the dashboard asks for them (each one API call: the report with the previous period,
the daily series, every table), read from the precomputed samples (``metric_samples``), after timing the initial
build of those samples from the log and an incremental catch-up after new conversations arrive. ``--live`` also
times the from-scratch report (the definition walked over the log; tens of seconds at 100k conversations).

Why generated rows and not the product's code paths: 1M events through the chat gateway take hours; the report
reads only the log, so rows with the shapes the lifecycle writes (same kinds, same ``data`` keys, same status
after each event, in log order) measure the same queries and the same Python work. The mix per conversation:
every one opens, asks and gets a bot reply; 40 % get a knowledge-base answer (half of those give feedback);
25 % are escalated (80 % of them claimed, answered, resolved or handed back, 10 % transferred first, 40 % rated);
10 % come back later (reopened); 0-3 extra exchanges with the bot. About 10 events per conversation.

Prints and writes: rows generated, generation time, and per operation (the whole report for the period, the
report with the previous period, one table) the median and p95 wall time over ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from handoff.hours import BusinessHours
from handoff.policy import load_policy
from handoff.routing import Router
from services.conversations.models import Conversation, ConversationEvent
from services.db import Database, migrate
from services.metrics.models import MetricSample
from services.metrics.precompute import SampleStore
from services.metrics.query import MetricQuery
from services.metrics.report import MetricsService

END = datetime(2026, 12, 1, 3, 0)  # 1 Dec 2026 00:00 in São Paulo, naive UTC
TOPICS = ("order_status", "delivery_problem", "payment_failed", "return_product", "app_login_problem",
          "password_reset", "device_setup")
REASONS = ("customer_request", "repeated_fallback", "frustration", "unanswered_repeat", "always_human")


def conversation(rng: random.Random, cid: str, start: datetime, agents: int) -> Iterator[dict[str, Any]]:
    """The events of one generated conversation, in log order, shaped like the lifecycle's rows."""
    t = start
    lang = "pt" if rng.random() < 0.8 else "en"
    intent = rng.choice(TOPICS)
    team = "suporte" if intent in TOPICS[4:] else "atendimento"
    seq = 0

    def ev(kind: str, actor: str, status: str, seconds: float = 0, **data: Any) -> dict[str, Any]:
        nonlocal t
        t = t + timedelta(seconds=seconds)
        extra = {k: data.pop(k) for k in ("agent_id", "team", "handoff_id") if k in data}
        return {"conversation_id": cid, "kind": kind, "actor": actor, "status": status, "data": data,
                "created_at": t, **extra}

    def message(kind: str, actor: str, status: str, seconds: float, **data: Any) -> dict[str, Any]:
        nonlocal seq
        seq += 1
        return ev(kind, actor, status, seconds, seq=seq, **data)

    yield ev("conversation_opened", "customer", "bot", language=lang, channel="web")
    for visit in range(2 if rng.random() < 0.1 else 1):
        status = "bot"
        if visit:
            yield message("customer_message", "customer", "resolved", rng.uniform(3600, 5 * 86400))
            yield ev("reopened", "customer", "bot")
        else:
            yield message("customer_message", "customer", status, 5)
        for _turn in range(rng.choice((0, 1, 2, 3))):  # a few more exchanges with the bot
            yield message("bot_reply", "bot", status, rng.uniform(0.5, 4), intent=intent, confidence=0.8,
                          kb_article=None, customer_seq=seq)
            yield message("customer_message", "customer", status, rng.uniform(5, 90))
        kb = rng.random() < 0.4
        article = f"artigo-{rng.randrange(60)}"
        yield message("bot_reply", "bot", status, rng.uniform(0.5, 4), intent=intent, confidence=0.9,
                      kb_article={"article_id": article} if kb else None, customer_seq=seq)
        if kb:
            yield ev("kb_answer", "bot", status, article_id=article, title=article, url=f"/ajuda/{article}",
                     score=0.8)
            if rng.random() < 0.5:
                yield message("customer_message", "customer", status, rng.uniform(5, 60))
                yield ev("kb_feedback", "customer", status, rng.uniform(0.5, 2), article_id=article,
                         helped=rng.random() < 0.7)
        if rng.random() >= 0.25:
            continue
        handoff = rng.randrange(1, 2 ** 31)
        yield ev("escalated", "bot", "queued", 20, reason=rng.choice(REASONS), intent=intent, handoff_id=handoff,
                 team=team)
        yield ev("queued", "system", "queued", team=team, handoff_id=handoff, waiting="queued", position=1)
        if rng.random() >= 0.8:
            continue  # still waiting or abandoned
        agent = rng.randrange(1, agents + 1)
        yield ev("agent_joined", "agent", "assigned", rng.uniform(30, 1800), agent_id=agent, team=team,
                 handoff_id=handoff, agent_name=f"Agent {agent}")
        if rng.random() < 0.1:
            yield ev("transferred", "agent", "queued", rng.uniform(60, 600), agent_id=agent, team=team,
                     handoff_id=handoff, from_team=team, to_team=team, waiting="queued")
            agent = rng.randrange(1, agents + 1)
            yield ev("agent_joined", "agent", "assigned", rng.uniform(30, 900), agent_id=agent, team=team,
                     handoff_id=handoff, agent_name=f"Agent {agent}")
        yield message("agent_message", "agent", "assigned", rng.uniform(10, 120), agent_id=agent, team=team)
        yield message("customer_message", "customer", "assigned", rng.uniform(10, 120), team=team)
        yield message("agent_message", "agent", "assigned", rng.uniform(10, 120), agent_id=agent, team=team)
        if rng.random() < 0.9:
            yield ev("resolved", "agent", "resolved", rng.uniform(30, 600), agent_id=agent, team=team,
                     handoff_id=handoff, tag="resolvido")
            if rng.random() < 0.4:
                yield ev("csat", "customer", "resolved", rng.uniform(5, 120), team=team,
                         rating=rng.choice((1, 2, 3, 4, 4, 5, 5, 5)), comment=None)
        else:
            yield ev("handed_back", "agent", "bot", rng.uniform(30, 600), agent_id=agent, team=team,
                     handoff_id=handoff)


def generate(db: Database, conversations: int, days: int, seed: int, agents: int = 12) -> dict[str, Any]:
    """Insert ``conversations`` generated conversations spread over the ``days`` before :data:`END`."""
    rng = random.Random(seed)
    began = time.perf_counter()
    total = 0
    convs: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []

    def flush() -> None:
        with db.session() as s:
            if convs:
                s.execute(insert(Conversation), convs)
            if events:
                s.execute(insert(ConversationEvent), events)
        convs.clear()
        events.clear()

    for i in range(conversations):
        cid = f"bench-{seed}-{i:07d}"
        start = END - timedelta(days=days) + timedelta(seconds=rng.uniform(0, days * 86400 - 6 * 86400))
        rows = list(conversation(rng, cid, start, agents))
        convs.append({"id": cid, "language": rows[0]["data"]["language"], "status": rows[-1]["status"],
                      "last_seq": 0, "created_at": start, "updated_at": rows[-1]["created_at"]})
        events.extend(rows)
        total += len(rows)
        if len(events) >= 20000:
            flush()
    flush()
    return {"conversations": conversations, "events": total, "generate_seconds": round(time.perf_counter() - began, 1)}


def timed(operations: dict[str, Any], runs: int) -> dict[str, dict[str, float]]:
    """Median and p95 (nearest rank) wall and CPU time of each operation, run round-robin.

    Why round-robin and CPU time: on a shared, loaded machine the wall time of one operation depends on what the
    neighbours do at that moment; interleaving spreads that over all operations, and this process's CPU time
    (SQLite runs in-process; PostgreSQL's own work is not in it) is much less sensitive to it.
    """
    wall: dict[str, list[float]] = {name: [] for name in operations}
    cpu: dict[str, list[float]] = {name: [] for name in operations}
    for _ in range(runs):
        for name, fn in operations.items():
            began, began_cpu = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - began)
            cpu[name].append(time.process_time() - began_cpu)

    def p95(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    return {name: {"median_ms": round(statistics.median(wall[name]) * 1000, 1),
                   "p95_ms": round(p95(wall[name]) * 1000, 1),
                   "cpu_median_ms": round(statistics.median(cpu[name]) * 1000, 1), "runs": runs}
            for name in operations}


def _catch_up_after(db: Database, store: SampleStore, seed: int) -> dict[str, float]:
    """Time of the incremental catch-up after 100 new conversations (the work after a burst of chats)."""
    rng = random.Random(seed + 1)
    convs, events = [], []
    for i in range(100):
        cid = f"bench-new-{seed}-{time.time_ns()}-{i}"
        start = END - timedelta(hours=rng.uniform(1, 20))
        rows = list(conversation(rng, cid, start, 12))
        convs.append({"id": cid, "language": rows[0]["data"]["language"], "status": rows[-1]["status"],
                      "last_seq": 0, "created_at": start, "updated_at": rows[-1]["created_at"]})
        events.extend(rows)
    with db.session() as s:
        s.execute(insert(Conversation), convs)
        s.execute(insert(ConversationEvent), events)
    began = time.perf_counter()
    done = store.catch_up()
    return {"seconds": round(time.perf_counter() - began, 2), "conversations": done, "events": len(events)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="sqlite:///… or postgresql+psycopg://…")
    parser.add_argument("--conversations", type=int, default=10000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="measure the rows already in the database")
    parser.add_argument("--live", action="store_true", help="also time the from-scratch report (slow)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.days < 7 or args.runs < 1:
        parser.error("--conversations ≥ 1, --days ≥ 7 and --runs ≥ 1")

    migrate(args.database_url)
    db = Database(args.database_url)
    with db.session() as s:
        existing = s.scalar(select(func.count()).select_from(ConversationEvent)) or 0
    if args.reuse and existing:
        data: dict[str, Any] = {"events": existing, "reused": True}
    elif existing:
        parser.error(f"the database already holds {existing} events; use an empty one or --reuse")
    else:
        data = generate(db, args.conversations, args.days, args.seed)
    policy = load_policy()
    hours, router = BusinessHours(policy), Router(policy)
    store = SampleStore(db, hours, router, timedelta(hours=24))
    began = time.perf_counter()
    store.catch_up()
    data["precompute_seconds"] = round(time.perf_counter() - began, 1)
    # What autovacuum does after a bulk insert (planner statistics, the visibility map for index-only scans).
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE metric_samples, metric_daily" if db.engine.dialect.name == "postgresql"
                          else "ANALYZE"))
    metrics = MetricsService(db, hours, router, lambda: END + timedelta(days=2), store)
    query = MetricQuery(start=END - timedelta(days=args.days), end=END)
    business = MetricQuery(start=query.start, end=query.end, business_hours=True)
    one_team = MetricQuery(start=query.start, end=query.end, team="suporte")
    one_agent = MetricQuery(start=query.start, end=query.end, agent_id=3)

    def table(name: str, q: MetricQuery = query) -> Any:
        return lambda: metrics.tables(q, [name])

    operations: dict[str, Any] = {
        "report_30d": lambda: metrics.report(query, compare=False),
        "report_30d_with_previous": lambda: metrics.report(query, compare=True),
        "report_30d_business_hours": lambda: metrics.report(business, compare=True),
        "report_30d_one_team": lambda: metrics.report(one_team, compare=True),
        "report_30d_one_agent": lambda: metrics.report(one_agent, compare=True),
        **{f"table_{name}": table(name) for name in ("by_day", "by_team", "by_intent", "by_agent",
                                                     "handoff_reasons", "kb_articles", "frt_buckets", "backlog",
                                                     "comments", "unanswered", "summary")},
    }
    load_before = os.getloadavg()[0]
    timings = timed(operations, args.runs)
    timings["catch_up_after_100_new_conversations"] = _catch_up_after(db, store, args.seed)
    if args.live:
        timings["live_report_30d"] = timed({"live": lambda: metrics.report(query, compare=False, live=True)},
                                           1)["live"]
    with db.session() as s:
        sample_count = s.scalar(select(func.count()).select_from(MetricSample))
    result = {"database": args.database_url.split(":", 1)[0], **data, "period_days": args.days,
              "samples": sample_count, "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
              **timings}
    db.dispose()
    output = json.dumps(result, indent=2)
    print(output)
    if args.out:
        args.out.write_text(output + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
