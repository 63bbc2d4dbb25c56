"""Typed FastAPI dependencies for what the app keeps on ``app.state``: one place that knows the names.

Why: routes used to read ``request.app.state.<name>`` directly (41 untyped lookups), so a typo or a missing
feature surfaced as an AttributeError at request time and the type checker saw ``Any`` everywhere. A route now
declares what it needs (``chat: ChatDep``), for HTTP and WebSocket alike (``HTTPConnection`` covers both), and a
missing service is a clear 503 naming it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from services.chat.config import ChatConfig
from services.chat.service import ChatService
from services.chat.tokens import TokenSigner
from services.conversations.lifecycle import Conversations
from services.db import Database
from services.settings import Settings

# The largest id an INTEGER column holds in PostgreSQL (SQLite's are wider); a larger id in a URL is a 422,
# not a database overflow and a 500.
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a row id (1 to 2,147,483,647)")]


def state_of(conn: HTTPConnection, name: str) -> Any:
    """``app.state.<name>``, or 503 when the feature that provides it did not start."""
    value = getattr(conn.app.state, name, None)
    if value is None:
        raise HTTPException(status_code=503, detail=f"service {name!r} is not running in this app")
    return value


def get_settings(conn: HTTPConnection) -> Settings:
    return state_of(conn, "settings")


def get_database(conn: HTTPConnection) -> Database:
    return state_of(conn, "db")


def get_session(db: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """One database session per request, committed when the route returns without error."""
    with db.session() as session:
        yield session


def get_conversations(conn: HTTPConnection) -> Conversations:
    return state_of(conn, "conversations")


def get_chat(conn: HTTPConnection) -> ChatService:
    return state_of(conn, "chat")


def get_chat_tokens(conn: HTTPConnection) -> TokenSigner:
    return state_of(conn, "chat_tokens")


def get_chat_config(conn: HTTPConnection) -> ChatConfig:
    return state_of(conn, "chat_config")


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[Session, Depends(get_session)]
ConversationsDep = Annotated[Conversations, Depends(get_conversations)]
ChatDep = Annotated[ChatService, Depends(get_chat)]
ChatTokensDep = Annotated[TokenSigner, Depends(get_chat_tokens)]
ChatConfigDep = Annotated[ChatConfig, Depends(get_chat_config)]
