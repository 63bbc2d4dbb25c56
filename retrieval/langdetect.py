"""pt/en detection for ``lang=auto`` (lingua, restricted to the two languages we serve)."""

from __future__ import annotations

import threading
from functools import lru_cache

_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _detector():  # type: ignore[no-untyped-def]
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.PORTUGUESE, Language.ENGLISH).build()


def detect_language(text: str, default: str = "pt", min_confidence: float = 0.6) -> str:
    """'pt' or 'en'; ``default`` when the text is too short or ambiguous to tell."""
    if len(text.strip()) < 3:
        return default
    with _LOCK:
        values = _detector().compute_language_confidence_values(text)
    if not values or values[0].value < min_confidence:
        return default
    return "pt" if values[0].language.name == "PORTUGUESE" else "en"
