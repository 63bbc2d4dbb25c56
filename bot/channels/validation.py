"""Validation of messages arriving over HTTP, before they reach the NLU pipeline.

Why: Rasa's stock REST channel trusts its input: a non-object body, a number as text or a 1 MB message reach
the pipeline and fail deep inside it. Customers and buggy clients get a clear 400 instead, and text the bot
*does* accept is cleaned of control characters (binary garbage) without touching what the customer wrote.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CHAT_FILE = Path(__file__).resolve().parents[2] / "services" / "chat" / "chat.yml"
DEFAULT_MAX_MESSAGE_CHARS = 2000


def max_message_chars() -> int:
    """The product's one message-length limit, ``max_message_chars`` of the chat settings file.

    Read from the YAML file (not imported: ``bot/`` never imports ``services/``) so a customer message that the
    widget and the gateway accept is never refused here, and a longer one sent straight to Rasa is.
    """
    file = Path(os.environ.get("CHAT_SETTINGS") or CHAT_FILE)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) if file.exists() else None
    except yaml.YAMLError:
        raw = None  # the services app refuses to start with a broken file and says why
    value = raw.get("max_message_chars") if isinstance(raw, dict) else None
    return value if isinstance(value, int) and value > 0 else DEFAULT_MAX_MESSAGE_CHARS


MAX_MESSAGE_CHARS = max_message_chars()
MAX_SENDER_CHARS = 64  # the conversation id column of the services app
SENDER_PATTERN = re.compile(r"^[A-Za-z0-9_.:@+=-]+$")
_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}


class InvalidMessage(ValueError):
    """The request cannot become a user message; ``str(error)`` is safe to show to the client."""


@dataclass(frozen=True)
class ValidMessage:
    sender: str
    text: str
    metadata: dict[str, Any] | None
    input_channel: str | None


def clean_text(text: str) -> str:
    """Drop control/format characters (keeping newlines and tabs) and normalise to NFC."""
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _CONTROL)
    return unicodedata.normalize("NFC", kept).strip()


def validate_request(body: Any) -> ValidMessage:
    """Check a decoded JSON body of the REST webhook and return what Rasa should process."""
    if not isinstance(body, dict):
        raise InvalidMessage("the body must be a JSON object like {\"sender\": \"id\", \"message\": \"text\"}")
    sender = body.get("sender", "default")
    if not isinstance(sender, str) or not sender:
        raise InvalidMessage("'sender' must be a non-empty string")
    if len(sender) > MAX_SENDER_CHARS or not SENDER_PATTERN.match(sender):
        raise InvalidMessage(f"'sender' may only use letters, digits and . _ : @ + = - (at most {MAX_SENDER_CHARS})")
    message = body.get("message")
    if not isinstance(message, str):
        raise InvalidMessage("'message' must be a string")
    if len(message) > MAX_MESSAGE_CHARS:
        raise InvalidMessage(f"'message' is too long: at most {MAX_MESSAGE_CHARS} characters")
    text = clean_text(message)
    if not text:
        raise InvalidMessage("'message' is empty")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidMessage("'metadata' must be a JSON object")
    channel = body.get("input_channel")
    return ValidMessage(sender=sender, text=text, metadata=metadata,
                        input_channel=channel if isinstance(channel, str) and len(channel) <= 64 else None)
