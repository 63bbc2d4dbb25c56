"""Handoff feature: escalation API, agent console (``/console``), ``WS /ws/agent``, webhook worker.

Wiring (services/app.py ``FEATURE_MODULES``): ``register(app)`` adds the routes and static files;
``on_startup`` runs after the chat gateway's (it needs ``app.state.chat`` and ``app.state.hub``) and puts
:class:`handoff.service.HandoffService` on ``app.state.handoff``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

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


def register(app: FastAPI) -> None:
    app.include_router(api_router)
    app.include_router(ws_router)
    app.mount("/console/static", StaticFiles(directory=CONSOLE_DIR), name="console-static")

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
    app.state.handoff_throttle = LoginThrottle(int(policy.section("agents").get("max_failed_logins", 5)))
    service.webhooks.start()


async def on_shutdown(app: FastAPI) -> None:
    service: HandoffService | None = getattr(app.state, "handoff", None)
    if service is not None:
        await service.aclose()
