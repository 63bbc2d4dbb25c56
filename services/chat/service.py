"""ChatService: the one place that writes conversations and messages, routes them and broadcasts them.

Contract (docs/architecture.md, "Chat gateway ↔ handoff contract"): the widget's socket, the REST fallback
and handoff all go through this class, which lives on ``app.state.chat``. Every method that stores something
is ``async`` because it also publishes the stored message on the hub; database work runs in a worker
thread so a slow commit never blocks other sockets.

The customer's message is committed **before** Rasa or anyone else sees it; if Rasa then fails, the message
stays stored and a system notice (kind ``offline``) tells the customer, in the conversation's language.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict, defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from services.chat.config import ChatConfig
from services.chat.hub import Hub
from services.chat.identity import Who
from services.chat.models import ROLES, ChatMessage, ContactRequest, Conversation, utcnow
from services.chat.rasa_client import RasaClient, RasaUnavailable, Turn, reply_to_message_fields
from services.chat.surveys import Surveys, nps_open
from services.chat.texts import text as t
from services.chat.tokens import new_conversation_id
from services.conversations import kinds
from services.conversations import status as st
from services.conversations.lifecycle import Conversations, Tx
from services.conversations.models import ConversationEvent
from services.db import Database
from textnorm.unicode import valid_text, visible

log = logging.getLogger(__name__)

_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# Button payloads forwarded to Rasa: an intent (optionally with entities JSON), never arbitrary text.
_RASA_PAYLOAD_RE = re.compile(r"^/[A-Za-z0-9_]{1,64}(\{.{0,400}\})?$", re.DOTALL)


class ChatError(Exception):
    """A customer input the gateway refuses; ``code`` goes on the wire, ``message`` is for the customer."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def conversation_channel(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


AGENTS_CHANNEL = "agents"


def clean_text(raw: object) -> str:
    """Normalise a customer's text: strings only, control characters removed, lone surrogates replaced, outer
    whitespace trimmed; only invisible characters (zero-width spaces…) count as empty."""
    if not isinstance(raw, str):
        return ""
    text = valid_text(raw.replace("\r\n", "\n")).strip()
    return text if visible(text) else ""


