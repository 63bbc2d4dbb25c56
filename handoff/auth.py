"""Agent sign-in: argon2 password hashes, server-side sessions in an HttpOnly cookie, role/team checks.

Why server-side sessions (a random token whose SHA-256 is stored) rather than signed cookies: signing out,
disabling an agent or an expiry takes effect immediately, in every app process.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request, WebSocket
from sqlalchemy import delete, func, select

from handoff.models import Agent, AgentSession, LoginFailure, utcnow
from services.db import Database
from services.deps import DatabaseDep, SettingsDep

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
    """Failed sign-ins counted in the database, so every app process and replica shares them.

    Two limits, neither of which lets a stranger lock the real user out:

    * per account *and* client address (``max_failures``): guessing one agent's password from one place stops
      after a few tries, while the agent signing in from their own computer is not affected;
    * per client address across every account (``max_client_failures``): one place guessing many e-mails (or
      one password against many accounts) is stopped too.

    Keys are SHA-256 hashes of the e-mail and address, so the table holds no personal data in clear.
    """

    def __init__(self, db: Database, max_failures: int, max_client_failures: int,
                 window_seconds: float = LOCK_SECONDS, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.max_failures = max_failures
        self.max_client_failures = max_client_failures
        self.window = timedelta(seconds=window_seconds)
        self.clock = clock

    @staticmethod
    def keys(email: str, client: str) -> tuple[str, str]:
        client = client or "unknown"
        return token_hash(f"{email.strip().lower()}\x00{client}"), token_hash(f"client\x00{client}")

    def refused(self, email: str, client: str) -> str | None:
        """``"account"`` or ``"client"`` when a limit is reached (sign-in refused before any password check)."""
        account_key, client_key = self.keys(email, client)
        since = self.clock() - self.window
        with self.db.session() as s:
            per_account = s.scalar(select(func.count()).select_from(LoginFailure).where(
                LoginFailure.account_key == account_key, LoginFailure.created_at >= since)) or 0
            if per_account >= self.max_failures:
                return "account"
            per_client = s.scalar(select(func.count()).select_from(LoginFailure).where(
                LoginFailure.client_key == client_key, LoginFailure.created_at >= since)) or 0
            return "client" if per_client >= self.max_client_failures else None

    def failed(self, email: str, client: str) -> None:
        account_key, client_key = self.keys(email, client)
        now = self.clock()
        with self.db.session() as s:
            s.execute(delete(LoginFailure).where(LoginFailure.created_at < now - self.window))
            s.add(LoginFailure(account_key=account_key, client_key=client_key, created_at=now))

    def succeeded(self, email: str, client: str) -> None:
        """The right password from this place clears this account's failures from it (not the address's total)."""
        account_key, _ = self.keys(email, client)
        with self.db.session() as s:
            s.execute(delete(LoginFailure).where(LoginFailure.account_key == account_key))


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


def agent_id_for_email(db: Database, email: str) -> int | None:
    """The id of the account an e-mail names (for the audit log of failed sign-ins), else None."""
    with db.session() as s:
        return s.scalar(select(Agent.id).where(Agent.email == email.strip().lower()))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def same_site(origin_or_referer: str, host: str | None, scheme: str, public_url: str) -> bool:
    """Whether a browser's Origin (or Referer) is this site: the Host it asked for, or the public URL."""
    origin = _origin(origin_or_referer)
    allowed = {_origin(public_url)}
    if host:
        allowed |= {f"{scheme}://{host}".lower(), f"https://{host}".lower()}
    return bool(origin) and origin in allowed


def require_same_origin(request: Request, settings: SettingsDep) -> None:
    """FastAPI dependency for POSTs that a session cookie authenticates: refuse requests from other sites (CSRF).

    SameSite=Strict does not cover another port or a subdomain of the same site, so the browser's own
    statement of where the request comes from is checked: ``Origin`` when sent (every current browser sends it
    on a cross-origin POST), else ``Referer``. A request with neither is not a browser's cross-site request
    (the action server, the CLI, scripts) and passes; ``Sec-Fetch-Site: cross-site`` is refused anyway.
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    host, scheme = request.headers.get("host"), request.url.scheme
    origin = request.headers.get("origin")
    referer = request.headers.get("referer")
    if origin is not None and origin != "null":
        ok = same_site(origin, host, scheme, settings.public_url)
    elif origin == "null":
        ok = False
    elif referer:
        ok = same_site(referer, host, scheme, settings.public_url)
    else:
        ok = request.headers.get("sec-fetch-site", "") != "cross-site"
    if not ok:
        raise HTTPException(status_code=403, detail="this request must come from the agent console's own site")


def websocket_session(ws: WebSocket, db: Database) -> tuple[Agent, str] | None:
    """The agent and session token behind a console socket; the Origin must be this site (no socket hijacking)."""
    origin = ws.headers.get("origin")
    host = ws.headers.get("host")
    if origin and host and origin.split("://", 1)[-1] != host:
        return None
    token = ws.cookies.get(COOKIE)
    agent = agent_for_token(db, token)
    return (agent, token) if agent is not None and token else None
