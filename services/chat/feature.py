"""Chat gateway feature: creates the hub and :class:`ChatService`, serves the widget's assets and routes.

Wiring (see services/app.py): ``register(app)`` adds ``/api/chat/*``, ``WS /ws/chat`` and the static
files under ``/static`` (``services/web/static``); ``on_startup`` puts ``app.state.hub``,
``app.state.chat`` and ``app.state.chat_tokens`` in place before handoff's start-up hook runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.chat import listeners, surveys
from services.chat.api import router as api_router
from services.chat.config import load_chat_config
from services.chat.hub import Hub
from services.chat.identity import VisitorTokens
from services.chat.rasa_client import RasaClient
from services.chat.service import ChatService
from services.chat.tokens import TokenSigner
from services.chat.widget_assets import register_widget_route
from services.chat.ws import router as ws_router
from services.conversations.idle import IdleCloser
from services.conversations.lifecycle import Conversations
from texts import catalogue

STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"


def register(app: FastAPI) -> None:
    app.include_router(api_router)
    app.include_router(ws_router)
    register_widget_route(app, catalogue(), load_chat_config())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


async def on_startup(app: FastAPI) -> None:
    settings = app.state.settings
    config = load_chat_config()
    hub = Hub(settings.redis_url, namespace=settings.deployment_namespace)
    await hub.start()
    rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_seconds, auth_token=settings.rasa_token)
    conversations = Conversations(app.state.db)
    listeners.register(conversations.bus, hub)
    app.state.hub = hub
    app.state.chat_config = config
    app.state.conversations = conversations
    app.state.chat = ChatService(app.state.db, hub, rasa, config, settings.public_url, conversations)
    app.state.chat_tokens = TokenSigner(settings.secret_key, config.session_max_age_days)
    app.state.visitor_tokens = VisitorTokens(settings.secret_key)
    surveys.register(conversations.bus, app.state.chat.surveys)
    app.state.idle_closer = IdleCloser(conversations, timedelta(hours=config.close_idle_after_hours))
    app.state.idle_closer.start()
    # Messages a previous run stored and acknowledged but never answered (killed mid-turn) are routed now.
    app.state.chat.resume_unanswered()


async def on_shutdown(app: FastAPI) -> None:
    closer: IdleCloser | None = getattr(app.state, "idle_closer", None)
    if closer is not None:
        await closer.stop()
    chat: ChatService | None = getattr(app.state, "chat", None)
    if chat is not None:
        with contextlib.suppress(asyncio.TimeoutError):
            await chat.drain(timeout=5.0)
        await chat.rasa.aclose()
    hub: Hub | None = getattr(app.state, "hub", None)
    if hub is not None:
        await hub.stop()
