"""A conversation's events cut into **contacts**: the unit most support metrics count.

Why contacts and not conversations: a widget conversation lives as long as the customer's browser keeps its token,
so the same conversation can hold a Monday order question and a Friday return request. A contact starts at

* the conversation's first customer message;
* a customer message to a resolved or closed conversation (the lifecycle logs it, then ``reopened``);
* a customer message to a bot conversation more than the assumed-resolution window (24 h by default) after the
  customer's previous message: the earlier question was, by the same rule, assumed resolved.

Each contact carries what reports filter on: language (the conversation's language at the contact's last event),
intent (the escalation's topic, else the first bot reading that is a topic of bot/topics.yml), team (the last
team named by its events, else the team its intent routes to; ``None`` for a bot chat without a topic).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.conversations import kinds
from services.conversations import status as st
from services.metrics.store import Ev


@dataclass
class Contact:
    """One customer contact: its events in log order and the attributes reports filter on."""

    conversation_id: str
    index: int  # 0 for the conversation's first contact
    start: datetime  # the customer's first message of the contact
    events: list[Ev] = field(default_factory=list)
    language: str | None = None
    intent: str | None = None
    team: str | None = None
    channel: str | None = None  # where the conversation was opened (``web``, ``other``)
    previous_end: datetime | None = None  # last activity of the conversation's previous contact
    previous_intent: str | None = None
    next_start: datetime | None = None  # first message of the next contact
    kinds: frozenset[str] = frozenset()  # the kinds its events have (definitions skip what cannot apply)

    @property
    def end(self) -> datetime:
        return self.events[-1].at if self.events else self.start

    @property
    def last_activity(self) -> datetime:
        """The last thing the customer, the bot or an agent did: the product's own ``closed`` (idle) is not activity.

        Why: conversations idle for 24 h are closed by the system; measuring "no return within 24 h" from that
        event would push every assumed resolution a day later and count a return after it as a quick return.
        """
        return next((e.at for e in reversed(self.events) if e.actor != "system"), self.start)

    def has(self, kind: str) -> bool:
        """Whether any event of the contact is of ``kind`` (from :attr:`kinds` once :func:`split` filled it)."""
        return kind in self.kinds if self.kinds else any(e.kind == kind for e in self.events)

    @property
    def escalations(self) -> list[Ev]:
        return [e for e in self.events if e.kind == kinds.ESCALATED] if self.has(kinds.ESCALATED) else []


def split(events: Iterable[Ev], window: timedelta, topics: frozenset[str],
          team_of_intent: Callable[[str], str | None]) -> list[Contact]:
    """The contacts of one conversation (events in log order); events before the first message are skipped."""
    contacts: list[Contact] = []
    current: Contact | None = None
    language: str | None = None
    channel: str | None = None
    last_customer: datetime | None = None
    for ev in events:
        if ev.kind in (kinds.OPENED, kinds.LANGUAGE_CHANGED) and ev.data.get("language"):
            language = str(ev.data["language"])
        if ev.kind == kinds.OPENED and ev.data.get("channel"):
            channel = str(ev.data["channel"])[:16]
        if ev.kind == kinds.CUSTOMER_MESSAGE:
            # ``status`` of a customer message is the status when it arrived (its reopen is the next event).
            returned = ev.status in (st.RESOLVED, st.CLOSED)
            silent = (ev.status == st.BOT and last_customer is not None and ev.at - last_customer > window)
            if current is None or returned or silent:
                current = Contact(ev.conversation_id, len(contacts), ev.at)
                contacts.append(current)
            last_customer = ev.at
        if current is not None:
            current.events.append(ev)
            current.language = language
            current.channel = channel
    for i, contact in enumerate(contacts):
        contact.kinds = frozenset(e.kind for e in contact.events)
        contact.intent = _intent(contact, topics)
        named = [e.team for e in contact.events if e.team]
        contact.team = named[-1] if named else (team_of_intent(contact.intent) if contact.intent else None)
        if i:
            contact.previous_end = contacts[i - 1].last_activity
            contact.previous_intent = contacts[i - 1].intent
        if i + 1 < len(contacts):
            contact.next_start = contacts[i + 1].start
    return contacts


def _intent(contact: Contact, topics: frozenset[str]) -> str | None:
    for ev in contact.escalations:
        if ev.data.get("intent"):
            return str(ev.data["intent"])
    for ev in contact.events:
        if ev.kind == kinds.BOT_REPLY and ev.data.get("intent") in topics:
            return str(ev.data["intent"])
    return None
