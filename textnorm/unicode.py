"""Text that every store and socket can carry: lone surrogates replaced, control characters removed.

Why: JSON may spell a lone UTF-16 surrogate (``"\\ud800"``); Python decodes it into a ``str`` that no UTF-8
encoder accepts, so storing or sending it failed with a server error and closed the customer's and the
agent's sockets. Replacing it with U+FFFD (the character every system shows for "unreadable") keeps the
rest of the message. And a message of only invisible characters (zero-width spaces, joiners, BOMs) is empty:
:func:`visible` tells the gateway so, instead of passing nothing to the bot.
"""

from __future__ import annotations

import re
import unicodedata

_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
# Control characters other than tab/newline (binary garbage, NULs that PostgreSQL rejects in text columns).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def valid_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD and control characters removed."""
    return _CONTROL_RE.sub("", _SURROGATE_RE.sub("\ufffd", text))


def visible(text: str) -> bool:
    """Whether ``text`` has anything a person can see (not only spaces and invisible format characters)."""
    return any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in text)
