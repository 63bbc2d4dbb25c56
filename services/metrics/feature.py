"""Metrics feature: ``/api/metrics`` (JSON and CSV), computed from the conversation event log.

``on_startup`` runs after handoff's (it reuses the policy's calendars and the topic routing, and the lifecycle's
clock, so tests that freeze time freeze the reports too) and puts
:class:`services.metrics.report.MetricsService` on ``app.state.metrics``, with the precomputed samples
(:class:`services.metrics.precompute.SampleStore`): brought up to date at start-up (a restart catches up from the
stored cursor), after each committed event (an after-commit listener of the event bus wakes a background task,
which batches whatever arrived meanwhile) and before each report.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from handoff.feature import CSP
from services.conversations.bus import Event
from services.metrics.api import router
from services.metrics.precompute import SampleStore
from services.metrics.query import DEFAULT_ASSUMED_HOURS
from services.metrics.report import MetricsService

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"
IDLE_SECONDS = 30.0  # also catch up this often without a wake-up (events written by another process)
SETTLE_SECONDS = 1.0  # after a wake-up, wait this long so a burst of events is one catch-up


def register(app: FastAPI) -> None:
    app.include_router(router)
    # Under /console, so the console's security headers (handoff.feature.SecurityHeaders) cover these files.
    app.mount("/console/metrics/static", StaticFiles(directory=STATIC_DIR), name="metrics-static")

    @app.get("/console/metrics", include_in_schema=False)
    def own_metrics_page() -> FileResponse:
        """An agent's own figures (a lead sees everything, as on /console/lead#metrics)."""
        return FileResponse(STATIC_DIR / "mine.html", headers={
            "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store"})


async def on_startup(app: FastAPI) -> None:
    handoff = app.state.handoff
    conversations = app.state.conversations
    store = SampleStore(app.state.db, handoff.hours, handoff.router, timedelta(hours=DEFAULT_ASSUMED_HOURS))
    app.state.metrics = MetricsService(app.state.db, handoff.hours, handoff.router, lambda: conversations.clock(),
                                       store)
    wake = asyncio.Event()

    async def on_event(_event: Event) -> None:
        wake.set()

    conversations.bus.on_commit(None, on_event)
    app.state.metrics_task = asyncio.create_task(_keep_up(store, wake))


async def _keep_up(store: SampleStore, wake: asyncio.Event) -> None:
    """Catch up at start-up, then after each wake-up (or every :data:`IDLE_SECONDS`), in a worker thread."""
    while True:
        try:
            await asyncio.to_thread(store.catch_up)
        except Exception:  # noqa: BLE001 - a failed catch-up is retried; reports catch up themselves too
            log.exception("metrics: catching up the precomputed samples failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=IDLE_SECONDS)
            await asyncio.sleep(SETTLE_SECONDS)
        wake.clear()


async def on_shutdown(app: FastAPI) -> None:
    task = getattr(app.state, "metrics_task", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
