"""The gateway's HTTP client for Rasa: the REST channel webhook and the tracker's ``language`` slot."""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer (down, timeout, 5xx, garbage): the caller tells the customer politely."""


def reply_to_message_fields(reply: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Turn one REST-channel reply (``text``, ``buttons``, ``image``, ``custom``…) into text + payload."""
    text = reply.get("text") if isinstance(reply.get("text"), str) else ""
    payload: dict[str, Any] = {}
    buttons = reply.get("buttons")
    if isinstance(buttons, list):
        clean = [
            {"title": str(b.get("title", ""))[:200], "payload": str(b.get("payload", ""))[:500]}
            for b in buttons
            if isinstance(b, dict) and b.get("title")
        ]
        if clean:
            payload["buttons"] = clean
    for key in ("image", "attachment", "custom"):
        if reply.get(key) is not None:
            payload[key] = reply[key]
    return text, payload


def merge_custom_replies(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold custom-data-only replies into the reply before them.

    Why: an action that sends text with ``json_message`` reaches the REST channel as two replies, the text and
    a bare ``{"custom": ...}``; shown separately the second is an empty bubble, while the widget needs the
    custom data (knowledge-base article, "did this help?") on the text it belongs to.
    """
    merged: list[dict[str, Any]] = []
    for reply in replies:
        custom_only = "custom" in reply and not any(reply.get(k) for k in ("text", "buttons", "image", "attachment"))
        if custom_only and merged and "custom" not in merged[-1]:
            merged[-1] = {**merged[-1], "custom": reply["custom"]}
        elif not custom_only or merged:
            merged.append(reply)
    return merged


class RasaClient:
    """Talks to one Rasa server; one ``httpx.AsyncClient`` per app process (connection reuse)."""

    def __init__(self, base_url: str, timeout_seconds: float = 20.0, probe_timeout_seconds: float = 2.0,
                 auth_token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        # Rasa's HTTP API (the tracker) needs the token Rasa was started with (--auth-token); the REST
        # channel does not. It comes from settings (`rasa_token`, or the RASA_TOKEN the launcher sets).
        self.auth_token = auth_token or ""
        self.timeout = timeout_seconds
        self.probe_timeout = probe_timeout_seconds
        self._client = httpx.AsyncClient(timeout=timeout_seconds)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """``POST /webhooks/rest/webhook``; the list of bot replies, or :class:`RasaUnavailable`."""
        body = {"sender": sender, "message": message, "metadata": metadata or {}}
        try:
            response = await self._client.post(f"{self.base_url}/webhooks/rest/webhook", json=body)
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise RasaUnavailable(f"{type(error).__name__}: {error}") from error
        if not isinstance(replies, list):
            raise RasaUnavailable(f"unexpected reply from Rasa: {str(replies)[:200]}")
        return merge_custom_replies([r for r in replies if isinstance(r, dict)])

    async def language_slot(self, sender: str) -> str | None:
        """The tracker's ``language`` slot (best effort: ``None`` when the HTTP API is off or slow)."""
        try:
            response = await self._client.get(
                f"{self.base_url}/conversations/{sender}/tracker",
                params={"include_events": "NONE", **({"token": self.auth_token} if self.auth_token else {})},
                timeout=self.probe_timeout,
            )
            if response.status_code != 200:
                return None
            value = (response.json().get("slots") or {}).get("language")
        except (httpx.HTTPError, ValueError, AttributeError):
            return None
        return value if isinstance(value, str) else None
