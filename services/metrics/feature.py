"""Metrics feature: ``/api/metrics`` (JSON and CSV), computed from the conversation event log.

``on_startup`` runs after handoff's (it reuses the policy's calendars and the topic routing, and the lifecycle's
clock, so tests that freeze time freeze the reports too) and puts
:class:`services.metrics.report.MetricsService` on ``app.state.metrics``.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.metrics.api import router
from services.metrics.report import MetricsService


def register(app: FastAPI) -> None:
    app.include_router(router)


async def on_startup(app: FastAPI) -> None:
    handoff = app.state.handoff
    conversations = app.state.conversations
    app.state.metrics = MetricsService(app.state.db, handoff.hours, handoff.router, lambda: conversations.clock())
