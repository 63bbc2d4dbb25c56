"""``WS /ws/chat``: the widget's one connection to the services app.

Protocol (JSON text frames; see services/web/README.md):

* client → server: ``hello`` (``token``, ``lang``, ``after_seq``, optional ``visitor`` token and signed
  ``identity`` — services/chat/identity.py; a wrong signature gets an ``error`` frame and the socket closes) first, then ``message`` (``text``,
  ``client_message_id``, optional ``payload`` of a quick-reply button), ``typing`` (``on``), ``ping``.
* server → client: ``welcome`` (``token``, ``conversation``, ``limits``, ``visitor``, ``signed_in``), ``history`` (``messages``),
  ``ack`` (``client_message_id``, ``seq``) once the message is committed, ``message``, ``typing``,
  ``notice``, ``status``, ``language``, ``error`` (``code``, ``message``, ``client_message_id``), ``pong``.

Bad frames (binary, malformed JSON, unknown type, oversized) get an ``error`` frame and the socket stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from services.chat.identity import IdentityRefused, VisitorTokens, who_is
from services.chat.service import ChatError, ChatService, conversation_channel
from services.chat.texts import text as t
from services.chat.tokens import TokenSigner
from services.deps import ChatDep, ChatTokensDep, SettingsDep
from services.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter()

# A frame is JSON around a message of at most max_message_chars (escaped characters can take 6 bytes each).
FRAME_LIMIT_FACTOR = 6
FRAME_OVERHEAD = 2048
# A socket that never says hello is not a widget; do not hold a connection open for it.
HELLO_TIMEOUT_SECONDS = 20.0


class ChatSocket:
    """One widget connection: authenticates, replays history, then relays both ways."""

    def __init__(self, ws: WebSocket, chat: ChatService, tokens: TokenSigner, settings: Settings | None = None,
                 visitors: VisitorTokens | None = None) -> None:
        self.ws = ws
        self.chat = chat
        self.tokens = tokens
        self.settings = settings
        self.visitors = visitors
        self.language = self.chat.config.default_language
        self.conversation_id: str | None = None
        self._send_lock = asyncio.Lock()
        self.frame_limit = self.chat.config.max_message_chars * FRAME_LIMIT_FACTOR + FRAME_OVERHEAD

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_text(json.dumps(frame, ensure_ascii=False, default=str))

    async def error(self, code: str, message: str | None = None, client_message_id: Any = None) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code, "message": message or t(code, self.language)}
        if isinstance(client_message_id, str):
            frame["client_message_id"] = client_message_id
        await self.send(frame)

    async def receive_frame(self) -> dict[str, Any] | None:
        """The next JSON object from the client; ``None`` after answering a bad frame with an error."""
        event = await self.ws.receive()
        if event["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(event.get("code", 1000))
        raw = event.get("text")
        if raw is None:
            await self.error("bad_frame")
            return None
        if len(raw) > self.frame_limit:
            await self.error("too_long", t("too_long", self.language, limit=self.chat.config.max_message_chars))
            return None
        try:
            frame = json.loads(raw)
        except (ValueError, RecursionError):  # malformed, or nested deeper than the parser goes
            await self.error("bad_frame")
            return None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.error("bad_frame")
            return None
        return frame

    async def handshake(self) -> None:
        """Wait for ``hello``; resume the token's conversation or start a new one."""
        while True:
            frame = await self.receive_frame()
            if frame is None:
                continue
            if frame["type"] != "hello":
                await self.error("bad_frame", "send a hello frame first")
                continue
            break
        lang = frame.get("lang")
        if lang in self.chat.config.languages:
            self.language = lang
        assert self.settings is not None and self.visitors is not None
        # Refused before anything is stored: a forged identity creates no conversation and touches none.
        who = who_is(self.settings.identity_secret, self.visitors, frame.get("visitor"), frame.get("identity"))
        cid = self.tokens.verify(frame.get("token"))
        conv, fresh, previous = await self.chat.open_for(cid, who, self.language)
        notice = None
        if fresh and frame.get("token") and (previous is None or previous.status == "closed"):
            # The customer had a conversation; say why this one is new instead of silently emptying the view.
            notice = t("closed" if previous is not None else "bad_token",
                       previous.language if previous else self.language)
        self.conversation_id = conv.id
        self.language = conv.language
        after = frame.get("after_seq")
        self.after_seq = after if isinstance(after, int) and after >= 0 and not fresh else 0
        self.hello = {"type": "welcome", "token": self.tokens.issue(conv.id), "conversation": conv.to_dict(),
                      "resumed": not fresh, "notice": notice, "visitor": who.visitor_token,
                      "signed_in": conv.customer_id is not None,
                      "limits": {"max_message_chars": self.chat.config.max_message_chars,
                                 "rate_limit_per_minute": self.chat.config.rate_limit_per_minute}}

    async def pump_events(self, subscription: Any) -> None:
        """Hub → socket."""
        async for event in subscription:
            if event.get("type") == "language" and isinstance(event.get("language"), str):
                self.language = event["language"]
            await self.send(event)

    async def handle(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        assert self.conversation_id is not None
        if kind == "message":
            cmid = frame.get("client_message_id")
            payload = frame.get("payload")
            metadata: dict[str, Any] = {"rasa_payload": payload} if isinstance(payload, str) else {}
            try:
                message, created = await self.chat.store_customer_message(
                    self.conversation_id, frame.get("text"), cmid if cmid is not None else None, metadata)
            except ChatError as error:
                await self.error(error.code, error.message, cmid)
                return
            await self.send({"type": "ack", "client_message_id": message.client_message_id, "seq": message.seq,
                             "duplicate": not created})
            if created or not await asyncio.to_thread(self.chat.has_outcome, message):
                # New, or a re-send of a message never answered (routing is idempotent: see has_outcome).
                self.chat.spawn_route(message, metadata)
        elif kind == "typing":
            await self.chat.set_typing(self.conversation_id, "customer", bool(frame.get("on")))
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "hello":
            await self.error("bad_frame", "already connected")
        else:
            await self.error("bad_frame")

    async def run(self) -> None:
        await self.ws.accept()
        pump: asyncio.Task[None] | None = None
        try:
            try:
                await asyncio.wait_for(self.handshake(), HELLO_TIMEOUT_SECONDS)
            except TimeoutError:
                await self.error("bad_frame", "no hello frame received; closing")
                await self.ws.close(code=1008)
                return
            except IdentityRefused as refused:
                await self.send({"type": "error", "code": refused.code, "message": t("bad_identity", self.language),
                                 "detail": refused.message})
                await self.ws.close(code=1008)
                return
            assert self.conversation_id is not None
            async with self.chat.hub.subscribe(conversation_channel(self.conversation_id)) as subscription:
                # Subscribed first, then history: nothing falls in between (the widget drops repeated seqs).
                await self.send(self.hello)
                history = await self.chat.history(self.conversation_id, self.after_seq)
                await self.send({"type": "history", "messages": [m.to_dict() for m in history]})
                pump = asyncio.create_task(self.pump_events(subscription))
                while True:
                    frame = await self.receive_frame()
                    if frame is not None:
                        await self.handle(frame)
        except WebSocketDisconnect:
            pass
        except RuntimeError as error:  # sending on a socket the client already closed
            log.debug("chat socket closed: %s", error)
        finally:
            if pump is not None:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump


@router.websocket("/ws/chat")
async def chat_socket(ws: WebSocket, chat: ChatDep, tokens: ChatTokensDep, settings: SettingsDep) -> None:
    await ChatSocket(ws, chat, tokens, settings, ws.app.state.visitor_tokens).run()
