"""The REST input channel with input validation (see ``validation.py``); same URL as Rasa's ``rest``.

Registered in credentials.yml as ``bot.channels.safe_rest.SafeRestInput``; clients keep posting to
``/webhooks/rest/webhook`` with ``{"sender", "message", "metadata"}`` and get the bot's messages back.

With ``?turn=1`` the answer is ``{"messages": [...], "turn": {...}}`` instead: ``turn`` says how the bot read the
message (intent, confidence, entities, the actions it ran, the ``language`` slot). Why: the services app logs
every turn in the conversation's event log and follows the language, and reading the tracker back over the HTTP
API cost a second call to Rasa per message.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.validation import InvalidMessage, validate_request

log = logging.getLogger(__name__)


class SafeRestInput(RestInput):
    """Rasa's REST channel, answering malformed requests with a clear 400 instead of a server error."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("safe_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError):
                return response.json({"error": "the body is not valid JSON"}, status=400)
            try:
                message = validate_request(body)
            except InvalidMessage as error:
                return response.json({"error": str(error)}, status=400)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(message.text, collector, message.sender,
                                                 input_channel=message.input_channel or self.name(),
                                                 metadata=message.metadata))
            except Exception:  # noqa: BLE001 - the client must get an answer, the log gets the details
                log.exception("failed to handle a message from %s", message.sender)
                return response.json({"error": "the assistant could not process this message"}, status=500)
            if request.args.get("turn") != "1":
                return response.json(collector.messages)
            turn = await describe_turn(request, message.sender)
            return response.json({"messages": collector.messages, "turn": turn})

        return webhook


async def describe_turn(request: Request, sender: str) -> dict[str, Any]:
    """How the bot read the latest message of ``sender`` (empty when the tracker cannot be read)."""
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return {}
    try:
        tracker = store.retrieve(sender)
        if inspect.isawaitable(tracker):
            tracker = await tracker
    except Exception:  # noqa: BLE001 - the reply matters more than its description
        log.exception("could not read the tracker of a conversation after its turn")
        return {}
    if tracker is None:
        return {}
    return turn_from_tracker(tracker)


def turn_from_tracker(tracker: Any) -> dict[str, Any]:
    """Intent, confidence, entities and actions of the latest user turn, plus the ``language`` slot."""
    latest = tracker.latest_message
    parse = latest.parse_data if latest is not None else {}
    intent = parse.get("intent") or {}
    actions: list[str] = []
    for event in reversed(tracker.events):
        if event.type_name == "user":
            break
        name = getattr(event, "action_name", None)
        if event.type_name == "action" and name and name != "action_listen":
            actions.append(name)
    ranking = [{"name": r.get("name"), "confidence": round(float(r.get("confidence") or 0.0), 4)}
               for r in (parse.get("intent_ranking") or [])[:3]]
    return {
        "intent": intent.get("name"),
        "confidence": round(float(intent.get("confidence") or 0.0), 4),
        "ranking": ranking,
        "entities": [{"entity": e.get("entity"), "value": e.get("value")} for e in parse.get("entities") or []
                     if isinstance(e, dict)],
        "actions": list(reversed(actions)),
        "language": tracker.get_slot("language"),
        "paused": bool(tracker.is_paused()),
    }
