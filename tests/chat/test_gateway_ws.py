"""``WS /ws/chat``: handshake, acks after commit, idempotent re-sends, bad frames, history on reconnect."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from services.conversations import kinds
from tests.chat.conftest import open_session


def receive_until(ws: Any, kind: str, limit: int = 20) -> dict:
    for _ in range(limit):
        frame = ws.receive_json()
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


def hello(ws: Any, token: str | None = None, lang: str = "pt", after_seq: int = 0) -> tuple[dict, dict]:
    ws.send_json({"type": "hello", "token": token, "lang": lang, "after_seq": after_seq})
    welcome = ws.receive_json()
    assert welcome["type"] == "welcome", welcome
    history = ws.receive_json()
    assert history["type"] == "history", history
    return welcome, history


def test_new_conversation_then_resume_with_history(client: TestClient) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        welcome, history = hello(ws, None, "en")
        assert welcome["resumed"] is False and welcome["conversation"]["language"] == "en"
        assert welcome["limits"]["max_message_chars"] == 2000 and history["messages"] == []
        ws.send_json({"type": "message", "text": "hi there", "client_message_id": "c1"})
        ack = receive_until(ws, "ack")
        assert ack == {"type": "ack", "client_message_id": "c1", "seq": 1, "duplicate": False}
        receive_until(ws, "notice")  # Rasa is down in these tests: the offline notice arrives live
        token = welcome["token"]
    with client.websocket_connect("/ws/chat") as ws:
        welcome, history = hello(ws, token, "pt")
        assert welcome["resumed"] is True and welcome["conversation"]["language"] == "en"
        roles = [m["role"] for m in history["messages"]]
        assert roles == ["customer", "system"] and history["messages"][0]["text"] == "hi there"
    with client.websocket_connect("/ws/chat") as ws:
        _, history = hello(ws, token, "pt", after_seq=1)
        assert [m["seq"] for m in history["messages"]] == [2]


def test_resent_message_is_acknowledged_but_not_duplicated(client: TestClient) -> None:
    token = open_session(client)
    with client.websocket_connect("/ws/chat") as ws:
        hello(ws, token)
        frame = {"type": "message", "text": "oi, quero trocar meu fone", "client_message_id": "resend-1"}
        ws.send_json(frame)
        first = receive_until(ws, "ack")
        ws.send_json(frame)
        second = receive_until(ws, "ack")
        assert second["seq"] == first["seq"] and second["duplicate"] is True
    history = client.get("/api/chat/history", params={"token": token}).json()["messages"]
    assert sum(1 for m in history if m["client_message_id"] == "resend-1") == 1


def test_bad_frames_get_an_error_and_the_socket_stays_usable(client: TestClient) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_text("{oops")  # before hello: still answered, still open
        assert ws.receive_json()["code"] == "bad_frame"
        hello(ws, None, "pt")
        bad_inputs = [
            ("text", "not json at all"),
            ("text", "[1, 2, 3]"),
            ("text", json.dumps({"no_type": True})),
            ("text", json.dumps({"type": "launch_missiles"})),
            ("bytes", b"\x00\xff\xfe binary"),
            ("text", "x" * 200_000),
        ]
        for kind, payload in bad_inputs:
            ws.send_bytes(payload) if kind == "bytes" else ws.send_text(payload)
            error = receive_until(ws, "error")
            assert error["code"] in {"bad_frame", "too_long"} and error["message"]
        ws.send_json({"type": "message", "text": "", "client_message_id": "e1"})
        empty = receive_until(ws, "error")
        assert empty["code"] == "empty" and empty["client_message_id"] == "e1"
        ws.send_json({"type": "message", "text": "y" * 2001, "client_message_id": "e2"})
        assert receive_until(ws, "error")["code"] == "too_long"
        ws.send_json({"type": "message", "text": "<b>oi</b>", "client_message_id": "ok-after-errors"})
        assert receive_until(ws, "ack")["client_message_id"] == "ok-after-errors"
        ws.send_json({"type": "ping"})
        assert receive_until(ws, "pong") == {"type": "pong"}


def test_live_events_reach_every_socket_of_the_conversation(client: TestClient) -> None:
    """Two tabs of the same customer: a message sent in one appears in the other, with the agent's name."""
    token = open_session(client, "pt")
    with client.websocket_connect("/ws/chat") as tab1, client.websocket_connect("/ws/chat") as tab2:
        welcome, _ = hello(tab1, token)
        hello(tab2, token)
        tab1.send_json({"type": "message", "text": "alguem ai?", "client_message_id": "t1"})
        seen = receive_until(tab2, "message")
        assert seen["message"]["text"] == "alguem ai?" and seen["message"]["role"] == "customer"
        tab1.send_json({"type": "typing", "on": True})
        typing = receive_until(tab2, "typing")
        assert typing["role"] in {"customer", "bot"}


def test_a_socket_that_never_says_hello_is_closed(client: TestClient, monkeypatch: Any) -> None:
    import pytest
    from starlette.websockets import WebSocketDisconnect

    import services.chat.ws as ws_module

    monkeypatch.setattr(ws_module, "HELLO_TIMEOUT_SECONDS", 0.3)
    with client.websocket_connect("/ws/chat") as ws:
        error = ws.receive_json()
        assert error["type"] == "error" and "hello" in error["message"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008


def test_expired_token_or_closed_conversation_starts_anew_with_a_notice(client: TestClient) -> None:
    token = open_session(client, "en")
    with client.websocket_connect("/ws/chat") as ws:
        welcome, _ = hello(ws, token[:-3] + "xyz", "en")
        assert welcome["resumed"] is False and "expired" in welcome["notice"]
    chat = client.app.state.chat
    cid = client.app.state.chat_tokens.verify(token)
    client.portal.call(chat.conversations.run,
                       lambda tx: tx.set_status(cid, "closed", kinds.CLOSED, "system", why="idle"))
    with client.websocket_connect("/ws/chat") as ws:
        welcome, history = hello(ws, token, "en")
        assert welcome["conversation"]["id"] != cid and "closed" in welcome["notice"]
        assert history["messages"] == []
    with client.websocket_connect("/ws/chat") as ws:
        welcome, _ = hello(ws, None, "pt")
        assert welcome["notice"] is None
