"""Validation of REST webhook requests (the real Rasa server is exercised in tests/e2e)."""

from __future__ import annotations

import pytest

from bot.channels.validation import MAX_MESSAGE_CHARS, InvalidMessage, clean_text, validate_request


def test_valid_message_passes_and_keeps_informal_text() -> None:
    message = validate_request({"sender": "abc-123", "message": "  oi vc pode me ajudar? 😀 ", "metadata": {"a": 1}})
    assert message.text == "oi vc pode me ajudar? 😀"
    assert message.sender == "abc-123" and message.metadata == {"a": 1}


@pytest.mark.parametrize("body, fragment", [
    ([], "JSON object"), ("oi", "JSON object"), ({"sender": "a"}, "must be a string"),
    ({"sender": "a", "message": 42}, "must be a string"), ({"sender": "a", "message": "   "}, "empty"),
    ({"sender": "a", "message": "\x00\x01\x02"}, "empty"),
    ({"sender": "a", "message": "x" * (MAX_MESSAGE_CHARS + 1)}, "too long"),
    ({"sender": "../../etc/passwd", "message": "oi"}, "sender"), ({"sender": "<script>", "message": "oi"}, "sender"),
    ({"sender": "", "message": "oi"}, "sender"), ({"sender": "a", "message": "oi", "metadata": "x"}, "metadata"),
])
def test_invalid_requests_get_a_clear_reason(body, fragment: str) -> None:
    with pytest.raises(InvalidMessage, match=fragment):
        validate_request(body)


def test_control_characters_are_removed_but_newlines_kept() -> None:
    assert clean_text("a\x00b\u200bc\nd") == "abc\nd"


def test_html_is_kept_as_text_for_the_pipeline() -> None:
    assert validate_request({"sender": "s", "message": "<script>alert(1)</script>"}).text == "<script>alert(1)</script>"
