"""The gateway with the real bot (Rasa + action server from tests/stack.py), over REST and WebSocket."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

pytestmark = [pytest.mark.slow]


def session(stack: Any, lang: str) -> str:
    return httpx.post(f"{stack.services_url}/api/chat/session", json={"lang": lang}).json()["token"]


def say(stack: Any, token: str, text: str, cmid: str | None = None) -> list[dict]:
    response = httpx.post(f"{stack.services_url}/api/chat/messages", timeout=90,
                          json={"token": token, "text": text, "client_message_id": cmid})
    assert response.status_code == 200, response.text
    return response.json()["messages"]


def test_rest_round_trip_with_the_bot(stack: Any) -> None:
    token = session(stack, "pt")
    messages = say(stack, token, "qual o status do pedido 20481234", "r1")
    assert messages[0]["role"] == "customer"
    bot = [m for m in messages if m["role"] == "bot"]
    assert bot and any("20481234" in m["text"] for m in bot)
    again = say(stack, token, "qual o status do pedido 20481234", "r1")
    assert [m["seq"] for m in again] == [messages[0]["seq"]]  # idempotent: no second trip to Rasa


def test_english_is_detected_and_recorded(stack: Any) -> None:
    token = session(stack, "pt")
    say(stack, token, "hello, can you check my order 20481234 please?")
    history = httpx.get(f"{stack.services_url}/api/chat/history", params={"token": token}).json()
    assert history["conversation"]["language"] == "en"


def test_websocket_ack_then_bot_reply(stack: Any) -> None:
    url = stack.services_url.replace("http", "ws") + "/ws/chat"
    import json

    with connect(url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "token": None, "lang": "pt"}))
        assert json.loads(ws.recv(10))["type"] == "welcome"
        assert json.loads(ws.recv(10))["type"] == "history"
        ws.send(json.dumps({"type": "message", "text": "oi", "client_message_id": "w1"}))
        seen = []
        while not any(f.get("type") == "message" and f["message"]["role"] == "bot" for f in seen):
            seen.append(json.loads(ws.recv(90)))
        types = [f["type"] for f in seen]
        assert types.index("ack") < types.index("message")
        assert {"type": "typing", "role": "bot", "on": True} in seen
