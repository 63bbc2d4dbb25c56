"""Accent folding, lower-casing, whitespace and word splitting: the one place these rules live.

Why one module: customers write "nao", "NÃO" and "não" for the same word, and the bot, the help-center
search, the knowledge-base index and the escalation rules must all see the same thing. Every caller folds
with :func:`fold` (the bot in the Rasa environment too), so a spelling that matches in one place matches in
all of them. Standard library only, so both Python environments can import it.
"""

from __future__ import annotations

import re
import unicodedata

# A word is a run of letters or digits (any script); "_" and punctuation split words.
WORD_RE = re.compile(r"[^\W_]+")


def _text(value: str | None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"expected text (str) or None, got {type(value).__name__}")
    return value


def fold(text: str | None) -> str:
    """Lower-case, accent-free text: "Não" ~ "nao", "CONFIGURAÇÃO" ~ "configuracao".

    ``casefold`` rather than ``lower`` so case-insensitive matching also holds beyond pt/en ("ß" ~ "ss");
    NFKD splits an accented letter into letter + combining mark (and compatibility forms such as
    full-width digits into ASCII), then the marks are dropped. ``None`` gives "".
    """
    decomposed = unicodedata.normalize("NFKD", _text(text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise(text: str | None) -> str:
    """:func:`fold` plus single spaces and no leading/trailing blanks: the form phrases are compared in."""
    return " ".join(fold(text).split())


def words(text: str | None, *, keep_accents: bool = False) -> list[str]:
    """Lower-cased words of ``text``, accent-folded unless ``keep_accents`` (lemma tables need accents)."""
    if keep_accents:
        return WORD_RE.findall(_text(text).casefold())
    return WORD_RE.findall(fold(text))
