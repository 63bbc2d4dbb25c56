"""Session start takes the page language for a new conversation and keeps the conversation's afterwards."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.session import ActionSessionStart, page_language


def run(slots: dict, events: list) -> list[dict]:
    tracker = Tracker("s", slots, {}, events, False, None, {}, "action_listen")
    return ActionSessionStart().run(CollectingDispatcher(), tracker, {})


def test_new_conversation_starts_in_the_page_language() -> None:
    events = run({"language": "pt", "session_started_metadata": {"language": "en"}}, [])
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
    assert {"event": "slot", "name": "language", "value": "en", "timestamp": None} in events


def test_later_session_keeps_the_conversation_language() -> None:
    earlier = [{"event": "user", "text": "oi tudo bem"}]
    events = run({"language": "pt", "order_number": "20481234", "session_started_metadata": {"language": "en"}},
                 earlier)
    languages = [e["value"] for e in events if e.get("name") == "language"]
    assert languages == ["pt"]
    assert any(e.get("name") == "order_number" for e in events)


def test_page_language_accepts_only_supported_values() -> None:
    assert page_language({"language": "en-US"}) == "en"
    assert page_language({"lang": "pt-BR"}) == "pt"
    assert page_language({"language": "fr"}) is None
    assert page_language("en") is None
