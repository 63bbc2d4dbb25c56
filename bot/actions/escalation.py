"""Escalation, seen from the action server: report the turn to the services app and say what it answers.

Why so thin: whether a conversation goes to a person, to which team, and what the customer is told are decided
in one place, the services app (handoff/decision.py with handoff/policy.yml, routing and business hours), which
the action server cannot import (it runs in another Python). An action calls :func:`consult` with the tracker's
events (they include the message being answered); the answer says whether a person takes over and what to say.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import services_client
from bot.actions.language import conversation_language

log = logging.getLogger(__name__)

ACTION_NAME = "action_request_human"


@dataclass
class Outcome:
    """The services app's answer: ``escalated`` (a person takes over, say ``bot_text``), or the bot goes on."""

    escalated: bool
    reachable: bool = True
    bot_text: str = ""
    pause: bool = False
    reason: str | None = None


def consult(tracker: Tracker, *, current_failed: bool = False, immediate_only: bool = False,
            requested: bool = False) -> Outcome:
    """``POST /api/handoff/turns``: should this turn go to a person? (A person takes over at once if so.)

    ``current_failed``: the bot has no useful answer for this message; ``immediate_only``: the bot can answer,
    so only reasons that hold whatever the answer (the customer asked, frustration, an always-human topic);
    ``requested``: reached through ``action_request_human``.
    """
    body = {"conversation_id": tracker.sender_id, "language": conversation_language(tracker),
            "events": list(tracker.events), "current_failed": current_failed, "immediate_only": immediate_only,
            "requested": requested}
    timeout = float(os.environ.get("HANDOFF_TIMEOUT_SECONDS", "8"))
    result = services_client.call("POST", "/api/handoff/turns", json=body, timeout=timeout)
    answer = result.body if isinstance(result.body, dict) else {}
    if not result.ok:
        log.warning("the handoff service did not answer for a conversation: HTTP %s", result.status)
        return Outcome(escalated=False, reachable=False)
    return Outcome(escalated=bool(answer.get("escalated")), bot_text=str(answer.get("bot_text") or ""),
                   pause=bool(answer.get("pause")), reason=answer.get("reason"))


def hand_over(dispatcher: CollectingDispatcher, outcome: Outcome) -> list[EventType]:
    """Say the services app's text; pause Rasa when the conversation's status now belongs to people."""
    if outcome.bot_text:
        # Text only: the REST channel would deliver custom JSON as a separate, empty message.
        dispatcher.utter_message(text=outcome.bot_text)
    return [ConversationPaused()] if outcome.pause else []


class ActionRequestHuman(Action):
    """The customer asked for a person, accepted the offer of one, or complained: the policy decides."""

    def name(self) -> str:
        return ACTION_NAME

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        outcome = consult(tracker, requested=True)
        if outcome.escalated:
            return hand_over(dispatcher, outcome)
        if not outcome.reachable:
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return []
        # The policy keeps this conversation with the bot (e.g. a complaint the lead chose not to escalate).
        dispatcher.utter_message(response="utter_handoff_not_needed")
        return []