class ChatService:
    """Conversations and messages: storing, routing to Rasa or to the human agent, and broadcasting."""

    def __init__(self, db: Database, hub: Hub, rasa: RasaClient, config: ChatConfig, public_url: str = "",
                 conversations: Conversations | None = None) -> None:
        self.db = db
        self.conversations = conversations or Conversations(db)
        self.hub = hub
        self.rasa = rasa
        self.config = config
        self.public_url = public_url.rstrip("/")
        # One customer message at a time per conversation goes to Rasa, so replies keep their order.
        # Locks are dropped when nobody holds or waits for them, so the dict does not grow forever.
        self._route_locks: dict[str, asyncio.Lock] = {}
        self._route_users: dict[str, int] = defaultdict(int)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.surveys = Surveys(self)
        # Conversations whose signed identity Rasa already has (its slots), so it is sent once per process.
        self._identity_sent: OrderedDict[str, tuple[str, str]] = OrderedDict()

    # -- conversations -----------------------------------------------------------------------------------
    async def create_conversation(self, language: str | None = None, who: Who | None = None) -> Conversation:
        """A new conversation with the bot; ``language`` is the page's language (falls back to the default).

        ``who``: the browser's visitor id and, when the host site signed one, the customer's identity.
        """
        lang = language if language in self.config.languages else self.config.default_language
        customer = who.customer if who else None

        def work(tx: Tx) -> Conversation:
            conv = Conversation(id=new_conversation_id(), language=lang, status=st.BOT, last_seq=0,
                                created_at=tx.clock(), updated_at=tx.clock(),
                                visitor_id=who.visitor_id if who else None,
                                customer_id=customer.customer_id if customer else None,
                                customer_name=(customer.name or None) if customer else None)
            tx.session.add(conv)
            tx.session.flush()
            tx.append(conv.id, kinds.OPENED, "customer", status=st.BOT, language=lang, channel="web")
            return conv

        return await self.conversations.run(work)

    async def adopt_conversation(self, conversation_id: str, language: str | None = None) -> Conversation:
        """Get, or register under its existing id, a conversation that began outside the widget.

        Why: Rasa also serves other channels (its REST API, ``rasa shell``, a partner's integration); when such
        a conversation is escalated, handoff needs it here to queue it and keep the agent's messages.
        """
        lang = language if language in self.config.languages else self.config.default_language

        def work(tx: Tx) -> Conversation:
            conv = tx.session.get(Conversation, conversation_id)
            if conv is None:
                conv = Conversation(id=conversation_id, language=lang, status=st.BOT, last_seq=0,
                                    created_at=tx.clock(), updated_at=tx.clock())
                tx.session.add(conv)
                tx.session.flush()
                tx.append(conv.id, kinds.OPENED, "customer", status=st.BOT, language=lang, channel="other")
            return conv

        try:
            return await self.conversations.run(work)
        except IntegrityError:  # created concurrently by another request: read it back
            conv = await self.get_conversation(conversation_id)
            assert conv is not None
            return conv

    async def open_for(self, conversation_id: str | None, who: Who, language: str | None
                       ) -> tuple[Conversation, bool, Conversation | None]:
        """The conversation a widget session continues, or a new one: ``(conversation, fresh, previous)``.

        A closed conversation is not resumed. Neither is one that belongs to another signed customer, or to a
        signed customer when this page signed nobody (someone else on a shared computer must not read it).
        An anonymous conversation that the customer signs in to is kept and gets their identity.
        """
        conv = await self.get_conversation(conversation_id) if conversation_id else None
        previous = conv
        signed = who.customer.customer_id if who.customer else None
        if conv is not None and (conv.status == st.CLOSED or (conv.customer_id and conv.customer_id != signed)):
            conv = None
        if conv is None:
            return await self.create_conversation(language, who), True, previous
        if (signed and conv.customer_id is None) or conv.visitor_id is None:
            conv = await self._attach(conv.id, who)
        return conv, False, previous

    async def _attach(self, conversation_id: str, who: Who) -> Conversation:
        """Record the visitor id and the signed identity on an existing anonymous conversation."""
        def work(tx: Tx) -> Conversation:
            conv = tx.conversation(conversation_id)
            if conv.visitor_id is None:
                conv.visitor_id = who.visitor_id
            if who.customer is not None and conv.customer_id is None:
                conv.customer_id, conv.customer_name = who.customer.customer_id, who.customer.name or None
            return conv

        return await self.conversations.run(work)

    async def _send_identity(self, conv: Conversation) -> None:
        """Give Rasa the signed customer's id and name (slots) before the first turn it reads.

        Why the tracker API rather than message metadata: Rasa's REST channel takes metadata from whoever
        posts, while the tracker API needs Rasa's auth token, so these slots only ever come from a verified
        identity. The language slot goes along because a tracker created this way skips the page-language
        step of action_session_start.
        """
        if not conv.customer_id:
            return
        sent = (conv.customer_id, conv.customer_name or "")
        if self._identity_sent.get(conv.id) == sent:
            return
        events: list[dict[str, Any]] = [{"event": "slot", "name": "customer_id", "value": conv.customer_id},
                                        {"event": "slot", "name": "customer_name", "value": conv.customer_name},
                                        {"event": "slot", "name": "language", "value": conv.language}]
        if not await asyncio.to_thread(self._bot_has_spoken, conv.id):
            # A tracker Rasa does not have yet: open its session in the same request. Otherwise Rasa would run
            # the session start *after* taking these events, stamp it later, and its next read of the tracker
            # (events from the latest session start on) would leave these slots out.
            events = [{"event": "action", "name": "action_session_start"}, {"event": "session_started"}, *events,
                      {"event": "action", "name": "action_listen"}]
        now = time.time()
        for index, event in enumerate(events):  # explicit, increasing: Rasa's SQL store orders by timestamp
            event["timestamp"] = now + index / 1000
        if await self.rasa.append_events(conv.id, events, attempts=2):
            self._identity_sent[conv.id] = sent
            while len(self._identity_sent) > 10000:
                self._identity_sent.popitem(last=False)

    def _bot_has_spoken(self, conversation_id: str) -> bool:
        """Whether Rasa already answered in this conversation (so it holds a tracker with a session)."""
        with self.db.session() as s:
            return s.scalar(select(ConversationEvent.id).where(
                ConversationEvent.conversation_id == conversation_id,
                ConversationEvent.kind.in_((kinds.BOT_REPLY, kinds.FALLBACK))).limit(1)) is not None

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        def work() -> Conversation | None:
            with self.db.session() as s:
                return s.get(Conversation, conversation_id)

        return await asyncio.to_thread(work)

    async def set_language(self, conversation_id: str, language: str) -> None:
        """Record the conversation's language (from Rasa's slot) and let the widget switch its interface."""
        if language not in self.config.languages:
            return

        def work(tx: Tx) -> None:
            conv = tx.session.get(Conversation, conversation_id)
            if conv is None or conv.language == language:
                return
            conv.language = language
            tx.append(conversation_id, kinds.LANGUAGE_CHANGED, "bot", language=language)

        await self.conversations.run(work)

    # -- messages ----------------------------------------------------------------------------------------
    def _append(self, s: Any, conversation_id: str, role: str, text: str, payload: dict[str, Any] | None = None,
                author_name: str | None = None, client_message_id: str | None = None) -> ChatMessage:
        """Allocate the next ``seq`` atomically (the UPDATE takes the row/database write lock) and insert."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        seq = s.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(last_seq=Conversation.last_seq + 1, updated_at=utcnow())
            .returning(Conversation.last_seq)
        ).scalar_one_or_none()
        if seq is None:
            raise KeyError(conversation_id)
        msg = ChatMessage(conversation_id=conversation_id, seq=seq, role=role, text=text, payload=payload or {},
                          author_name=author_name, client_message_id=client_message_id, created_at=utcnow())
        s.add(msg)
        s.flush()
        return msg

    async def _store(self, conversation_id: str, role: str, text: str, payload: dict[str, Any] | None = None,
                     author_name: str | None = None) -> ChatMessage:
        """Store a message that is not itself an event (system notices); broadcast by the caller."""
        def work() -> ChatMessage:
            with self.db.session() as s:
                return self._append(s, conversation_id, role, text, payload, author_name)

        return await asyncio.to_thread(work)

    async def _broadcast(self, message: ChatMessage) -> None:
        await self.hub.publish(conversation_channel(message.conversation_id),
                               {"type": "message", "message": message.to_dict()})

    def _logged_message(self, tx: Tx, conversation_id: str, role: str, kind: str, actor: str, text: str,
                        payload: dict[str, Any] | None = None, author_name: str | None = None,
                        client_message_id: str | None = None, agent_id: int | None = None,
                        team: str | None = None, **data: Any) -> ChatMessage:
        """Store a message and its event in one transaction; the real-time listener delivers it."""
        message = self._append(tx.session, conversation_id, role, text, payload, author_name, client_message_id)
        tx.append(conversation_id, kind, actor, agent_id=agent_id, team=team, wire={"message": message.to_dict()},
                  seq=message.seq, **data)
        return message

    def validate_customer_text(self, raw: object, language: str) -> str:
        """Cleaned text, or :class:`ChatError` (empty, too long) with a message in ``language``."""
        text = clean_text(raw)
        if not text:
            raise ChatError("empty", t("empty", language))
        limit = self.config.max_message_chars
        if len(text) > limit:
            raise ChatError("too_long", t("too_long", language, limit=limit), status=413)
        return text

    async def store_customer_message(self, conversation_id: str, text: object, client_message_id: str | None = None,
                                     metadata: dict[str, Any] | None = None) -> tuple[ChatMessage, bool]:
        """Validate, rate-limit and commit a customer message; ``(message, created)``.

        A ``client_message_id`` seen before in this conversation returns the stored message with
        ``created=False`` (a re-send after a reconnect), and nothing else happens.
        """
        if client_message_id is not None and (not isinstance(client_message_id, str)
                                              or not _CLIENT_ID_RE.match(client_message_id)):
            raise ChatError("bad_frame", t("bad_frame", "pt"))
        payload: dict[str, Any] = {}
        rasa_payload = (metadata or {}).get("rasa_payload")
        if isinstance(rasa_payload, str) and _RASA_PAYLOAD_RE.match(rasa_payload):
            payload["rasa_payload"] = rasa_payload

        def work(tx: Tx) -> tuple[ChatMessage, bool]:
            s = tx.session
            conv = s.get(Conversation, conversation_id)
            if conv is None:
                raise KeyError(conversation_id)
            if client_message_id:
                existing = s.scalars(select(ChatMessage).where(
                    ChatMessage.conversation_id == conversation_id,
                    ChatMessage.client_message_id == client_message_id)).first()
                if existing is not None:
                    return existing, False
            clean = self.validate_customer_text(text, conv.language)
            since = utcnow() - timedelta(seconds=60)
            recent = s.scalar(select(func.count()).select_from(ChatMessage).where(
                ChatMessage.conversation_id == conversation_id, ChatMessage.role == "customer",
                ChatMessage.created_at >= since))
            if recent is not None and recent >= self.config.rate_limit_per_minute:
                raise ChatError("rate_limited", t("rate_limited", conv.language), status=429)
            team = self.conversations.current_team(s, conversation_id) if conv.status in st.WITH_PEOPLE else None
            message = self._logged_message(tx, conversation_id, "customer", kinds.CUSTOMER_MESSAGE, "customer",
                                           clean, payload, client_message_id=client_message_id, team=team)
            if conv.status in (st.RESOLVED, st.CLOSED):
                # The customer wrote again after the end: the bot has the conversation again.
                tx.set_status(conversation_id, st.BOT, kinds.REOPENED, "customer", expect=conv.status)
            return message, True

        try:
            return await self.conversations.run(work)
        except IntegrityError:
            # Two copies of the same message raced (two tabs, a retry): the other one won; return it.
            def again() -> tuple[ChatMessage, bool]:
                with self.db.session() as s:
                    existing = s.scalars(select(ChatMessage).where(
                        ChatMessage.conversation_id == conversation_id,
                        ChatMessage.client_message_id == client_message_id)).first()
                    if existing is None:
                        raise ChatError("internal", t("internal", "pt"), status=500)
                    return existing, False

            return await asyncio.to_thread(again)

    async def route_customer_message(self, message: ChatMessage, metadata: dict[str, Any] | None = None
                                     ) -> list[ChatMessage]:
        """After the customer message is stored and broadcast: ask Rasa unless a person has the chat."""
        cid = message.conversation_id
        lock = self._route_locks.setdefault(cid, asyncio.Lock())
        self._route_users[cid] += 1
        try:
            async with lock:
                return await self._route_locked(message, metadata)
        finally:
            self._route_users[cid] -= 1
            if self._route_users[cid] <= 0:
                self._route_users.pop(cid, None)
                self._route_locks.pop(cid, None)

    async def _route_locked(self, message: ChatMessage, metadata: dict[str, Any] | None) -> list[ChatMessage]:
        cid = message.conversation_id
        conv = await self.get_conversation(cid)
        if conv is None or conv.status in st.WITH_PEOPLE:
            return []  # a person has the chat: the real-time listener already showed it to the team
        if await asyncio.to_thread(self.has_outcome, message):
            return []  # a re-send of a message whose turn already ran (here or before a restart)
        channel = conversation_channel(cid)
        await self.hub.publish(channel, {"type": "typing", "role": "bot", "on": True})
        meta = {"language": conv.language, "channel": "web", **(metadata or {})}
        meta.pop("rasa_payload", None)
        text = message.payload.get("rasa_payload") or message.text
        try:
            await self._send_identity(conv)
            turn = await self.rasa.send(cid, text, meta)
            if turn.paused and not turn.replies:
                # The status says the bot has the chat, so Rasa's pause is stale (its resume after a handoff
                # failed): Rasa's pause follows the status, never the other way round. Resume and ask again.
                log.warning("Rasa's tracker of a bot conversation was paused; resuming it")
                if await self.rasa.resume(cid, attempts=2):
                    turn = await self.rasa.send(cid, text, meta)
        except RasaUnavailable as error:
            log.warning("Rasa unavailable for conversation %s: %s", cid, error)
            await self.hub.publish(channel, {"type": "typing", "role": "bot", "on": False})
            notice = await self.post_system_notice(cid, "offline", t("offline", conv.language),
                                                   {"contact_form": True})
            return [notice]
        replies = await self.conversations.run(lambda tx: self._log_turn(tx, message, turn))
        await self.hub.publish(channel, {"type": "typing", "role": "bot", "on": False})
        if turn.language and turn.language != conv.language:
            await self.set_language(cid, turn.language)
        try:
            await self.surveys.after_bot_turn(cid, turn)
        except Exception:  # noqa: BLE001 - a survey must never cost the customer the bot's answer
            log.exception("asking CSAT after the bot's turn in %s failed", cid)
        return replies

    def _log_turn(self, tx: Tx, message: ChatMessage, turn: Turn) -> list[ChatMessage]:
        """Store the bot's replies and what the bot understood, as events of the log, in one transaction."""
        cid = message.conversation_id
        reading = {"intent": turn.intent, "confidence": turn.confidence, "entities": turn.entities,
                   "actions": turn.actions, "customer_seq": message.seq}
        if turn.intent == "nlu_fallback":
            tx.append(cid, kinds.FALLBACK, "bot", customer_seq=message.seq, ranking=turn.ranking)
        stored: list[ChatMessage] = []
        for reply in turn.replies:
            text, payload = reply_to_message_fields(reply)
            if not text and not payload:
                continue
            kb = (payload.get("custom") or {}).get("kb") if isinstance(payload.get("custom"), dict) else None
            article = {k: kb.get(k) for k in ("article_id", "title", "url", "score")} if isinstance(kb, dict) else None
            stored.append(self._logged_message(tx, cid, "bot", kinds.BOT_REPLY, "bot", text, payload,
                                               kb_article=article if article and article.get("article_id") else None,
                                               **reading))
            if isinstance(kb, dict) and kb.get("asked") == "helped":
                tx.append(cid, kinds.KB_ANSWER, "bot", **article)  # type: ignore[arg-type]
            elif isinstance(kb, dict) and kb.get("feedback") in ("helped", "not_helped"):
                tx.append(cid, kinds.KB_FEEDBACK, "customer", article_id=kb.get("article_id"),
                          helped=kb.get("feedback") == "helped")
        if not stored:  # the bot said nothing (a paused tracker, an action that failed): still log the reading
            tx.append(cid, kinds.BOT_REPLY, "bot", seq=None, text="", kb_article=None, **reading)
        return stored

    async def post_customer_message(self, conversation_id: str, text: object, client_message_id: str | None = None,
                                    metadata: dict[str, Any] | None = None) -> list[ChatMessage]:
        """Store (first; the listener broadcasts it), then route; the customer message followed by the bot's replies.

        A duplicate ``client_message_id`` returns ``[stored message]`` and routes nothing again.
        Raises :class:`ChatError` for refused input and ``KeyError`` for an unknown conversation.
        """
        message, created = await self.store_customer_message(conversation_id, text, client_message_id, metadata)
        if not created and await asyncio.to_thread(self.has_outcome, message):
            return [message]
        # New, or a re-send of one stored but never answered (the process died, Rasa's reply was lost): route it.
        return [message, *await self.route_customer_message(message, metadata)]

    def has_outcome(self, message: ChatMessage) -> bool:
        """Whether the customer got something for this message: a reply, an agent's message or a notice after
        it, or a logged bot turn for it (a turn in which the bot said nothing).

        Why: every stored customer message must get exactly one outcome. A message stored and acknowledged
        whose routing never finished (the process was killed, a restart) has none; a re-send of its id, or the
        start-up sweep (:meth:`resume_unanswered`), routes it instead of treating it as done.
        """
        cid = message.conversation_id
        with self.db.session() as s:
            later = s.scalar(select(ChatMessage.id).where(
                ChatMessage.conversation_id == cid, ChatMessage.seq > message.seq,
                ChatMessage.role.in_(("bot", "agent", "system"))).limit(1))
            if later is not None:
                return True
            turns = s.scalars(select(ConversationEvent.data).where(
                ConversationEvent.conversation_id == cid, ConversationEvent.kind == kinds.BOT_REPLY,
                ConversationEvent.created_at >= message.created_at)).all()
            return any((data or {}).get("customer_seq") == message.seq for data in turns)

    def unanswered(self, within: timedelta) -> list[ChatMessage]:
        """Customer messages of the last ``within`` in bot conversations that got no outcome, oldest first."""
        since = utcnow() - within
        with self.db.session() as s:
            candidates = s.scalars(select(ChatMessage).join(Conversation, Conversation.id == ChatMessage.conversation_id)
                                   .where(ChatMessage.role == "customer", ChatMessage.created_at >= since,
                                          Conversation.status == st.BOT)
                                   .order_by(ChatMessage.conversation_id, ChatMessage.seq)).all()
        return [m for m in candidates if not self.has_outcome(m)]

    def resume_unanswered(self, within: timedelta = timedelta(hours=1)) -> int:
        """At start-up: route every recent message a previous run stored but never answered (in order, per
        conversation, through the same lock as new messages); the number handed to routing."""
        pending = self.unanswered(within)
        for message in pending:
            log.info("routing message %s of %s left unanswered by a previous run", message.seq,
                     message.conversation_id)
            self.spawn_route(message)
        return len(pending)

    async def post_agent_message(self, conversation_id: str, text: str, author_name: str,
                                 agent_id: int | None = None, team: str | None = None) -> ChatMessage:
        """A human agent's message, shown in the widget with ``author_name``."""
        clean = clean_text(text)
        if not clean:
            raise ChatError("empty", t("empty", "en"))
        limit = self.config.max_message_chars  # the one limit (chat.yml), for customers and agents alike
        if len(clean) > limit:
            raise ChatError("too_long", t("too_long", "en", limit=limit), status=413)
        name = (author_name or "")[:120] or None
        return await self.conversations.run(lambda tx: self._logged_message(
            tx, conversation_id, "agent", kinds.AGENT_MESSAGE, "agent", clean,
            author_name=name, agent_id=agent_id, team=team, agent_name=name))

    async def post_system_notice(self, conversation_id: str, kind: str, text: str,
                                 data: dict[str, Any] | None = None) -> ChatMessage:
        """A stored system message (``payload.kind`` = ``kind``) plus a ``notice`` event for live sockets.

        Kinds used by the product: ``queue`` (data: ``position``), ``agent_joined`` / ``agent_left``
        (data: ``agent_name``), ``offline`` (data: ``contact_form``), ``resolved``, ``csat``.
        """
        payload = {"kind": kind, **(data or {})}
        message = await self._store(conversation_id, "system", text, payload)
        await self._broadcast(message)
        await self.hub.publish(conversation_channel(conversation_id),
                               {"type": "notice", "kind": kind, "text": text, "seq": message.seq, **(data or {})})
        return message

    async def set_typing(self, conversation_id: str, role: str, on: bool) -> None:
        """Typing indicator for the other side (``agent`` from the console, ``customer`` from the widget)."""
        await self.hub.publish(conversation_channel(conversation_id), {"type": "typing", "role": role, "on": bool(on)})

    async def history(self, conversation_id: str, after_seq: int = 0, limit: int | None = None) -> list[ChatMessage]:
        """Messages with ``seq > after_seq`` in order (at most ``limit``, the most recent ones)."""
        limit = limit or self.config.history_limit

        def work() -> list[ChatMessage]:
            with self.db.session() as s:
                rows = s.scalars(select(ChatMessage).where(
                    ChatMessage.conversation_id == conversation_id, ChatMessage.seq > after_seq)
                    .order_by(ChatMessage.seq.desc()).limit(limit)).all()
                return list(reversed(rows))

        return await asyncio.to_thread(work)

    # -- CSAT and contact details ------------------------------------------------------------------------
    async def request_csat(self, conversation_id: str) -> ChatMessage:
        """Ask the customer to rate the conversation (handoff calls this when a chat is resolved)."""
        conv = await self.get_conversation(conversation_id)
        if conv is None:
            raise KeyError(conversation_id)
        notice = await self.post_system_notice(conversation_id, "csat", t("csat_request", conv.language),
                                               {"scale": [1, 5]})
        # Logged, so the metrics count surveys actually shown (CSAT response rate), not assume one per resolution.
        await self.conversations.run(lambda tx: tx.append(
            conversation_id, kinds.CSAT_REQUESTED, "system",
            team=self.conversations.current_team(tx.session, conversation_id), seq=notice.seq))
        return notice

    async def record_csat(self, conversation_id: str, rating: int, comment: str = "") -> Conversation:
        """Store the customer's 1–5 rating and optional comment on the conversation."""
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise ChatError("bad_rating", "rating must be an integer from 1 to 5", status=422)
        comment = clean_text(comment)[:2000]

        def work(tx: Tx) -> Conversation:
            conv = tx.conversation(conversation_id)
            conv.csat_rating, conv.csat_comment, conv.csat_at = rating, comment or None, tx.clock()
            tx.append(conversation_id, kinds.CSAT, "customer", team=self.conversations.current_team(
                tx.session, conversation_id), rating=rating, comment=comment or None)
            return conv

        conv = await self.conversations.run(work)
        await self.post_system_notice(conversation_id, "csat_thanks", t("csat_thanks", conv.language),
                                      {"rating": rating})
        try:
            await self.surveys.after_csat(conversation_id)
        except Exception:  # noqa: BLE001 - the rating is stored; a lost NPS question is no loss to the customer
            log.exception("asking NPS after the CSAT answer in %s failed", conversation_id)
        return conv

    async def request_nps(self, conversation_id: str) -> ChatMessage:
        """Ask "from 0 to 10, how likely are you to recommend us?" (services/chat/surveys.py decides when)."""
        conv = await self.get_conversation(conversation_id)
        if conv is None:
            raise KeyError(conversation_id)
        notice = await self.post_system_notice(conversation_id, "nps", t("nps_request", conv.language),
                                               {"scale": [0, 10]})
        await self.conversations.run(lambda tx: tx.append(conversation_id, kinds.NPS_REQUESTED, "system",
                                                          seq=notice.seq))
        return notice

    async def record_nps(self, conversation_id: str, score: object = None, comment: object = "",
                         skipped: bool = False) -> int | None:
        """Store the customer's 0-10 score (or that they skipped the question), once per question shown."""
        if skipped:
            score = None
        elif not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 10:
            raise ChatError("bad_score", "score must be an integer from 0 to 10, or skip the question", status=422)
        text = clean_text(comment)[:2000] if not skipped else ""

        def work(tx: Tx) -> str:
            conv = tx.conversation(conversation_id)
            asked = tx.session.execute(select(ConversationEvent.kind).where(
                ConversationEvent.conversation_id == conversation_id,
                ConversationEvent.kind.in_((kinds.NPS_REQUESTED, kinds.NPS))).order_by(ConversationEvent.id)).scalars()
            if not nps_open([{"kind": kind} for kind in asked]):
                raise ChatError("no_nps_question", "there is no open NPS question in this conversation", status=409)
            tx.append(conversation_id, kinds.NPS, "customer", score=score, comment=text or None, skipped=skipped)
            return conv.language

        language = await self.conversations.run(work)
        kind = "nps_skipped" if skipped else "nps_thanks"
        await self.post_system_notice(conversation_id, kind, t(kind, language), {"score": score})
        return score

    async def save_contact(self, conversation_id: str, name: str = "", email: str = "", phone: str = "",
                           message: str = "") -> ContactRequest:
        """Store contact details left while the assistant/team was unavailable, and confirm in the chat."""
        name, email, phone, message = (clean_text(v) for v in (name, email, phone, message))
        if not email and not phone:
            raise ChatError("contact_missing", "an e-mail or a phone number is required", status=422)
        if email and not re.fullmatch(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}", email):
            raise ChatError("bad_email", "this e-mail address does not look valid", status=422)
        if phone and not re.fullmatch(r"[0-9+()\-. ]{8,25}", phone):
            raise ChatError("bad_phone", "this phone number does not look valid", status=422)

        def work(tx: Tx) -> tuple[ContactRequest, str]:
            conv = tx.conversation(conversation_id)
            row = ContactRequest(conversation_id=conversation_id, name=name[:120], email=email[:200],
                                 phone=phone[:40], message=message[:2000], created_at=tx.clock())
            tx.session.add(row)
            tx.session.flush()
            tx.append(conversation_id, kinds.CONTACT_LEFT, "customer",
                      team=self.conversations.current_team(tx.session, conversation_id), contact_request_id=row.id)
            return row, conv.language

        row, language = await self.conversations.run(work)
        await self.post_system_notice(conversation_id, "contact_saved", t("contact_saved", language))
        return row

    # -- background routing ------------------------------------------------------------------------------
    def spawn_route(self, message: ChatMessage, metadata: dict[str, Any] | None = None) -> asyncio.Task[Any]:
        """Route in the background so the socket keeps reading; the task outlives the socket that sent it."""
        task = asyncio.create_task(self._safe_route(message, metadata), name=f"route-{message.conversation_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _safe_route(self, message: ChatMessage, metadata: dict[str, Any] | None) -> None:
        try:
            await self.route_customer_message(message, metadata)
        except Exception:
            log.exception("routing message %s of %s failed", message.seq, message.conversation_id)
            conv = await self.get_conversation(message.conversation_id)
            await self.post_system_notice(message.conversation_id, "offline",
                                          t("offline", conv.language if conv else "pt"), {"contact_form": True})

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait for in-flight routing (shutdown), so a reply being stored is not cut in half."""
        if self._tasks:
            await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), timeout)
