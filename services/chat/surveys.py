"""When to ask the customer for CSAT and NPS: decided from the conversation's event log, asked through ChatService.

CSAT (1-5) follows every conversation that ended resolved, not only those a person resolved (handoff asks then):
a conversation with the bot alone counts as ended when the customer says goodbye or thanks (the bot's intent in
the turn, ``survey_end_intents`` of services/chat/chat.yml) after the bot answered something, or when it closes
idle after such an answer. Why "after an answer": "oi" followed by "tchau" is not a resolved conversation.
The question is asked once per contact: not again if one was asked since the conversation (re)opened or
was escalated.

NPS (0-10) is asked only at a calm moment — right after the customer answered a CSAT question — and never in
the middle of a problem: not while a person is needed (queued, assigned), not when the last thing that
happened was a fallback or an escalation. At most once per customer per ``nps_every_days``: the customer is the
signed customer id or, for anonymous visitors, the browser's visitor id (services/chat/identity.py); with
neither we cannot keep the promise, so we do not ask.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from services.conversations import kinds
from services.conversations import status as st
from services.conversations.bus import Event, EventBus
from services.conversations.models import Conversation, ConversationEvent

if TYPE_CHECKING:
    from services.chat.rasa_client import Turn
    from services.chat.service import ChatService

log = logging.getLogger(__name__)

# Bot readings that are not an answer to a question: chit-chat and not understanding.
NOT_AN_ANSWER = frozenset({"greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "out_of_scope",
                           "nlu_fallback", "request_human", "complain"})
# Events that start a new contact (a fresh CSAT question may be asked after them).
CONTACT_STARTS = frozenset({kinds.OPENED, kinds.REOPENED, kinds.ESCALATED})
# Events that do not change "what happened last" for the NPS moment.
QUIET = frozenset({kinds.CSAT_REQUESTED, kinds.CSAT, kinds.NPS_REQUESTED, kinds.NPS, kinds.LANGUAGE_CHANGED,
                   kinds.CLOSED, kinds.CONTACT_LEFT, kinds.NOTE, kinds.KB_FEEDBACK})
# What the last thing may not be when NPS is asked: the customer is still in trouble.
TROUBLE = frozenset({kinds.FALLBACK, kinds.ESCALATED, kinds.QUEUED, kinds.AGENT_JOINED, kinds.TRANSFERRED,
                     kinds.REQUEUED})


def current_contact(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events since the conversation last (re)opened or was escalated (all of them when none did)."""
    for index in range(len(events) - 1, -1, -1):
        if events[index]["kind"] in CONTACT_STARTS:
            return list(events[index:])
    return list(events)


def bot_answered(events: Iterable[dict[str, Any]]) -> bool:
    """Whether the bot answered a real question (an intent other than chit-chat, or a help-center answer)."""
    for event in events:
        if event["kind"] == kinds.KB_ANSWER:
            return True
        if event["kind"] == kinds.BOT_REPLY and (event.get("data") or {}).get("intent") not in (None, *NOT_AN_ANSWER):
            return True
    return False


def csat_asked(events: Iterable[dict[str, Any]]) -> bool:
    return any(e["kind"] == kinds.CSAT_REQUESTED for e in events)


def bot_ending_due(events: Sequence[dict[str, Any]]) -> bool:
    """CSAT is due for a bot conversation that just ended: an answer came first, and no question yet."""
    contact = current_contact(events)
    return bot_answered(contact) and not csat_asked(contact)


def in_trouble(events: Sequence[dict[str, Any]]) -> bool:
    """Whether the last thing that happened (surveys aside) is a fallback, an escalation or a person's work."""
    for event in reversed(events):
        kind = event["kind"]
        if kind in QUIET or kind == kinds.CUSTOMER_MESSAGE:
            continue
        if kind in TROUBLE:
            return True
        if kind == kinds.BOT_REPLY:
            return (event.get("data") or {}).get("intent") == "nlu_fallback"
        return False
    return False


