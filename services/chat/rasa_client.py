"""The services app's one HTTP client for Rasa: the REST channel (a turn) and the tracker API (read, append).

Why one client: the gateway and handoff both talk to Rasa; one ``httpx.AsyncClient`` per process reuses
connections, and the auth token and time-outs are set in one place.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger(__name__)


# Appended to a tracker when the conversation's status returns to the bot: Rasa resumes, remembers a handoff
# happened, and listens again (the pause cut Rasa's turn short before it listened; without action_listen no rule
# matches the next message).
RESUME_EVENTS: list[dict[str, Any]] = [{"event": "resume"}, {"event": "slot", "name": "handoff_happened", "value": True},
                                       {"event": "action", "name": "action_listen"}]


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


@dataclass
class Turn:
    """The bot's replies to one message, and how it read the message (see bot/channels/safe_rest.py)."""

    replies: list[dict[str, Any]]
    intent: str | None = None
    confidence: float = 0.0
    entities: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    ranking: list[dict[str, Any]] = field(default_factory=list)
    language: str | None = None
    paused: bool = False

    @classmethod
    def from_body(cls, body: Any) -> Turn:
        """Accept the ``?turn=1`` envelope, or a plain list of replies (Rasa's stock REST channel)."""
        if isinstance(body, list):
            return cls(replies=merge_custom_replies([r for r in body if isinstance(r, dict)]))
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            raise RasaUnavailable(f"unexpected reply from Rasa: {str(body)[:200]}")
        info = body.get("turn") if isinstance(body.get("turn"), dict) else {}
        language = info.get("language")
        return cls(
            replies=merge_custom_replies([r for r in body["messages"] if isinstance(r, dict)]),
            intent=info.get("intent") if isinstance(info.get("intent"), str) else None,
            confidence=float(info.get("confidence") or 0.0),
            entities=[e for e in info.get("entities") or [] if isinstance(e, dict)],
            actions=[str(a) for a in info.get("actions") or []],
            ranking=[r for r in info.get("ranking") or [] if isinstance(r, dict)],
            language=language if isinstance(language, str) else None,
            paused=bool(info.get("paused")),
        )


class RasaClient:
    """Talks to one Rasa server; one ``httpx.AsyncClient`` per app process (connection reuse)."""

    def __init__(self, base_url: str, timeout_seconds: float = 20.0, auth_token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        # Rasa's HTTP API (the tracker) needs the token Rasa was started with (--auth-token); the REST
        # channel does not. It comes from settings (`rasa_token`, or the RASA_TOKEN the launcher sets).
        self.auth_token = auth_token or ""
        self.timeout = timeout_seconds
        self._client = httpx.AsyncClient(timeout=timeout_seconds)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> Turn:
        """``POST /webhooks/rest/webhook?turn=1``: the bot's replies and its reading, or :class:`RasaUnavailable`."""
        body = {"sender": sender, "message": message, "metadata": metadata or {}}
        try:
            response = await self._client.post(f"{self.base_url}/webhooks/rest/webhook", json=body,
                                               params={"turn": "1"})
            response.raise_for_status()
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise RasaUnavailable(f"{type(error).__name__}: {error}") from error
        return Turn.from_body(answer)

    def _token(self) -> dict[str, str]:
        return {"token": self.auth_token} if self.auth_token else {}

    async def tracker_events(self, sender: str) -> list[dict[str, Any]]:
        """``GET /conversations/{id}/tracker`` (all events); raises ``httpx.HTTPError``/``ValueError``."""
        response = await self._client.get(f"{self.base_url}/conversations/{sender}/tracker",
                                          params={"include_events": "ALL", **self._token()})
        response.raise_for_status()
        events = response.json().get("events")
        if not isinstance(events, list):
            raise ValueError("tracker without events")
        return [e for e in events if isinstance(e, dict)]

    async def resume(self, sender: str, attempts: int = 4) -> bool:
        """Make Rasa answer this conversation again (see :data:`RESUME_EVENTS`)."""
        return await self.append_events(sender, RESUME_EVENTS, attempts)

    async def append_events(self, sender: str, events: list[dict[str, Any]], attempts: int = 4) -> bool:
        """``POST /conversations/{id}/tracker/events`` with retries and backoff; ``False`` if it never worked."""
        for attempt in range(attempts):
            try:
                response = await self._client.post(f"{self.base_url}/conversations/{sender}/tracker/events",
                                                   params={"include_events": "NONE", **self._token()}, json=events)
                if response.status_code < 300:
                    return True
                error = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            log.warning("appending events to a Rasa tracker failed (attempt %d): %s", attempt + 1, error)
            if attempt + 1 < attempts:
                await asyncio.sleep(0.5 * 2 ** attempt)
        return False
