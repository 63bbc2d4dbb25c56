"""Folding Rasa's custom-data-only replies into the text they belong to (no empty bubbles)."""

from __future__ import annotations

from services.chat.rasa_client import merge_custom_replies


def test_custom_only_reply_joins_the_text_before_it() -> None:
    replies = [{"text": "Artigo: x", "buttons": [{"title": "Sim", "payload": "/affirm"}]},
               {"custom": {"kb": {"asked": "helped"}}}, {"text": "Isso ajudou?"}]
    merged = merge_custom_replies(replies)
    assert merged == [{"text": "Artigo: x", "buttons": [{"title": "Sim", "payload": "/affirm"}],
                       "custom": {"kb": {"asked": "helped"}}}, {"text": "Isso ajudou?"}]


def test_leading_custom_only_reply_is_dropped_and_text_kept() -> None:
    assert merge_custom_replies([{"custom": {"a": 1}}, {"text": "oi"}]) == [{"text": "oi"}]


def test_second_custom_does_not_overwrite_the_first() -> None:
    replies = [{"text": "a", "custom": {"x": 1}}, {"custom": {"y": 2}}]
    assert merge_custom_replies(replies) == replies
