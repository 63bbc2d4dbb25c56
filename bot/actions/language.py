"""Which language to answer in, and picking text by language: shared by every custom action."""

from __future__ import annotations

from rasa_sdk import Tracker

SUPPORTED = ("pt", "en")


def conversation_language(tracker: Tracker) -> str:
    """The conversation's language slot (filled by the language detector); Portuguese by default."""
    value = tracker.get_slot("language")
    return value if value in SUPPORTED else "pt"


def pick(language: str, pt: str, en: str) -> str:
    """Choose the Portuguese or English text; keeps the two versions side by side at the call site."""
    return en if language == "en" else pt
