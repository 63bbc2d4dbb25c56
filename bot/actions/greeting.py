"""The greeting: by name when the host site signed the customer's identity, the domain's utter_greet otherwise.

Why an action and not a response variation: Rasa picks at random among every conditional variation that
matches, so "signed in" and "English" variations cannot be combined reliably; the chat gateway sets the
``customer_name`` slot (Rasa's tracker events API) only for a verified identity, and this action reads it.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.language import conversation_language, say


def first_name(full_name: object) -> str | None:
    """The first word of a name ("Ana Souza" -> "Ana"), or ``None`` for nothing usable."""
    if not isinstance(full_name, str):
        return None
    parts = full_name.strip().split()
    return parts[0][:60] if parts else None


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        name = first_name(tracker.get_slot("customer_name"))
        if name:
            dispatcher.utter_message(text=say("greet_by_name", conversation_language(tracker), name=name))
        else:
            dispatcher.utter_message(response="utter_greet")
        return []
