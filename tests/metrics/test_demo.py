"""The demo history: written through the product's services, once, only when it should be, and consistent.

Why these checks: it must never touch a real deployment's database (production mode, the setting off, or any
conversation already there), must not run twice, and what it writes must be what the product writes (the
surveys' own ``csat_requested``, the handoff's ``queued``...), so the dashboard shows real code paths at work.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handoff.hours import BusinessHours
from handoff.policy import load_policy
from handoff.routing import Router
from scripts.demo_accounts import ensure_demo_accounts
from services.conversations.models import ConversationEvent
from services.db import Database
from services.metrics.demo import MARKER, should_run, write_history
from services.metrics.precompute import SampleStore
from services.metrics.query import MetricQuery
from services.metrics.report import TABLES, MetricsService
from services.settings import load_settings


def test_demo_history_once_through_the_services(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    ensure_demo_accounts(url, tmp_path)
    assert should_run(url, tmp_path, enabled=False, production=False) == "demo_history is false in the settings"
    assert should_run(url, tmp_path, enabled=True, production=True) == "production mode"
    assert should_run(url, tmp_path, enabled=True, production=False) is None
    counts = asyncio.run(write_history(url, tmp_path, days=4, per_day=8))
    assert counts["conversations"] >= 20 and counts["escalated"] > 0 and counts["resolved"] > 0
    assert should_run(url, tmp_path, enabled=True, production=False) == "already written"
    (tmp_path / MARKER).unlink()  # even without the marker, a database with conversations is left alone
    assert should_run(url, tmp_path, enabled=True, production=False) == "the database already has conversations"

    db = Database(url)
    with db.session() as s:
        kinds = dict(s.execute(select(ConversationEvent.kind, func.count()).group_by(ConversationEvent.kind)).all())
        first = s.scalar(select(func.min(ConversationEvent.created_at)))
    # Written by the services' own code: the handoff queues, the surveys ask, the KB path logs its answers.
    assert {"conversation_opened", "customer_message", "bot_reply", "kb_answer", "escalated", "queued",
            "agent_joined", "agent_message", "resolved", "csat_requested"} <= set(kinds)
    assert first < datetime.now(UTC).replace(tzinfo=None) - timedelta(days=3)  # the simulated clock, not today

    policy = load_policy()
    hours, router = BusinessHours(policy), Router(policy)
    now = datetime.now(UTC).replace(tzinfo=None)
    metrics = MetricsService(db, hours, router, lambda: now, SampleStore(db, hours, router, timedelta(hours=24)))
    query = MetricQuery(start=now - timedelta(days=6), end=now)
    stored, live = metrics.tables(query), metrics.tables(query, live=True)
    assert all(stored[name] == live[name] for name in TABLES)
    assert metrics.report(query, compare=False)["figures"]["contacts"] == counts["conversations"]
    db.dispose()


def test_demo_history_setting_is_validated() -> None:
    with pytest.raises(ValueError, match="demo_history must be true or false"):
        load_settings(demo_history="sim")
    assert load_settings(demo_history=False).demo_history is False
