"""Session start: carry slots over and take the customer's language from the page they chat on.

Why: the widget sends the page language in the message metadata. Rasa's default session start would reset
the ``language`` slot to Portuguese, so an English-speaking customer got Portuguese answers until the
language detector was sure. A brand-new conversation now starts in the page's language; later sessions keep
the language the conversation already had.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.language import SUPPORTED

NOT_CARRIED = {"session_started_metadata", "requested_slot"}


def page_language(metadata: Any) -> str | None:
    if isinstance(metadata, dict):
        value = metadata.get("language") or metadata.get("lang")
        if isinstance(value, str) and value[:2].lower() in SUPPORTED:
            return value[:2].lower()
    return None


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        carried = [SlotSet(name, value) for name, value in tracker.slots.items()
                   if value is not None and name not in NOT_CARRIED]
        events: list[EventType] = [SessionStarted(), *carried]
        first_session = not any(e.get("event") == "user" for e in tracker.events)
        language = page_language(tracker.get_slot("session_started_metadata"))
        if first_session and language:
            events.append(SlotSet("language", language))
        events.append(ActionExecuted("action_listen"))
        return events
