"""Lead workspace feature: the lead's pages (``/console/lead``) and their APIs (``/api/lead/...``).

Each area is a module with a ``router`` and optional ``async on_startup(app)`` / ``async on_shutdown(app)``;
this file lists them and serves the page. Runs after handoff (it signs leads in with the console's session)
and after search (publishing an article re-indexes through ``app.state.search``).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from handoff.feature import CSP
from services.workspace import api_articles, api_audit, api_gaps, api_inbox, api_models, api_review
from services.workspace.config import load_workspace_config

STATIC_DIR = Path(__file__).resolve().parent / "static"
AREAS: tuple[ModuleType, ...] = (api_review, api_inbox, api_models, api_gaps, api_articles, api_audit)


def register(app: FastAPI) -> None:
    for area in AREAS:
        app.include_router(area.router)
    # Under /console, so the console's security headers (handoff.feature.SecurityHeaders) cover these files.
    app.mount("/console/lead/static", StaticFiles(directory=STATIC_DIR), name="lead-static")

    @app.get("/console/lead", include_in_schema=False)
    def lead_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "lead.html", headers={
            "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store"})


async def on_startup(app: FastAPI) -> None:
    # Tests put their own (over temporary copies of bot/data and kb_articles) before the app starts.
    if getattr(app.state, "workspace_config", None) is None:
        app.state.workspace_config = load_workspace_config()
    for area in AREAS:
        hook = getattr(area, "on_startup", None)
        if hook is not None:
            await hook(app)


async def on_shutdown(app: FastAPI) -> None:
    for area in reversed(AREAS):
        hook = getattr(area, "on_shutdown", None)
        if hook is not None:
            await hook(app)
