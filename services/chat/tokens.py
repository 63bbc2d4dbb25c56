"""Signed customer session tokens: the widget keeps one in localStorage to find its conversation again.

Why signed and not just the id: the token is presented on every connection, and a signature made with
``settings.secret_key`` means a client cannot forge or tamper with one; the conversation id inside is
itself random (``secrets.token_urlsafe``) so it cannot be guessed either.
"""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "lumo-chat-session-v1"


def new_conversation_id() -> str:
    """128 random bits, URL-safe: also used as the Rasa sender id."""
    return secrets.token_urlsafe(16)


class TokenSigner:
    """Issue and verify session tokens for conversations."""

    def __init__(self, secret_key: str, max_age_days: int = 30) -> None:
        if not secret_key:
            raise ValueError("a secret key is required to sign chat session tokens")
        self._serializer = URLSafeTimedSerializer(secret_key, salt=SALT)
        self.max_age_seconds = max_age_days * 86400

    def issue(self, conversation_id: str) -> str:
        return self._serializer.dumps({"c": conversation_id})

    def verify(self, token: object) -> str | None:
        """The conversation id of a valid token, else ``None`` (bad signature, expired, not a string)."""
        if not isinstance(token, str) or not token or len(token) > 512:
            return None
        try:
            data = self._serializer.loads(token, max_age=self.max_age_seconds)
        except BadSignature:
            return None
        cid = data.get("c") if isinstance(data, dict) else None
        return cid if isinstance(cid, str) and cid else None
