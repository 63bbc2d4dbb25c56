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

Bad frames get an ``error`` frame and the socket stays open; a missing/expired session closes it with 4401.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from handoff.auth import websocket_agent
from handoff.deps import HandoffDep
from handoff.models import Agent, Handoff
from handoff.service import HandoffError, HandoffService
from services.chat.service import AGENTS_CHANNEL, ChatError, conversation_channel
from services.deps import ChatConfigDep, DatabaseDep

log = logging.getLogger(__name__)
router = APIRouter()
FRAME_LIMIT = 64_000


def may_see(agent: Agent, team: object) -> bool:
    """Whether an ``agents``-channel event about ``team`` may reach this agent's console."""
    if agent.is_lead:
        return True
    return isinstance(team, str) and agent.can_see_team(team)


class AgentSocket:
    """One console connection."""

    def __init__(self, ws: WebSocket, agent: Agent, svc: HandoffService, max_message_chars: int) -> None:
        self.ws = ws
        self.agent = agent
        self.svc = svc
        self.max_message_chars = max_message_chars
        self.watching: dict[int, tuple[str, asyncio.Task[None]]] = {}
        self._send_lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_text(json.dumps(frame, ensure_ascii=False, default=str))

    async def error(self, code: str, message: str, **extra: Any) -> None:
        await self.send({"type": "error", "code": code, "message": message, **extra})

    async def pump_agents(self) -> None:
        async with self.svc.hub.subscribe(AGENTS_CHANNEL) as events:
            async for event in events:
                if may_see(self.agent, event.get("team")):
                    await self.send(event)

    async def pump_conversation(self, handoff_id: int, conversation_id: str, subscription: Any) -> None:
        async with subscription:
            async for event in subscription:
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
        if not isinstance(handoff_id, int) or isinstance(handoff_id, bool):
            await self.error("bad_frame", "handoff_id (integer) is required")
            return
        if kind == "watch":
            await self.watch(handoff_id)
        elif kind == "unwatch":
            await self.unwatch(handoff_id)
        elif kind == "message":
            cmid = frame.get("client_message_id")
            text = frame.get("text")
            limit = self.max_message_chars  # the one limit, services/chat/chat.yml
            if not isinstance(text, str) or not text.strip() or len(text) > limit:
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
        await asyncio.to_thread(self.svc.touch, self.agent.id)
        await self.send({"type": "hello", "agent": self.agent.to_dict(),
                         "limits": {"max_message_chars": self.ws.app.state.chat_config.max_message_chars}})
        try:
            while True:
                event = await self.ws.receive()
                if event["type"] == "websocket.disconnect":
                    break
                raw = event.get("text")
                if raw is None or len(raw) > FRAME_LIMIT:
                    await self.error("bad_frame", "send JSON text frames under 64 kB")
                    continue
                try:
                    frame = json.loads(raw)
                except ValueError:
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
            for task in [agents_pump, *(t for _, t in self.watching.values())]:
                task.cancel()
            for task in [agents_pump, *(t for _, t in self.watching.values())]:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


@router.websocket("/ws/agent")
async def agent_socket(ws: WebSocket, svc: HandoffDep, db: DatabaseDep, config: ChatConfigDep) -> None:
    agent = await asyncio.to_thread(websocket_agent, ws, db)
    if agent is None:
        await ws.close(code=4401)
        return
    await ws.accept()
    await AgentSocket(ws, agent, svc, config.max_message_chars).run()
