"""Who may do what: unauthenticated calls, other teams' chats, other customers' conversations, bad input."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.handoff.conftest import Env


def test_unauthenticated_calls_are_rejected(env: Env) -> None:
    c = env.client
    cid, _ = env.conversation()
    assert c.post("/api/handoff/escalations", json={"conversation_id": cid, "reason": "customer_request"}).status_code == 401
    assert c.post("/api/handoff/escalations", json={"conversation_id": cid, "reason": "customer_request"},
                  headers={"X-Internal-Token": "wrong"}).status_code == 401
    for method, path in [("get", "/api/handoff/me"), ("get", "/api/handoff/queue"), ("get", "/api/handoff/agents"),
                         ("get", "/api/handoff/handoffs/1"), ("get", "/api/handoff/handoffs/1/transcript"),
                         ("post", "/api/handoff/handoffs/1/claim"), ("post", "/api/handoff/handoffs/1/handback")]:
        assert getattr(c, method)(path).status_code == 401, path
    c.cookies.set("lumo_agent", "forged-token")
    assert c.get("/api/handoff/queue").status_code == 401
    c.cookies.clear()
    with pytest.raises(WebSocketDisconnect) as closed, c.websocket_connect("/ws/agent") as ws:
        ws.receive_json()
    assert closed.value.code == 4401


def test_wrong_password_and_lockout(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    for _ in range(5):
        assert env.client.post("/api/handoff/auth/login",
                               json={"email": "ana@lumo.test", "password": "errada123"}).status_code == 401
    assert env.client.post("/api/handoff/auth/login",
                           json={"email": "ana@lumo.test", "password": "s3nha-segura-123"}).status_code == 429
    assert env.client.post("/api/handoff/auth/login",
                           json={"email": "ninguem@lumo.test", "password": "x"}).status_code == 401


def test_session_cookie_is_httponly_and_logout_ends_it(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    r = env.client.post("/api/handoff/auth/login", json={"email": "ana@lumo.test", "password": "s3nha-segura-123"})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=43200" in cookie
    assert env.client.get("/api/handoff/me").status_code == 200
    env.client.post("/api/handoff/auth/logout")
    assert env.client.get("/api/handoff/me").status_code == 401


def test_agent_cannot_open_another_teams_chat_but_a_lead_can(env: Env) -> None:
    env.agent("bia@lumo.test", "Bia", ["suporte"])
    env.agent("lia@lumo.test", "Lia", [], role="lead")
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    bia, lia = env.login("bia@lumo.test"), env.login("lia@lumo.test")
    cid, _ = env.conversation()
    hid = env.escalate(cid).json()["handoff_id"]  # order_status → atendimento
    assert bia.get(f"/api/handoff/handoffs/{hid}").status_code == 403
    assert bia.get(f"/api/handoff/handoffs/{hid}/transcript").status_code == 403
    assert bia.post(f"/api/handoff/handoffs/{hid}/notes", json={"text": "x"}).status_code == 403
    assert bia.get("/api/handoff/queue").json()["waiting"] == []
    assert bia.get("/api/handoff/queue", params={"team": "atendimento"}).status_code == 403
    assert lia.get(f"/api/handoff/handoffs/{hid}").status_code == 200
    assert [w["id"] for w in lia.get("/api/handoff/queue").json()["waiting"]] == [hid]
    with bia.websocket_connect("/ws/agent") as ws:
        assert ws.receive_json()["type"] == "hello"
        ws.send_json({"type": "watch", "handoff_id": hid})
        frame = ws.receive_json()
        assert frame["type"] == "error" and "another team" in frame["message"]
        ws.send_text("not json")
        assert ws.receive_json()["code"] == "bad_frame"
        ws.send_json({"type": "message", "handoff_id": hid, "text": "oi"})
        assert ws.receive_json()["type"] == "error"


def test_agent_cannot_write_in_a_chat_held_by_someone_else(env: Env) -> None:
    env.agent("a@lumo.test", "A", ["atendimento"])
    env.agent("b@lumo.test", "B", ["atendimento"])
    a, b = env.login("a@lumo.test"), env.login("b@lumo.test")
    cid, _ = env.conversation()
    hid = env.escalate(cid).json()["handoff_id"]
    assert a.post(f"/api/handoff/handoffs/{hid}/claim").status_code == 200
    assert b.post(f"/api/handoff/handoffs/{hid}/messages", json={"text": "oi"}).status_code == 403
    assert b.post(f"/api/handoff/handoffs/{hid}/resolve", json={"tag": "resolvido"}).status_code == 403


def test_customer_cannot_read_another_customers_conversation(env: Env) -> None:
    cid1, token1 = env.conversation()
    cid2, token2 = env.conversation()
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    env.escalate(cid1)
    assert env.client.get("/api/handoff/conversation/status", params={"token": token1}).json()["status"] == "queued"
    assert env.client.get("/api/handoff/conversation/status", params={"token": token2}).json()["status"] is None
    assert env.client.get("/api/handoff/conversation/status", params={"token": cid1}).status_code == 401
    assert env.client.get("/api/handoff/conversation/status").status_code == 401
    # A customer's token does not open the agent API either.
    assert env.client.get("/api/handoff/queue", headers={"Authorization": f"Bearer {token1}"}).status_code == 401


def test_bad_escalation_input(env: Env) -> None:
    cid, _ = env.conversation()
    # Unknown ids are adopted (conversations from other Rasa channels, see test_flow); over-long ones are not.
    assert env.escalate("n" * 65).status_code == 422
    assert env.escalate(cid, reason="porque sim").status_code == 422
    assert env.client.post("/api/handoff/escalations", content=b"{not json",
                           headers={"X-Internal-Token": "handoff-test-internal-token",
                                    "Content-Type": "application/json"}).status_code == 422
    assert env.escalate(cid, events=[{"event": "user", "text": "\x00\x01 binario", "parse_data": "garbage"}]
                        ).status_code in (200, 201)
