"""Replace personal data by a masked form that keeps its shape and a few last digits.

Why keep a little: someone reading a log (or, later, an agent reading a redacted transcript) can still tell
that the customer gave a CPF ending in 09 or a card ending in 1111 — enough to match it with the customer on
the phone — without the full number being stored. Masked text contains no complete identifier, so redacting
twice changes nothing.

Log lines need one more step than chat text: URLs carry personal data percent-encoded (``q=ana%40x.com``)
and secrets in query parameters (Rasa's ``?token=``); :meth:`Redactor.log_text` decodes and masks those.
"""

from __future__ import annotations

import re
from urllib.parse import quote_plus, unquote, unquote_plus

from pii.detect import DEFAULT_RULES, Finding, Rules, find

# Digits kept at the end of each kind (cards: the last four, as payment receipts print them).
KEEP_DIGITS = {"cpf": 2, "cnpj": 2, "phone": 2, "card": 4}
MASK = "*"

SECRET_PARAMS = frozenset({"token", "access_token", "auth_token", "api_key", "apikey", "password", "secret", "key"})
QUERY_PARAM = re.compile(r"(?P<sep>[?&;])(?P<key>[^=&;\s\"'#?]+)=(?P<value>[^&;\s\"'#]*)")
PERCENT_ENCODED = re.compile(r"\S*%[0-9A-Fa-f]{2}\S*")
# Characters of a masked value that may stay unencoded in a URL we rewrite.
URL_SAFE = "*@.-()/:,"


def mask(finding: Finding) -> str:
    if finding.kind == "email":
        local, _, domain = finding.text.partition("@")
        tld = domain.rsplit(".", 1)[-1]
        return f"{local[0]}{MASK * 3}@{MASK * 3}.{tld}"
    keep = KEEP_DIGITS[finding.kind]
    total = sum(ch.isdigit() for ch in finding.text)
    out, seen = [], 0
    for ch in finding.text:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > total - keep else MASK)
        else:
            out.append(ch)
    return "".join(out)


class Redactor:
    """Masks personal data found with the given rules."""

    def __init__(self, rules: Rules = DEFAULT_RULES) -> None:
        self.rules = rules

    def __call__(self, text: str) -> str:
        return self.text(text)

    def text(self, text: str) -> str:
        findings = find(text, self.rules)
        if not findings:
            return text
        parts, position = [], 0
        for finding in findings:
            parts.append(text[position:finding.start])
            parts.append(mask(finding))
            position = finding.end
        parts.append(text[position:])
        return "".join(parts)

    def log_text(self, text: str) -> str:
        """:meth:`text` plus URLs: secret query parameters hidden, percent-encoded personal data masked."""
        if "=" in text:
            text = QUERY_PARAM.sub(self._query_param, text)
        if "%" in text:
            text = PERCENT_ENCODED.sub(self._encoded_token, text)
        return self.text(text)

    def _query_param(self, match: re.Match[str]) -> str:
        key, value = match.group("key"), match.group("value")
        if key.lower() in SECRET_PARAMS and value:
            return f"{match.group('sep')}{key}={MASK * 3}"
        decoded = unquote_plus(value)
        redacted = self.text(decoded)
        if redacted == decoded:
            return match.group()
        return f"{match.group('sep')}{key}={quote_plus(redacted, safe=URL_SAFE)}"

    def _encoded_token(self, match: re.Match[str]) -> str:
        decoded = unquote(match.group())
        redacted = self.text(decoded)
        return match.group() if redacted == decoded else redacted


_default = Redactor()


def redact(text: str) -> str:
    """Mask personal data in text with the stdlib rules."""
    return _default.text(text)


def redact_log_text(text: str) -> str:
    """Mask personal data and secrets in a log line with the stdlib rules."""
    return _default.log_text(text)
