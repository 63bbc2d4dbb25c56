"""Both live sockets through the real app: queue updates reach waiting customers, typing and messages relay
both ways between /ws/agent and /ws/chat, and a message is acknowledged only after it is stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.chat.models import ChatMessage
from tests.handoff.conftest import Env


def until(ws: Any, predicate: Any, limit: int = 30) -> dict:
    for _ in range(limit):
        frame = ws.receive_json()
        if predicate(frame):
            return frame
    raise AssertionError("expected frame not received")


def customer_socket(env: Env, token: str) -> Any:
    ws = env.client.websocket_connect("/ws/chat")
    sock = ws.__enter__()
    sock.send_json({"type": "hello", "token": token, "lang": "pt"})
    until(sock, lambda f: f["type"] == "history")
    return ws, sock


def test_queue_moves_and_live_relay(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    ana = env.login("ana@lumo.test")
    cid1, token1 = env.conversation()
    cid2, token2 = env.conversation()
    h1 = env.escalate(cid1).json()["handoff_id"]
    second = env.escalate(cid2).json()
    assert second["position"] == 2
    ctx2, ws2 = customer_socket(env, token2)
    ctx1, ws1 = customer_socket(env, token1)
    try:
        with ana.websocket_connect("/ws/agent") as agent:
            assert agent.receive_json()["type"] == "hello"
            assert ana.post(f"/api/handoff/handoffs/{h1}/claim").status_code == 200
            # The customer who was second is now first, told in Portuguese with an estimate.
            notice = until(ws2, lambda f: f["type"] == "notice" and f.get("kind") == "queue")
            assert notice["position"] == 1 and notice["estimated_wait_minutes"] == 6
            assert notice["text"] == "Você é o 1º da fila de Atendimento. Espera estimada: 6 min."
            until(agent, lambda f: f["type"] == "queue_changed" and f["team"] == "atendimento")
            agent.send_json({"type": "watch", "handoff_id": h1})
            until(agent, lambda f: f["type"] == "watching")
            # Typing both ways.
            agent.send_json({"type": "typing", "handoff_id": h1, "on": True})
            assert until(ws1, lambda f: f["type"] == "typing")["role"] == "agent"
            ws1.send_json({"type": "typing", "on": True})
            typing = until(agent, lambda f: f["type"] == "typing" and f["role"] == "customer")
            assert typing["handoff_id"] == h1 and typing["on"] is True
            # Agent → customer: ack carries the stored seq; the customer receives the same message.
            agent.send_json({"type": "message", "handoff_id": h1, "text": "<b>Oi</b>, sou a Ana", "client_message_id": "x1"})
            ack = until(agent, lambda f: f["type"] == "ack")
            with env.app.state.db.session() as s:
                stored = s.scalars(select(ChatMessage).where(ChatMessage.conversation_id == cid1,
                                                             ChatMessage.seq == ack["seq"])).one()
                assert stored.role == "agent" and stored.author_name == "Ana"
            got = until(ws1, lambda f: f["type"] == "message" and f["message"]["role"] == "agent")
            assert got["message"]["text"] == "<b>Oi</b>, sou a Ana"
            # Customer → agent.
            ws1.send_json({"type": "message", "text": "oi ana, cade meu pedido?", "client_message_id": "c1"})
            assert until(ws1, lambda f: f["type"] in ("ack", "error"))["type"] == "ack"
            got = until(agent, lambda f: f["type"] == "message" and f["message"]["role"] == "customer")
            assert got["message"]["text"] == "oi ana, cade meu pedido?" and got["handoff_id"] == h1
            # Internal notes go to consoles, never to the customer's channel.
            ana.post(f"/api/handoff/handoffs/{h1}/notes", json={"text": "nota secreta"})
            assert until(agent, lambda f: f["type"] == "note")["note"]["text"] == "nota secreta"
            ws1.send_json({"type": "ping"})
            frames = []
            while True:
                frame = ws1.receive_json()
                if frame["type"] == "pong":
                    break
                frames.append(frame)
            assert "nota secreta" not in str(frames)
            # A bad frame is answered, the socket stays usable.
            agent.send_json({"type": "message", "handoff_id": h1, "text": ""})
            assert until(agent, lambda f: f["type"] == "error")["code"] == "bad_text"
            agent.send_json({"type": "ping"})
            until(agent, lambda f: f["type"] == "pong")
    finally:
        ctx1.__exit__(None, None, None)
        ctx2.__exit__(None, None, None)
