"""``WS /ws/agent``: the agent console's live connection.

Protocol (JSON text frames):

* client → server: ``watch`` (``handoff_id``: also receive that conversation's events), ``unwatch``
  (``handoff_id``), ``message`` (``handoff_id``, ``text``, ``client_message_id``), ``typing`` (``handoff_id``,
  ``on``), ``ping`` (keeps the agent "seen", for presence).
* server → client: ``hello`` (``agent``), ``ack`` (``client_message_id``, ``seq``: the message is committed),
  events of watched conversations with ``conversation_id`` and ``handoff_id`` added (``message``, ``typing``,
  ``notice``, ``status``), ``agents``-channel events of the agent's teams (``queue_changed``,
  ``customer_message``, ``note``, ``closed``, ...), ``error`` (``code``, ``message``), ``pong``.

Every ``agents``-channel event carries the team it concerns; an agent receives only those of their teams, a lead
all of them, and an event without a team (a conversation no team holds) reaches leads only. Customers' texts,
CSAT comments and contact details therefore never reach another team's console.

Bad frames get an ``error`` frame and the socket stays open.

Access is re-checked while the socket lives, not only when it opens: the session row and the agent's row are
read again on every frame, every ``agents.session_recheck_seconds`` (handoff/policy.yml) and at once when the
hub says a session of this agent ended (``session_revoked``, published by sign-out in any process). A session
that ended (sign-out, expiry, account disabled) closes the socket with 4401, which sends the console to its
sign-in form; a changed role or team list closes it with 4403 and the console reconnects with its new access.
A watched conversation is checked again before each of its events is relayed: after a transfer to a team the
agent is not in, the socket gets ``unwatched`` (``reason: access_ended``) and nothing more of that chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from handoff.auth import agent_for_token, websocket_session
from handoff.deps import HandoffDep
from handoff.models import Agent, Handoff
from handoff.service import HandoffError, HandoffService
from services.chat.service import AGENTS_CHANNEL, ChatError, conversation_channel
from services.db import Database
from services.deps import MAX_ROW_ID, ChatConfigDep, DatabaseDep
from textnorm.unicode import valid_text, visible

log = logging.getLogger(__name__)
router = APIRouter()
FRAME_LIMIT = 64_000
SIGNED_OUT = 4401  # the console shows its sign-in form
ACCESS_CHANGED = 4403  # the console reconnects and gets its new teams/role


def may_see(agent: Agent, team: object) -> bool:
    """Whether an ``agents``-channel event about ``team`` may reach this agent's console."""
    if agent.is_lead:
        return True
    return isinstance(team, str) and agent.can_see_team(team)