def nps_open(events: Sequence[dict[str, Any]]) -> bool:
    """An NPS question was shown in this conversation and not answered (nor skipped) yet."""
    for event in reversed(events):
        if event["kind"] == kinds.NPS:
            return False
        if event["kind"] == kinds.NPS_REQUESTED:
            return True
    return False


class Surveys:
    """Asks CSAT and NPS at the right moments; one per ChatService (``chat.surveys``)."""

    def __init__(self, chat: ChatService) -> None:
        self.chat = chat

    @property
    def config(self) -> Any:
        return self.chat.config

    def _events(self, conversation_id: str) -> list[dict[str, Any]]:
        return self.chat.conversations.history(conversation_id, limit=5000)

    # -- CSAT -----------------------------------------------------------------------------------------------
    async def after_bot_turn(self, conversation_id: str, turn: Turn) -> bool:
        """After the bot's turn is stored: a goodbye/thanks that ends an answered conversation asks CSAT."""
        if turn.intent not in self.config.survey_end_intents:
            return False
        return await self._ask_csat_if_due(conversation_id, {st.BOT})

    async def on_closed(self, event: Event) -> None:
        """After-commit listener of ``closed``: a bot conversation closed idle after an answer asks CSAT."""
        if event.data.get("why") != "idle" or event.previous_status != st.BOT:
            return
        await self._ask_csat_if_due(event.conversation_id, {st.CLOSED})

    async def _ask_csat_if_due(self, conversation_id: str, statuses: set[str]) -> bool:
        conv = await self.chat.get_conversation(conversation_id)
        if conv is None or conv.status not in statuses:
            return False
        events = await asyncio.to_thread(self._events, conversation_id)
        if not bot_ending_due(events):
            return False
        await self.chat.request_csat(conversation_id)
        return True

    # -- NPS ------------------------------------------------------------------------------------------------
    def asked_recently(self, conv: Conversation) -> bool:
        """Whether this customer (their customer id, or this browser's visitor id) saw NPS within the period."""
        since = self.chat.conversations.clock() - timedelta(days=self.config.nps_every_days)
        same_person = [c for c in (Conversation.customer_id == conv.customer_id if conv.customer_id else None,
                                   Conversation.visitor_id == conv.visitor_id if conv.visitor_id else None)
                       if c is not None]
        # The person's conversations active in the period first (indexed ids; a question shown touches its
        # conversation), then their events by conversation (indexed), filtered here. Asking the database for every
        # nps_requested of the period and joining took 160 ms at 100k conversations (bench/nps_cap_query.py).
        with self.chat.db.session() as s:
            theirs = list(s.scalars(select(Conversation.id).where(or_(*same_person),
                                                                  Conversation.updated_at >= since)))
            if not theirs:
                return False
            rows = s.execute(select(ConversationEvent.kind, ConversationEvent.created_at)
                             .where(ConversationEvent.conversation_id.in_(theirs))).all()
        return any(kind == kinds.NPS_REQUESTED and at >= since for kind, at in rows)

    def nps_due(self, conv: Conversation, events: Sequence[dict[str, Any]]) -> bool:
        if conv.status in st.WITH_PEOPLE or conv.customer_key is None:
            return False
        if in_trouble(events) or nps_open(events):
            return False
        return not self.asked_recently(conv)

    async def after_csat(self, conversation_id: str) -> bool:
        """After a CSAT answer: ask NPS when it is a calm moment and this customer was not asked lately."""
        conv = await self.chat.get_conversation(conversation_id)
        if conv is None:
            return False
        events = await asyncio.to_thread(self._events, conversation_id)
        if not await asyncio.to_thread(self.nps_due, conv, events):
            return False
        await self.chat.request_nps(conversation_id)
        return True


def register(bus: EventBus, surveys: Surveys) -> None:
    """Subscribe the surveys' listener (the idle close) to the conversation event bus."""
    bus.on_commit(kinds.CLOSED, surveys.on_closed)
