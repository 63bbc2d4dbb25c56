"""Inputs that used to give server errors or close sockets (issue #12): ids beyond the database's integers, lone
surrogate characters, JSON nested thousands deep, messages made only of invisible characters. Each gets a
clear error or a safe reply, and the socket stays open for the next message.

The real services app runs in-process on its own SQLite file; Rasa is a closed port, so a message that reaches
the bot path gets the "assistant unavailable" notice — which is exactly what an invisible message must not get.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from handoff.auth import hash_password
from handoff.models import Agent
from services.app import create_app
from services.settings import load_settings
from tests.chat.conftest import closed_port

PASSWORD = "senha-da-ana-12345"
HUGE_IDS = (2**31, 2**63, 2**64 + 5)
DEEP_JSON = "[" * 5000 + "]" * 5000
INVISIBLE = ("\u200b", "\u200b\u200c\u200d\ufeff", "\u2060 \u200b\n")


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'services.db'}", data_dir=tmp_path,
                             rasa_url=f"http://127.0.0.1:{closed_port()}", rasa_timeout_seconds=2.0,
                             secret_key="test-secret-key-for-bad-input", redis_url="")
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        with test_client.app.state.db.session() as s:
            s.add(Agent(email="ana@lumo.test", name="Ana", password_hash=hash_password(PASSWORD), role="lead",
                        teams=["atendimento", "suporte"]))
        yield test_client


def sign_in(client: TestClient) -> None:
    assert client.post("/api/handoff/auth/login", json={"email": "ana@lumo.test", "password": PASSWORD}
                       ).status_code == 200


def open_chat(client: TestClient) -> str:
    return client.post("/api/chat/session", json={"lang": "pt"}).json()["token"]


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_ids_beyond_the_database_integers_are_not_server_errors(client: TestClient, huge: int) -> None:
    sign_in(client)
    for method, path in (("GET", f"/api/handoff/handoffs/{huge}"), ("GET", f"/api/handoff/handoffs/{huge}/transcript"),
                         ("POST", f"/api/handoff/handoffs/{huge}/claim"), ("POST", f"/api/handoff/handoffs/{huge}/handback")):
        response = client.request(method, path, json={} if method == "POST" else None)
        assert response.status_code in (404, 422), (path, response.status_code, response.text)


def test_a_lone_surrogate_in_a_message_is_stored_as_a_replacement_character(client: TestClient) -> None:
    token = open_chat(client)
    body = json.dumps({"token": token, "text": "oi LONE tudo bem", "client_message_id": "m1"}).replace("LONE", "\\ud800")
    response = client.post("/api/chat/messages", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["messages"][0]["text"] == "oi \ufffd tudo bem"


def test_a_lone_surrogate_elsewhere_is_a_clear_error_not_a_server_error(client: TestClient) -> None:
    token = open_chat(client)
    body = json.dumps({"token": token, "name": "Ana LONE", "email": "ana@example.com"}).replace("LONE", "\\udfff")
    response = client.post("/api/chat/contact", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (200, 422), response.text


@pytest.mark.parametrize("text", INVISIBLE)
def test_a_message_of_invisible_characters_is_refused_as_empty(client: TestClient, text: str) -> None:
    token = open_chat(client)
    response = client.post("/api/chat/messages", json={"token": token, "text": text, "client_message_id": "m1"})
    assert response.status_code == 400, response.text
    assert response.json()["detail"]["code"] == "empty"


def chat_frames(ws: Any) -> Iterator[dict[str, Any]]:
    while True:
        yield json.loads(ws.receive_text())


def next_of(ws: Any, kind: str) -> dict[str, Any]:
    for frame in chat_frames(ws):
        if frame.get("type") == kind:
            return frame
    raise AssertionError("unreachable")


def test_chat_socket_survives_deep_json_and_surrogates(client: TestClient) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_text(json.dumps({"type": "hello", "lang": "pt"}))
        next_of(ws, "welcome")
        ws.send_text(DEEP_JSON)
        assert next_of(ws, "error")["code"] == "bad_frame"
        ws.send_text('{"type": "message", "text": "cade \\udbff meu pedido", "client_message_id": "m1"}')
        assert next_of(ws, "ack")["client_message_id"] == "m1"
        stored = next_of(ws, "message")["message"]
        assert stored["role"] == "customer" and stored["text"] == "cade \ufffd meu pedido"
        ws.send_text(json.dumps({"type": "message", "text": "\u200b\u200b", "client_message_id": "m2"}))
        assert next_of(ws, "error")["code"] == "empty"


def test_agent_socket_survives_deep_json_surrogates_and_huge_ids(client: TestClient) -> None:
    sign_in(client)
    with client.websocket_connect("/ws/agent") as ws:
        assert json.loads(ws.receive_text())["type"] == "hello"
        ws.send_text(DEEP_JSON)
        assert next_of(ws, "error")["code"] == "bad_frame"
        ws.send_text(json.dumps({"type": "watch", "handoff_id": 2**63}))
        assert next_of(ws, "error")["type"] == "error"
        ws.send_text('{"type": "watch", "handoff_id": 1, "x": "\\ud800"}')
        assert next_of(ws, "error")["type"] == "error"
        ws.send_text(json.dumps({"type": "ping"}))
        assert next_of(ws, "pong")["type"] == "pong"  # the socket is still open and answering
