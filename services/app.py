"""The services app: one FastAPI application hosting every HTTP/WebSocket feature of the product.

Each feature lives in its own module and exposes ``register(app)`` (routes, static files) and optionally
``async on_startup(app)`` / ``async on_shutdown(app)``; this file only wires them together, so features can
be developed and tested on their own.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from fastapi import FastAPI  # noqa: E402
from fastapi.middleware.gzip import GZipMiddleware  # noqa: E402

from services.configcheck import ensure_valid  # noqa: E402
from services.db import Database, migrate  # noqa: E402
from services.orders.api import router as orders_router  # noqa: E402
from services.orders.repository import load_demo_orders  # noqa: E402
from services.settings import Settings, load_settings  # noqa: E402

log = logging.getLogger(__name__)

# Feature modules, in the order their routes are registered (the help center's catch-all pages come last).
FEATURE_MODULES = (
    "services.kb_events.feature",
    "services.search_feature",
    "services.chat.feature",
    "handoff.feature",
    "services.helpcenter.feature",
)


def _load_features() -> list[ModuleType]:
    modules = []
    for name in FEATURE_MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as error:
            if error.name and name.startswith(error.name):
                log.warning("feature %s is not installed in this build; skipping it", name)
                continue
            raise
    return modules


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; tests pass their own settings (database, data directory)."""
    # A typo in a file a support lead edits stops start-up with file, key and problem (services/configcheck).
    ensure_valid()
    settings = settings or load_settings()
    features = _load_features()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(settings.database_url)
        with app.state.db.session() as session:
            load_demo_orders(session)
        for feature in features:
            hook = getattr(feature, "on_startup", None)
            if hook:
                await hook(app)
        try:
            yield
        finally:
            for feature in reversed(features):
                hook = getattr(feature, "on_shutdown", None)
                if hook:
                    await hook(app)
            app.state.db.dispose()

    app = FastAPI(
        title="Lumo support services",
        version="0.1.0",
        description="Chat gateway, help center, knowledge-base search, human handoff and the demo order backend.",
        lifespan=lifespan,
    )
    # Pages, the widget script and JSON answers compress well; customers on phones feel the difference.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.state.settings = settings
    app.state.db = Database(settings.database_url)

    @app.get("/api/health", tags=["health"])
    def health() -> dict[str, object]:
        """Liveness: the app answers and its database is reachable."""
        from sqlalchemy import text

        with app.state.db.session() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "app_env": settings.app_env, "features": [f.__name__ for f in features]}

    app.include_router(orders_router)
    for feature in features:
        register = getattr(feature, "register", None)
        if register is not None:
            register(app)
        elif hasattr(feature, "router"):
            app.include_router(feature.router)
    return app
