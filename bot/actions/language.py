"""Which language to answer in, and the texts the actions compose: shared by every custom action.

The wording lives in the text catalogue (texts/<language>.yml, section ``bot``) next to every other customer text,
with the same keys and placeholders in each language; the bot reads it through the dependency-free ``texts``
package (``bot/`` never imports ``services/`` or ``handoff/``).
"""

from __future__ import annotations

from rasa_sdk import Tracker

from texts import catalogue

SUPPORTED = catalogue().languages


def conversation_language(tracker: Tracker) -> str:
    """The conversation's language slot (filled by the language detector); the default language otherwise."""
    value = tracker.get_slot("language")
    return value if value in SUPPORTED else catalogue().default_language


def say(key: str, language: str, **values: object) -> str:
    """The catalogue text ``bot.<key>`` in ``language``, placeholders filled."""
    return catalogue().text(f"bot.{key}", language, **values)
