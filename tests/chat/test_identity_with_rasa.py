"""A signed-in customer with the real bot: greeted by name, and "cadê meu pedido?" answered from their latest order.

The Rasa server and the action server are the real ones of the ``stack`` fixture (tests/stack.py); the chat
gateway runs in this process (``with_rasa``) so a test holds its clock and its identity secret. The action server
asks the stack's own services app for the order (internal token), which holds the same demo orders.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.app import create_app
from services.settings import load_settings
from tests.chat.test_identity import ANA, BRUNO, SECRET, signed

pytestmark = [pytest.mark.slow]


def gateway_with_rasa(stack: Any, data_dir: Path) -> TestClient:
    """The services app in-process, talking to the stack's real Rasa (REST channel and tracker API)."""
    settings = load_settings(database_url=f"sqlite:///{data_dir / 'services.db'}", data_dir=data_dir,
                             rasa_url=stack.rasa_url, rasa_token=stack.rasa_token, rasa_timeout_seconds=90.0,
                             secret_key="with-rasa-secret-key", identity_secret=SECRET, redis_url="")
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def with_rasa(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with gateway_with_rasa(stack, tmp_path_factory.mktemp("with-rasa")) as client:
        yield client


def open_chat(client: TestClient, lang: str = "pt", **body: Any) -> str:
    response = client.post("/api/chat/session", json={"lang": lang, **body})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def say(client: TestClient, token: str, text: str) -> list[dict[str, Any]]:
    """The customer's message and everything stored after it (bot replies, notices)."""
    response = client.post("/api/chat/messages", json={"token": token, "text": text})
    assert response.status_code == 200, response.text
    first = response.json()["messages"][0]["seq"]
    history = client.get("/api/chat/history", params={"after_seq": first},
                         headers={"Authorization": f"Bearer {token}"}).json()["messages"]
    return history


def bot_text(messages: list[dict[str, Any]]) -> str:
    return " ".join(m["text"] for m in messages if m["role"] == "bot")


def test_signed_customer_is_greeted_by_name_and_gets_the_latest_order_without_a_number(with_rasa: TestClient) -> None:
    token = open_chat(with_rasa, identity=signed(ANA))
    greeting = bot_text(say(with_rasa, token, "oi"))
    assert greeting.startswith("Oi, Ana!"), greeting
    order = bot_text(say(with_rasa, token, "cade meu pedido?"))
    assert "20481234" in order and "a caminho" in order, order  # her latest order, not the older 20470099
    assert "20470099" not in order and "Qual é o número do pedido" not in order
    # A number she gives still wins over "the latest".
    other = bot_text(say(with_rasa, token, "e o pedido 20485678?"))
    assert "20485678" in other, other


def test_signed_customer_in_english(with_rasa: TestClient) -> None:
    token = open_chat(with_rasa, lang="en", identity=signed(BRUNO))
    greeting = bot_text(say(with_rasa, token, "hello"))
    assert greeting.startswith("Hi Bruno!"), greeting
    order = bot_text(say(with_rasa, token, "where is my order?"))
    assert "20485678" in order, order


def test_an_anonymous_visitor_is_asked_for_the_number(with_rasa: TestClient) -> None:
    """The control: without a signed identity nothing is assumed, and nobody is greeted by name."""
    token = open_chat(with_rasa)
    greeting = bot_text(say(with_rasa, token, "oi"))
    assert "Ana" not in greeting and greeting
    asked = bot_text(say(with_rasa, token, "cade meu pedido?"))
    assert "Qual é o número do pedido?" in asked and "a caminho" not in asked, asked
