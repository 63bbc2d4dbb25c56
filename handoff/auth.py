"""Agent sign-in: argon2 password hashes, server-side sessions in an HttpOnly cookie, role/team checks.

Why server-side sessions (a random token whose SHA-256 is stored) rather than signed cookies: signing out,
disabling an agent or an expiry takes effect immediately, in every app process.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import timedelta
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request, WebSocket
from sqlalchemy import delete, select

from handoff.models import Agent, AgentSession, utcnow
from services.db import Database
from services.deps import DatabaseDep

COOKIE = "lumo_agent"
_hasher = PasswordHasher()
# A hash to verify against when the e-mail is unknown, so timing does not reveal which e-mails exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
LOCK_SECONDS = 15 * 60


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("passwords need at least 8 characters")
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginThrottle:
    """Failed sign-ins per e-mail in this process; enough to stop online guessing of one account."""

    def __init__(self, max_failures: int) -> None:
        self.max_failures = max_failures
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def locked(self, email: str) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(email, []) if now - t < LOCK_SECONDS]
            self._failures[email] = recent
            return len(recent) >= self.max_failures

    def failed(self, email: str) -> None:
        with self._lock:
            self._failures.setdefault(email, []).append(time.monotonic())

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(email, None)


def authenticate(db: Database, email: str, password: str) -> Agent | None:
    """The active agent with these credentials, else None (same work whether or not the e-mail exists)."""
    with db.session() as s:
        agent = s.scalars(select(Agent).where(Agent.email == email.strip().lower())).first()
        try:
            _hasher.verify(agent.password_hash if agent else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if agent is None or not agent.active:
            return None
        if _hasher.check_needs_rehash(agent.password_hash):
            agent.password_hash = _hasher.hash(password)
        return agent


def create_session(db: Database, agent_id: int, hours: float) -> str:
    token = secrets.token_urlsafe(32)
    with db.session() as s:
        s.execute(delete(AgentSession).where(AgentSession.expires_at < utcnow()))
        s.add(AgentSession(token_hash=token_hash(token), agent_id=agent_id, created_at=utcnow(),
                           expires_at=utcnow() + timedelta(hours=hours)))
    return token


def end_session(db: Database, token: str | None) -> None:
    if token:
        with db.session() as s:
            s.execute(delete(AgentSession).where(AgentSession.token_hash == token_hash(token)))


def agent_for_token(db: Database, token: str | None) -> Agent | None:
    if not token or len(token) > 200:
        return None
    with db.session() as s:
        row = s.get(AgentSession, token_hash(token))
        if row is None or row.expires_at < utcnow():
            return None
        agent = s.get(Agent, row.agent_id)
        return agent if agent is not None and agent.active else None


def current_agent(request: Request, db: DatabaseDep) -> Agent:
    """FastAPI dependency: the signed-in agent, or 401."""
    agent = agent_for_token(db, request.cookies.get(COOKIE))
    if agent is None:
        raise HTTPException(status_code=401, detail="sign in to the agent console first")
    return agent


def require_lead(agent: Annotated[Agent, Depends(current_agent)]) -> Agent:
    """FastAPI dependency: the signed-in lead, or 401/403."""
    if not agent.is_lead:
        raise HTTPException(status_code=403, detail="only leads can do this")
    return agent


def websocket_agent(ws: WebSocket, db: Database) -> Agent | None:
    """The agent behind a console socket; the Origin must be this site (no cross-site socket hijacking)."""
    origin = ws.headers.get("origin")
    host = ws.headers.get("host")
    if origin and host and origin.split("://", 1)[-1] != host:
        return None
    return agent_for_token(db, ws.cookies.get(COOKIE))
