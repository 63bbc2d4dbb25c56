"""End-to-end: the real Rasa server and action server over HTTP, backed by the real services app."""

from __future__ import annotations

import uuid

import httpx
import pytest

from scripts.stack import Stack

pytestmark = pytest.mark.slow


def say(stack: Stack, sender: str, text: str) -> list[dict]:
    response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                          timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def new_sender() -> str:
    return f"e2e-{uuid.uuid4().hex}"


def test_order_status_in_portuguese_with_malformed_number(stack: Stack) -> None:
    sender = new_sender()
    say(stack, sender, "oi")
    asked = texts(say(stack, sender, "cade meu pedido? ja faz uma semana"))
    assert "pedido" in asked.lower() and "?" in asked
    again = texts(say(stack, sender, "1234"))
    assert "não parece um número de pedido" in again
    answer = texts(say(stack, sender, "#20481234"))
    assert "20481234" in answer and "a caminho" in answer and "Correios" in answer


def test_order_status_in_english(stack: Stack) -> None:
    sender = new_sender()
    say(stack, sender, "hi there")
    asked = texts(say(stack, sender, "where is my order??"))
    assert "order number" in asked.lower()
    again = texts(say(stack, sender, "its 98765"))
    assert "doesn't look like an order number" in again
    answer = texts(say(stack, sender, "20485678"))
    assert "20485678" in answer and "delivered" in answer.lower()


def test_unknown_order_in_portuguese(stack: Stack) -> None:
    sender = new_sender()
    answer = texts(say(stack, sender, "qual o status do pedido 99999999"))
    if "99999999" not in answer:  # the form asked for the number first
        answer = texts(say(stack, sender, "99999999"))
    assert "Não encontrei nenhum pedido com o número 99999999" in answer


def test_conversation_keeps_language_on_ambiguous_messages(stack: Stack) -> None:
    sender = new_sender()
    say(stack, sender, "hello, i need help with my order")
    reply = texts(say(stack, sender, "20481234"))
    assert "on its way" in reply or "order" in reply.lower()


@pytest.mark.parametrize("payload, expect_error", [
    ({"sender": "bad-input", "message": ""}, True),
    ({"sender": "bad-input", "message": "x" * 20_000}, True),
    ({"sender": "bad-input", "message": "😀😀😀"}, False),
    ({"sender": "bad-input", "message": "<script>alert('x')</script><b>oi</b>"}, False),
    ({"sender": "../../weird id; DROP TABLE", "message": "oi"}, True),
    ({"sender": "bad-input", "message": ["not", "text"]}, True),
])
def test_bad_input_gets_clear_error_or_safe_reply(stack: Stack, payload: dict, expect_error: bool) -> None:
    response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=payload, timeout=60)
    if expect_error:
        assert response.status_code == 400 and response.json()["error"]
    else:
        assert response.status_code == 200
        for message in response.json():
            assert "<script>" not in message.get("text", "")
    # The server keeps serving after every bad request.
    assert say(stack, new_sender(), "oi")


def test_malformed_json_is_rejected_and_server_keeps_serving(stack: Stack) -> None:
    response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", content=b"{not json",
                          headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400 and "JSON" in response.json()["error"]
    response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", content=b"\xff\xfe\x00binary", timeout=30)
    assert response.status_code == 400
    assert say(stack, new_sender(), "hello")
