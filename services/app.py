"""The services app: one FastAPI application hosting every HTTP/WebSocket feature of the product.

Each feature lives in its own module and exposes ``register(app)`` (routes, static files),
``async on_startup(app)`` and ``async on_shutdown(app)``; this file lists them explicitly, in order, and only
wires them together. A feature that fails to import stops the app with the import error: a product that starts
without its handoff or its search would fail customers quietly.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from fastapi import FastAPI, Request  # noqa: E402
from fastapi.middleware.gzip import GZipMiddleware  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from fastapi_offline import FastAPIOffline  # noqa: E402

from services.configcheck import ensure_valid  # noqa: E402
from services.db import Database, migrate  # noqa: E402
from services.orders.api import router as orders_router  # noqa: E402
from services.orders.repository import load_demo_orders  # noqa: E402
from services.settings import Settings, load_settings  # noqa: E402

log = logging.getLogger(__name__)

class FeatureModule(Protocol):
    """What a feature module provides (see services/chat/feature.py for an example)."""

    __name__: str

    def register(self, app: FastAPI) -> None: ...


@dataclass(frozen=True)
class Feature:
    """One feature of the app and its life-cycle hooks."""

    name: str
    module: FeatureModule

    def register(self, app: FastAPI) -> None:
        self.module.register(app)

    async def start(self, app: FastAPI) -> None:
        hook = getattr(self.module, "on_startup", None)
        if hook is not None:
            await hook(app)

    async def stop(self, app: FastAPI) -> None:
        hook = getattr(self.module, "on_shutdown", None)
        if hook is not None:
            await hook(app)


def features() -> list[Feature]:
    """Every feature, in the order routes are registered and started (help-center catch-all pages last).

    Imported here, not at module level, so the settings check runs first and names a broken YAML file before
    any feature reads it.
    """
    from handoff import feature as handoff_feature
    from services import search_feature
    from services.chat import feature as chat_feature
    from services.helpcenter import feature as helpcenter_feature
    from services.kb_events import feature as kb_events_feature
    from services.metrics import feature as metrics_feature
    from services.privacy import feature as privacy_feature
    from services.workspace import feature as workspace_feature

    return [Feature("kb_events", kb_events_feature), Feature("search", search_feature),
            Feature("chat", chat_feature), Feature("handoff", handoff_feature),
            Feature("metrics", metrics_feature), Feature("workspace", workspace_feature),
            Feature("privacy", privacy_feature),
            Feature("helpcenter", helpcenter_feature)]


def _database_ok(db: Database) -> bool:
    from sqlalchemy import text

    try:
        with db.session() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:  # unreachable, locked, out of connections: reported, not raised
        log.exception("health check: the database did not answer")
        return False


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; tests pass their own settings (database, data directory)."""
    # A typo in a file a support lead edits stops start-up with file, key and problem (services/configcheck).
    ensure_valid()
    settings = settings or load_settings()
    enabled = features()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(settings.database_url)
        with app.state.db.session() as session:
            load_demo_orders(session)
        for feature in enabled:
            await feature.start(app)
        try:
            yield
        finally:
            for feature in reversed(enabled):
                await feature.stop(app)
            app.state.db.dispose()

    # /docs and /redoc load Swagger UI and ReDoc from files shipped with the app (fastapi-offline), never a CDN:
    # deployments without internet get a working API page.
    app = FastAPIOffline(
        title="Lumo support services",
        version="0.1.0",
        description="Chat gateway, help center, knowledge-base search, human handoff and the demo order backend.",
        lifespan=lifespan,
    )
    # Pages, the widget script and JSON answers compress well; customers on phones feel the difference.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.state.settings = settings
    app.state.db = Database(settings.database_url)

    @app.get("/api/health", tags=["health"], responses={503: {"description": "the database or Redis is down"}})
    async def health() -> JSONResponse:
        """Readiness: the app answers, its database is reachable and, in production, Redis answers a PING.

        A load balancer takes a process whose Redis hangs out of rotation instead of sending it customers."""
        checks = {"database": await asyncio.to_thread(_database_ok, app.state.db)}
        hub = getattr(app.state, "hub", None)
        if settings.redis_url:
            checks["redis"] = bool(hub is not None and await hub.healthy())
        ok = all(checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "app_env": settings.app_env, "checks": checks,
                             "features": [f.name for f in enabled]}, status_code=200 if ok else 503)

    @app.exception_handler(UnicodeEncodeError)
    async def unreadable_text(_request: Request, _error: UnicodeEncodeError) -> JSONResponse:
        """A lone UTF-16 surrogate (JSON allows spelling one) cannot be stored or sent: a clear 422, not a 500.
        Customers' and agents' message texts are repaired instead (textnorm.unicode.valid_text)."""
        return JSONResponse({"detail": "the text contains an invalid character (a lone UTF-16 surrogate)"},
                            status_code=422)

    app.include_router(orders_router)
    for feature in enabled:
        feature.register(app)
    return app
