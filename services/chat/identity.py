"""Who the customer is: a signed identity from the host site, or a stable anonymous visitor id.

Signed identity (like Intercom's identity verification): the shop's site, where the customer is signed in,
passes the widget the customer's ``id``, ``name`` and ``email`` plus ``signature`` =
HMAC-SHA256(``identity_secret``, ``id + "\\n" + name + "\\n" + email``) in lowercase hex. The secret lives in
services/settings.yml (``identity_secret``, or the ``IDENTITY_SECRET`` environment variable) and on the shop's
server — never in the page. Why a signature: the widget runs in the customer's browser, so anything it sends
can be made up; only the shop's server can compute the signature, so a forged or altered identity is refused
(and nothing is stored) instead of letting a visitor read someone else's orders by typing another id.
Fields may not contain control characters, so the newline-joined message is unambiguous.

Visitor id: an anonymous browser keeps one random id for as long as its storage lasts, in a token signed with
the app's secret key (so a client cannot pick someone else's id); conversations carry it, which is what lets
retention and repeat contact link an anonymous visitor's conversations, and the NPS cap count per person.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

VISITOR_SALT = "lumo-chat-visitor-v1"
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_ID_RE = re.compile(r"^[A-Za-z0-9_.@:-]{1,128}$")
_SIGNATURE_RE = re.compile(r"^[0-9a-fA-F]{64}$")
MAX_NAME = 120
MAX_EMAIL = 200


class IdentityRefused(Exception):
    """The identity the page passed cannot be accepted; ``code`` goes on the wire (HTTP 403 / WS error)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Identity:
    """A verified customer: the host site signed these fields."""

    customer_id: str
    name: str
    email: str


def signing_message(customer_id: str, name: str, email: str) -> bytes:
    """The exact bytes the host site signs (documented in the README, "Signed-in customers")."""
    return f"{customer_id}\n{name}\n{email}".encode()


def sign(secret: str, customer_id: str, name: str = "", email: str = "") -> str:
    """The signature the host site's server computes (used by tests and the README's example)."""
    return hmac.new(secret.encode(), signing_message(customer_id, name, email), hashlib.sha256).hexdigest()


def _field(raw: dict[str, Any], key: str, limit: int) -> str:
    value = raw.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit or _CONTROL_RE.search(value):
        raise IdentityRefused("bad_identity", f"identity field {key!r} must be text of at most {limit} characters")
    return value


def verify(secret: str, raw: object) -> Identity:
    """The identity if its signature is right; :class:`IdentityRefused` otherwise (nothing is stored then)."""
    if not secret:
        raise IdentityRefused("identity_disabled", "this chat does not accept signed identities "
                                                   "(identity_secret is not set in services/settings.yml)")
    if not isinstance(raw, dict):
        raise IdentityRefused("bad_identity", "identity must be an object with id, name, email and signature")
    customer_id = raw.get("id")
    if not isinstance(customer_id, str) or not _ID_RE.match(customer_id):
        raise IdentityRefused("bad_identity", "identity id must be 1-128 letters, digits or _ . @ : -")
    name, email = _field(raw, "name", MAX_NAME), _field(raw, "email", MAX_EMAIL)
    signature = raw.get("signature")
    if not isinstance(signature, str) or not _SIGNATURE_RE.match(signature):
        raise IdentityRefused("bad_identity", "identity signature must be 64 hexadecimal characters (HMAC-SHA256)")
    expected = sign(secret, customer_id, name, email)
    if not hmac.compare_digest(expected, signature.lower()):
        raise IdentityRefused("bad_identity", "the identity signature does not match its fields")
    return Identity(customer_id=customer_id, name=name.strip(), email=email.strip())


class VisitorTokens:
    """Signed, non-expiring tokens holding an anonymous browser's random visitor id."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("a secret key is required to sign visitor tokens")
        self._serializer = URLSafeSerializer(secret_key, salt=VISITOR_SALT)

    def issue(self, visitor_id: str) -> str:
        return self._serializer.dumps({"v": visitor_id})

    def verify(self, token: object) -> str | None:
        """The visitor id of a valid token, else ``None``."""
        if not isinstance(token, str) or not token or len(token) > 256:
            return None
        try:
            data = self._serializer.loads(token)
        except BadSignature:
            return None
        vid = data.get("v") if isinstance(data, dict) else None
        return vid if isinstance(vid, str) and 8 <= len(vid) <= 64 else None

    def resolve(self, token: object) -> tuple[str, str]:
        """(visitor id, token): the token's own id when valid, a new random one otherwise."""
        vid = self.verify(token)
        if vid is None:
            vid = secrets.token_urlsafe(16)
        return vid, self.issue(vid)


@dataclass(frozen=True)
class Who:
    """Who opened a session: always a visitor id; a customer too when the page signed one."""

    visitor_id: str
    visitor_token: str
    customer: Identity | None = None


def who_is(secret: str, visitors: VisitorTokens, visitor_token: object, identity: object) -> Who:
    """The visitor (always) and the signed customer (when the page passed an identity); raises IdentityRefused
    before anything is stored, so a forged identity never creates or touches a conversation."""
    customer = verify(secret, identity) if identity is not None else None
    visitor_id, token = visitors.resolve(visitor_token)
    return Who(visitor_id=visitor_id, visitor_token=token, customer=customer)
