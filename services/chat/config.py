"""Chat gateway limits, read from ``services/chat/chat.yml`` (YAML a support lead edits) with safe defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from texts import catalogue

DEFAULT_FILE = Path(__file__).with_name("chat.yml")


@dataclass(frozen=True)
class ChatConfig:
    """Limits of the chat gateway; defaults are what the product ships with."""

    max_message_chars: int = 2000
    rate_limit_per_minute: int = 20
    session_max_age_days: int = 30
    history_limit: int = 500
    close_idle_after_hours: float = 24.0
    # Surveys (services/chat/surveys.py): the bot's intents that end a conversation after an answer (CSAT is
    # then asked, as after an agent's resolution), and how often one customer may be asked for NPS.
    survey_end_intents: tuple[str, ...] = ("goodbye", "thanks")
    nps_every_days: int = 30

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages customers are served in: those of texts/company.yml (each has a texts file)."""
        return catalogue().languages

    @property
    def default_language(self) -> str:
        return self.languages[0]


def load_chat_config(path: Path | None = None, **overrides: object) -> ChatConfig:
    """Read the YAML file (missing file or keys → defaults), then apply explicit overrides (tests)."""
    file = Path(os.environ.get("CHAT_SETTINGS", path or DEFAULT_FILE))
    raw = yaml.safe_load(file.read_text()) if file.exists() else None
    raw = raw if isinstance(raw, dict) else {}
    defaults = ChatConfig()
    values: dict[str, object] = {}
    for f in fields(ChatConfig):
        current = getattr(defaults, f.name)
        value = raw.get(f.name, current)
        if isinstance(current, tuple):
            value = tuple(str(v) for v in value) if isinstance(value, (list, tuple)) else current
        elif isinstance(current, float):
            value = float(value)  # type: ignore[arg-type]
        elif isinstance(current, int):
            value = int(value)  # type: ignore[call-overload]
        values[f.name] = value
    values.update(overrides)
    return ChatConfig(**values)  # type: ignore[arg-type]
