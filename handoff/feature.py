"""Handoff feature: escalation API, agent console (``/console``), ``WS /ws/agent``, webhook worker.

Wiring (services/app.py ``FEATURE_MODULES``): ``register(app)`` adds the routes and static files;
``on_startup`` runs after the chat gateway's (it needs ``app.state.chat`` and ``app.state.hub``) and puts
:class:`handoff.service.HandoffService` on ``app.state.handoff``.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handoff import listeners
from handoff.api import router as api_router
from handoff.auth import LoginThrottle
from handoff.policy import load_policy
from handoff.service import HandoffService
from handoff.ws import router as ws_router

CONSOLE_DIR = Path(__file__).resolve().parent / "console"
# The console page may only load its own files; nothing inline, nothing from other sites.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
# Every response of these paths gets SECURITY_HEADERS: the console page under any URL it can be reached by
# (/console, /console/static/index.html), its scripts and styles, and the handoff API.
GUARDED_PREFIXES = ("/console", "/api/handoff")
log = logging.getLogger(__name__)


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task, unlike ``@app.middleware``): adds SECURITY_HEADERS to HTTP
    responses under GUARDED_PREFIXES, keeping any a route set itself; every other path passes untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(GUARDED_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def register(app: FastAPI) -> None:
    app.include_router(api_router)
    app.include_router(ws_router)
    app.mount("/console/static", StaticFiles(directory=CONSOLE_DIR), name="console-static")

    app.add_middleware(SecurityHeaders)

    @app.get("/console", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(CONSOLE_DIR / "index.html", headers={
            "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store"})

    @app.get("/console/", include_in_schema=False)
    def console_slash() -> RedirectResponse:
        return RedirectResponse("/console")


async def on_startup(app: FastAPI) -> None:
    policy = load_policy()
    service = HandoffService(app.state.conversations, app.state.chat, app.state.hub, policy)
    listeners.register(app.state.conversations.bus, service)
    app.state.handoff = service
    agents = policy.section("agents")
    app.state.handoff_throttle = LoginThrottle(app.state.db, int(agents.get("max_failed_logins", 5)),
                                               int(agents.get("max_failed_logins_per_address", 20)))
    service.webhooks.start()
    gone = float(agents.get("requeue_after_seconds", 120))
    service.spawn(requeue_absent(service, gone, every=min(15.0, gone / 4)))


async def requeue_absent(service: HandoffService, gone_seconds: float, every: float) -> None:
    """Background sweep: chats whose agent's console is gone go back to the queue (every process may run it;
    :meth:`HandoffService.requeue` is conditional, so a chat is requeued once)."""
    while True:
        await asyncio.sleep(every)
        try:
            await sweep(service, gone_seconds)
        except Exception:  # the sweep must outlive a database hiccup; the next round retries
            log.exception("requeue sweep failed; retrying in %.0f s", every)


async def sweep(service: HandoffService, gone_seconds: float) -> int:
    """One round of :func:`requeue_absent`; how many chats went back to a queue."""
    moved = 0
    for handoff_id, agent_id in await asyncio.to_thread(service.absent_holders, gone_seconds):
        if await service.requeue(handoff_id, agent_id, gone_seconds) is not None:
            moved += 1
    return moved


async def on_shutdown(app: FastAPI) -> None:
    service: HandoffService | None = getattr(app.state, "handoff", None)
    if service is not None:
        await service.aclose()
