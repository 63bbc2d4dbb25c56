"""The REST input channel with input validation (see ``validation.py``); same URL as Rasa's ``rest``.

Registered in credentials.yml as ``bot.channels.safe_rest.SafeRestInput``; clients keep posting to
``/webhooks/rest/webhook`` with ``{"sender", "message", "metadata"}`` and get the bot's messages back.
"""

from __future__ import annotations

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
            return response.json(collector.messages)

        return webhook
