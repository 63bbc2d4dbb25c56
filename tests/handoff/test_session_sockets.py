"""Console sockets end with the session, on a real uvicorn server (the HTTP 403 of a refused handshake and the
close codes are uvicorn's, which the test client does not reproduce): sign-out closes them at once, a disabled
account or a changed team within ``agents.session_recheck_seconds``, and a refused socket is accepted and closed
with 4401 so the console's sign-in path runs. The absent-agent sweep runs by itself in the background."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from fastapi import FastAPI
from sqlalchemy import select

from handoff.auth import hash_password
from handoff.models import Agent, Handoff
from services.app import create_app
from services.chat.models import ChatMessage
from services.db import utcnow
from services.settings import load_settings
from tests.handoff.conftest import INTERNAL, PASSWORD, closed_port, tracker_events, write_policy
from tests.handoff.server import free_port


@dataclass
class Live:
    app: FastAPI
    url: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/agent"

    def agent(self, email: str, teams: list[str], role: str = "agent") -> int:
        with self.app.state.db.session() as s:
            row = Agent(email=email, name=email.split("@")[0].title(), password_hash=hash_password(PASSWORD),
                        role=role, teams=teams, status="online", active=True)
            s.add(row)
            s.flush()
            return row.id

    def login(self, email: str) -> httpx.Client:
        c = httpx.Client(base_url=self.url, timeout=10)
        assert c.post("/api/handoff/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
        return c

    def update_agent(self, agent_id: int, **values: Any) -> None:
        with self.app.state.db.session() as s:
            row = s.get(Agent, agent_id)
            assert row is not None
            for key, value in values.items():
                setattr(row, key, value)


@pytest.fixture()
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Live]]:
    """The real app under uvicorn in a thread (so the test can change the database under it)."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**policy: Any) -> Live:
        monkeypatch.setenv("INTERNAL_TOKEN", INTERNAL)
        monkeypatch.setenv("HANDOFF_POLICY", str(write_policy(tmp_path, **policy)))
        settings = load_settings(database_url=f"sqlite:///{tmp_path}/live-{uuid.uuid4().hex[:6]}.db",
                                 data_dir=tmp_path, rasa_url=f"http://127.0.0.1:{closed_port()}",
                                 rasa_timeout_seconds=2.0, redis_url="", app_env="embedded")
        app = create_app(settings)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 60
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the app did not start"
            time.sleep(0.05)
        return Live(app, f"http://127.0.0.1:{port}")

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(15)


async def _open(live: Live, client: httpx.Client) -> Any:
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    ws = await websockets.connect(live.ws_url, additional_headers={"Cookie": cookie, "Origin": live.url})
    hello = await asyncio.wait_for(ws.recv(), 5)
    assert '"hello"' in hello
    return ws


async def _closed_within(ws: Any, seconds: float) -> int | None:
    """The close code if the server closes the socket within ``seconds`` (frames before it are skipped)."""
    try:
        async with asyncio.timeout(seconds):
            async for _ in ws:
                pass
    except websockets.ConnectionClosed:
        pass
    except TimeoutError:
        await ws.close()
        return None
    return ws.close_code


def test_refused_console_socket_is_closed_with_4401_not_an_http_403(live: Callable[..., Live]) -> None:
    app = live()

    async def scenario() -> int | None:
        async with websockets.connect(app.ws_url, additional_headers={"Cookie": "lumo_agent=forged"}) as ws:
            return await _closed_within(ws, 5)

    assert asyncio.run(scenario()) == 4401


def test_sign_out_closes_the_console_socket_at_once(live: Callable[..., Live]) -> None:
    # The periodic re-check is slow here: only sign-out's own signal can close the socket within 2 s.
    app = live(**{"agents.session_recheck_seconds": 60})
    app.agent("ana@lumo.test", ["atendimento"])
    ana = app.login("ana@lumo.test")

    async def scenario() -> tuple[int | None, int | None]:
        ws = await _open(app, ana)
        other_browser = await _open(app, app.login("ana@lumo.test"))
        await asyncio.to_thread(ana.post, "/api/handoff/auth/logout", headers={"Origin": app.url})
        code = await _closed_within(ws, 2)
        # Her other browser keeps its own session and its socket.
        other = await _closed_within(other_browser, 1)
        return code, other

    assert asyncio.run(scenario()) == (4401, None)


def test_disabled_account_and_changed_team_close_sockets_within_seconds(live: Callable[..., Live]) -> None:
    app = live(**{"agents.session_recheck_seconds": 0.5})
    ana_id = app.agent("ana@lumo.test", ["atendimento"])
    caio_id = app.agent("caio@lumo.test", ["atendimento"])
    ana, caio = app.login("ana@lumo.test"), app.login("caio@lumo.test")

    async def scenario() -> tuple[int | None, int | None, float]:
        ana_ws, caio_ws = await _open(app, ana), await _open(app, caio)
        started = time.monotonic()
        await asyncio.to_thread(app.update_agent, ana_id, active=False)  # as `handoff.users disable` does
        await asyncio.to_thread(app.update_agent, caio_id, teams=["suporte"])
        ana_code, caio_code = await asyncio.gather(_closed_within(ana_ws, 5), _closed_within(caio_ws, 5))
        return ana_code, caio_code, time.monotonic() - started

    ana_code, caio_code, took = asyncio.run(scenario())
    assert (ana_code, caio_code) == (4401, 4403)  # signed out: sign-in form; new access: reconnect
    assert took < 3
    assert ana.get("/api/handoff/me").status_code == 401


def test_the_background_sweep_requeues_the_chat_of_an_agent_whose_console_is_gone(
        live: Callable[..., Live]) -> None:
    app = live(**{"agents.requeue_after_seconds": 10})
    ana_id = app.agent("ana@lumo.test", ["atendimento"])
    ana = app.login("ana@lumo.test")
    internal = httpx.Client(base_url=app.url, timeout=10, headers={"X-Internal-Token": INTERNAL})
    cid = internal.post("/api/chat/session", json={"lang": "en"}).json()["conversation"]["id"]
    hid = internal.post("/api/handoff/escalations", json={
        "conversation_id": cid, "reason": "customer_request", "events": tracker_events()}).json()["handoff_id"]
    assert ana.post(f"/api/handoff/handoffs/{hid}/claim", headers={"Origin": app.url}).status_code == 200
    # Her console was seen now; then her browser closes: no socket, no ping. After 10 s (plus at most one
    # sweep interval, 2.5 s) the chat is back in a queue, not before.
    app.update_agent(ana_id, last_seen_at=utcnow())
    seen = time.monotonic()
    status, requeued_after = "active", None
    while status == "active" and time.monotonic() < seen + 30:
        time.sleep(0.25)
        with app.app.state.db.session() as s:
            h = s.scalars(select(Handoff).where(Handoff.id == hid)).one()
            status = h.status
        requeued_after = time.monotonic() - seen
    assert status in ("queued", "offline") and h.agent_id is None
    # Not before the limit; then within a sweep interval (plus slack for a busy machine).
    assert requeued_after is not None and 9.9 <= requeued_after < 20, requeued_after
    with app.app.state.db.session() as s:
        texts = [m.text for m in s.scalars(select(ChatMessage).where(ChatMessage.conversation_id == cid))]
    assert any(t.startswith("Ana had to leave the conversation. You are back in the Customer Service team's queue")
               for t in texts), texts