class AgentSocket:
    """One console connection."""

    def __init__(self, ws: WebSocket, agent: Agent, svc: HandoffService, max_message_chars: int,
                 db: Database | None = None, token: str | None = None, recheck_seconds: float = 5.0) -> None:
        self.ws = ws
        self.agent = agent
        self.svc = svc
        self.max_message_chars = max_message_chars
        self.db = db
        self.token = token
        self.recheck_seconds = recheck_seconds
        self.watching: dict[int, tuple[str, asyncio.Task[None]]] = {}
        self._send_lock = asyncio.Lock()
        self.closed = False

    async def send(self, frame: dict[str, Any]) -> None:
        if self.closed:
            return
        async with self._send_lock:
            await self.ws.send_text(json.dumps(frame, ensure_ascii=False, default=str))

    async def error(self, code: str, message: str, **extra: Any) -> None:
        await self.send({"type": "error", "code": code, "message": message, **extra})

    # -- access while the socket lives -------------------------------------------------------------------
    async def close(self, code: int, reason: str) -> None:
        """Close once; the pumps stop sending at once (``send`` drops frames after this)."""
        if self.closed:
            return
        self.closed = True
        async with self._send_lock:
            with contextlib.suppress(Exception):
                await self.ws.close(code=code, reason=reason)

    async def still_allowed(self) -> bool:
        """Re-read the session and the agent; close the socket (and say False) when access ended or changed."""
        if self.closed:
            return False
        if self.db is None or self.token is None:
            return True
        fresh = await asyncio.to_thread(agent_for_token, self.db, self.token)
        if fresh is None:
            await self.close(SIGNED_OUT, "session ended")
            return False
        if fresh.role != self.agent.role or sorted(fresh.teams or []) != sorted(self.agent.teams or []):
            await self.close(ACCESS_CHANGED, "access changed")
            return False
        self.agent = fresh
        return True

    async def guard(self) -> None:
        """Re-check access every ``recheck_seconds`` even when the console sends nothing."""
        while not self.closed:
            await asyncio.sleep(self.recheck_seconds)
            try:
                if not await self.still_allowed():
                    return
            except Exception:  # a database hiccup must not end the checks; every frame re-checks too
                log.exception("could not re-check a console session; retrying")

    async def pump_agents(self) -> None:
        async with self.svc.hub.subscribe(AGENTS_CHANNEL) as events:
            async for event in events:
                if event.get("type") == "session_revoked":
                    # Never shown to a console; the agent's own sockets check whether theirs was the one.
                    if event.get("agent_id") == self.agent.id and not await self.still_allowed():
                        return
                    continue
                if may_see(self.agent, event.get("team")):
                    await self.send(event)

    async def may_watch(self, handoff_id: int) -> bool:
        """Whether this agent may still see that conversation (its team or its holder, or a lead)."""
        try:
            h = await asyncio.to_thread(self.svc.get, handoff_id)
            self.svc.check_access(self.agent, h)
        except HandoffError:
            return False
        return True

    async def pump_conversation(self, handoff_id: int, conversation_id: str, subscription: Any) -> None:
        async with subscription:
            async for event in subscription:
                if not await self.may_watch(handoff_id):
                    self.watching.pop(handoff_id, None)
                    await self.send({"type": "unwatched", "handoff_id": handoff_id, "reason": "access_ended"})
                    return
                await self.send({**event, "conversation_id": conversation_id, "handoff_id": handoff_id})

    async def watch(self, handoff_id: int) -> None:
        if handoff_id in self.watching:
            return
        h: Handoff = await asyncio.to_thread(self.svc.get, handoff_id)
        self.svc.check_access(self.agent, h)
        subscription = self.svc.hub.subscribe(conversation_channel(h.conversation_id))
        await subscription.open()  # registered before we confirm, so nothing is missed after "watching"
        task = asyncio.create_task(self.pump_conversation(handoff_id, h.conversation_id, subscription))
        self.watching[handoff_id] = (h.conversation_id, task)
        await self.send({"type": "watching", "handoff_id": handoff_id, "conversation_id": h.conversation_id})

    async def unwatch(self, handoff_id: int) -> None:
        entry = self.watching.pop(handoff_id, None)
        if entry:
            entry[1].cancel()

    async def handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        handoff_id = frame.get("handoff_id")
        if kind == "ping":
            await asyncio.to_thread(self.svc.touch, self.agent.id)
            await self.send({"type": "pong"})
            return
        if not isinstance(handoff_id, int) or isinstance(handoff_id, bool) or not 1 <= handoff_id <= MAX_ROW_ID:
            await self.error("bad_frame", f"handoff_id (an integer from 1 to {MAX_ROW_ID}) is required")
            return
        if kind == "watch":
            await self.watch(handoff_id)
        elif kind == "unwatch":
            await self.unwatch(handoff_id)
        elif kind == "message":
            cmid = frame.get("client_message_id")
            text = frame.get("text")
            limit = self.max_message_chars  # the one limit, services/chat/chat.yml
            text = valid_text(text).strip() if isinstance(text, str) else None
            if not text or not visible(text) or len(text) > limit:
                await self.error("bad_text", f"text must be 1-{limit} characters", client_message_id=cmid)
                return
            message = await self.svc.send_message(self.agent, handoff_id, text)
            await self.send({"type": "ack", "client_message_id": cmid, "seq": message.seq, "handoff_id": handoff_id})
        elif kind == "typing":
            await self.svc.typing(self.agent, handoff_id, bool(frame.get("on")))
        else:
            await self.error("bad_frame", f"unknown frame type {kind!r}")

    async def run(self) -> None:
        agents_pump = asyncio.create_task(self.pump_agents())
        guard = asyncio.create_task(self.guard())
        await asyncio.to_thread(self.svc.touch, self.agent.id)
        await self.send({"type": "hello", "agent": self.agent.to_dict(),
                         "limits": {"max_message_chars": self.ws.app.state.chat_config.max_message_chars}})
        try:
            while not self.closed:
                event = await self.ws.receive()
                if event["type"] == "websocket.disconnect":
                    break
                if not await self.still_allowed():
                    break
                raw = event.get("text")
                if raw is None or len(raw) > FRAME_LIMIT:
                    await self.error("bad_frame", "send JSON text frames under 64 kB")
                    continue
                try:
                    frame = json.loads(raw)
                except (ValueError, RecursionError):  # malformed, or nested deeper than the parser goes
                    await self.error("bad_frame", "malformed JSON")
                    continue
                if not isinstance(frame, dict):
                    await self.error("bad_frame", "a frame is a JSON object")
                    continue
                try:
                    await self.handle(frame)
                except HandoffError as error:
                    await self.error("refused", str(error), handoff_id=frame.get("handoff_id"),
                                     client_message_id=frame.get("client_message_id"))
                except ChatError as error:
                    await self.error(error.code, error.message, client_message_id=frame.get("client_message_id"))
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self.closed = True
            tasks = [agents_pump, guard, *(t for _, t in self.watching.values())]
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


@router.websocket("/ws/agent")
async def agent_socket(ws: WebSocket, svc: HandoffDep, db: DatabaseDep, config: ChatConfigDep) -> None:
    """Accept first, then refuse with 4401: a close before accept is an HTTP 403 the console cannot tell apart
    from a network error, so its sign-in path would never run."""
    session = await asyncio.to_thread(websocket_session, ws, db)
    await ws.accept()
    if session is None:
        await ws.close(code=SIGNED_OUT, reason="sign in to the agent console first")
        return
    agent, token = session
    recheck = float(svc.policy.section("agents").get("session_recheck_seconds", 5))
    await AgentSocket(ws, agent, svc, config.max_message_chars, db, token, recheck).run()
