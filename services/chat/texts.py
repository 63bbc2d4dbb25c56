"""The chat gateway's notices and errors: section ``chat`` of the text catalogue (texts/<language>.yml).

Kept as a module so the gateway's call sites read ``t("too_long", lang, limit=...)``; the wording lives only in
the catalogue.
"""

from __future__ import annotations

from texts import catalogue


def text(key: str, language: str, **values: object) -> str:
    """The gateway text ``chat.<key>`` in ``language`` (the default language when it is unknown)."""
    return catalogue().text(f"chat.{key}", language, **values)
