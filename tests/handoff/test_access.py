"""Agent access (issue #12 part 3), through the real app: watching a chat ends with access, absent agents' chats
go back to the queue, sign-in throttling that cannot lock the real user out, same-origin POSTs, security
headers and the audit log."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from handoff.feature import sweep
from handoff.models import Agent, AuditEntry, Handoff, LoginFailure
from handoff.policy import PolicyError, load_policy
from services.conversations.models import Conversation, ConversationEvent
from tests.handoff.conftest import OPEN_TIME, PASSWORD, Env, write_policy
from tests.handoff.test_ws import customer_socket, until


def frames_until_pong(ws: Any, limit: int = 50) -> list[dict]:
    """Every frame the console receives up to the answer to a ping (bounded: never hangs on silence)."""
    ws.send_json({"type": "ping"})
    seen = []
    for _ in range(limit):
        frame = ws.receive_json()
        if frame["type"] == "pong":
            return seen
        seen.append(frame)
    raise AssertionError("no pong")


def collect(ws: Any, predicate: Callable[[dict], bool], rounds: int = 10) -> list[dict]:
    """Frames up to one that matches, reading in ping-bounded rounds so a missing frame fails instead of hanging."""
    seen: list[dict] = []
    for _ in range(rounds):
        seen += frames_until_pong(ws)
        if any(predicate(f) for f in seen):
            return seen
        time.sleep(0.2)
    raise AssertionError(f"expected frame not received; got {seen}")


# -- watching ends with access ------------------------------------------------------------------------------
def test_transfer_to_another_team_stops_the_previous_agents_socket(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    env.agent("caio@lumo.test", "Caio", ["suporte"])
    ana = env.login("ana@lumo.test")
    cid, token = env.conversation()
    hid = env.escalate(cid).json()["handoff_id"]
    assert ana.post(f"/api/handoff/handoffs/{hid}/claim").status_code == 200
    ctx, customer = customer_socket(env, token)
    try:
        with ana.websocket_connect("/ws/agent") as agent:
            until(agent, lambda f: f["type"] == "hello")
            agent.send_json({"type": "watch", "handoff_id": hid})
            until(agent, lambda f: f["type"] == "watching")
            customer.send_json({"type": "message", "text": "antes da transferencia", "client_message_id": "c1"})
            until(agent, lambda f: f["type"] == "message" and f["message"]["text"] == "antes da transferencia")
            assert ana.post(f"/api/handoff/handoffs/{hid}/transfer", json={"team": "suporte"}).status_code == 200
            customer.send_json({"type": "message", "text": "meu CPF 529.982.247-25", "client_message_id": "c2"})
            until(customer, lambda f: f["type"] == "ack")
            later = collect(agent, lambda f: f["type"] == "unwatched" and f["handoff_id"] == hid)
            time.sleep(0.3)
            later += frames_until_pong(agent)  # anything still in flight
            assert not [f for f in later if "529.982.247-25" in str(f)], later
            # Watching it again is refused: the chat is another team's now.
            agent.send_json({"type": "watch", "handoff_id": hid})
            assert until(agent, lambda f: f["type"] == "error")["code"] == "refused"
    finally:
        ctx.__exit__(None, None, None)


# -- an absent agent's chat goes back to the queue ---------------------------------------------------------
def test_chat_of_an_agent_gone_for_too_long_is_requeued_and_the_customer_told(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    env.agent("bia@lumo.test", "Bia", ["atendimento"])
    ana = env.login("ana@lumo.test")
    cid, token = env.conversation()
    hid = env.escalate(cid).json()["handoff_id"]
    assert ana.post(f"/api/handoff/handoffs/{hid}/claim").status_code == 200
    gone = float(env.svc.policy.section("agents")["requeue_after_seconds"])
    # Not yet: Ana's console was seen within the limit.
    env.svc.clock = lambda: OPEN_TIME + timedelta(seconds=gone - 5)
    assert env.client.portal.call(sweep, env.svc, gone) == 0
    later = OPEN_TIME + timedelta(seconds=gone + 30)
    env.svc.clock = lambda: later
    with env.app.state.db.session() as s:  # Bia's console still pings; Ana's browser closed
        bia = s.scalars(select(Agent).where(Agent.email == "bia@lumo.test")).one()
        bia.last_seen_at = later
    ctx, customer = customer_socket(env, token)
    try:
        assert env.client.portal.call(sweep, env.svc, gone) == 1
        left = until(customer, lambda f: f["type"] == "notice" and f.get("kind") == "agent_left")
        assert left["text"].startswith("Ana precisou sair da conversa. Você voltou para a fila do time de Atendimento")
        assert left["requeued"] is True
        queue = until(customer, lambda f: f["type"] == "notice" and f.get("kind") == "queue")
        assert "1º da fila de Atendimento" in queue["text"]
    finally:
        ctx.__exit__(None, None, None)
    with env.app.state.db.session() as s:
        h = s.get(Handoff, hid)
        assert h is not None and h.status == "queued" and h.agent_id is None
        assert s.get(Conversation, cid).status == "queued"
        kinds = [e.kind for e in s.scalars(select(ConversationEvent).where(ConversationEvent.handoff_id == hid)
                                           .order_by(ConversationEvent.id))]
        assert kinds[-2:] == ["requeued", "queued"]
    # Another sweep does nothing; Bia can take it.
    assert env.client.portal.call(sweep, env.svc, gone) == 0
    bia_client = env.login("bia@lumo.test")
    assert bia_client.post(f"/api/handoff/handoffs/{hid}/claim").status_code == 200


def test_requeue_delay_is_validated_by_the_policy_schema(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="requeue_after_seconds"):
        load_policy(write_policy(tmp_path, **{"agents.requeue_after_seconds": 1}))
    with pytest.raises(PolicyError, match="session_recheck_seconds"):
        load_policy(write_policy(tmp_path, **{"agents.session_recheck_seconds": "often"}))
    assert load_policy(write_policy(tmp_path, **{"agents.requeue_after_seconds": 300})) is not None


# -- sign-in throttling ------------------------------------------------------------------------------------
def _client(env: Env, address: str) -> TestClient:
    c = TestClient(env.app, client=(address, 50000))
    c.portal = env.client.portal
    return c


def _login(c: TestClient, email: str, password: str) -> int:
    return c.post("/api/handoff/auth/login", json={"email": email, "password": password}).status_code


def test_guessing_from_one_address_cannot_lock_the_real_agent_out(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    attacker, ana = _client(env, "203.0.113.9"), _client(env, "198.51.100.7")
    for _ in range(5):
        assert _login(attacker, "ana@lumo.test", "chute-errado") == 401
    assert _login(attacker, "ana@lumo.test", PASSWORD) == 429  # locked for the guesser, even with the password
    assert _login(ana, "ana@lumo.test", PASSWORD) == 200  # not for Ana at her own computer
    with env.app.state.db.session() as s:  # no e-mail or address in clear
        keys = [(f.account_key, f.client_key) for f in s.scalars(select(LoginFailure))]
    assert keys and not any("ana" in a or "203.0" in c for a, c in keys)


def test_guessing_across_accounts_from_one_address_is_throttled(make_env: Callable[..., Env]) -> None:
    env = make_env(**{"agents.max_failed_logins_per_address": 6})
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    attacker = _client(env, "203.0.113.9")
    for n in range(6):  # one try per e-mail never reaches the per-account limit
        assert _login(attacker, f"pessoa{n}@lumo.test", "Senha123!") == 401
    assert _login(attacker, "ana@lumo.test", PASSWORD) == 429
    assert _login(_client(env, "198.51.100.7"), "ana@lumo.test", PASSWORD) == 200


def test_failed_sign_ins_are_shared_by_every_process(make_env: Callable[..., Env], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    first, second = make_env(url), make_env(url)
    first.agent("ana@lumo.test", "Ana", ["atendimento"])
    for n in range(5):
        env = first if n % 2 else second
        assert _login(_client(env, "203.0.113.9"), "ana@lumo.test", "chute-errado") == 401
    assert _login(_client(first, "203.0.113.9"), "ana@lumo.test", PASSWORD) == 429
    assert _login(_client(second, "203.0.113.9"), "ana@lumo.test", PASSWORD) == 429


# -- same-origin POSTs and security headers ----------------------------------------------------------------
def test_cookie_authenticated_posts_must_come_from_this_site(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    ana = env.login("ana@lumo.test")
    cid, _ = env.conversation()
    hid = env.escalate(cid).json()["handoff_id"]
    claim = f"/api/handoff/handoffs/{hid}/claim"
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "http://testserver:8080"}, {"Origin": "null"},
                    {"Referer": "https://lumo.example.evil.example/x"}, {"Sec-Fetch-Site": "cross-site"}):
        r = ana.post(claim, headers=headers)
        assert r.status_code == 403 and "own site" in r.json()["detail"], headers
        assert ana.post("/api/handoff/me/status", json={"status": "away"}, headers=headers).status_code == 403
    assert _login(_client(env, "198.51.100.7"), "ana@lumo.test", PASSWORD) == 200
    r = ana.post("/api/handoff/auth/login", json={"email": "ana@lumo.test", "password": PASSWORD},
                 headers={"Origin": "http://evil.example"})
    assert r.status_code == 403  # no login CSRF either
    assert ana.post(claim, headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert ana.post(f"/api/handoff/handoffs/{hid}/notes", json={"text": "ok"},
                    headers={"Referer": "http://testserver/console"}).status_code == 201


def test_security_headers_on_every_console_page_and_api(env: Env) -> None:
    for path in ("/console", "/console/static/index.html", "/console/static/console.js", "/api/handoff/me",
                 "/console/static/missing.js"):
        r = env.client.get(path)
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert r.headers.get("x-content-type-options") == "nosniff", path
        assert r.headers.get("referrer-policy") == "no-referrer", path


# -- audit log ---------------------------------------------------------------------------------------------
def test_audit_log_of_sign_in_views_exports_and_sign_out(env: Env) -> None:
    ana_row = env.agent("ana@lumo.test", "Ana", ["atendimento"])
    env.agent("lia@lumo.test", "Lia", ["atendimento", "suporte"], role="lead")
    assert _login(_client(env, "203.0.113.9"), "ana@lumo.test", "chute-errado") == 401
    ana = env.login("ana@lumo.test")
    cid, _ = env.conversation()
    hid = env.escalate(cid).json()["handoff_id"]
    assert ana.get(f"/api/handoff/handoffs/{hid}").status_code == 200
    assert ana.get(f"/api/handoff/handoffs/{hid}/transcript?format=text").status_code == 200
    assert ana.post(f"/api/handoff/handoffs/{hid}/claim").status_code == 200
    assert ana.post(f"/api/handoff/handoffs/{hid}/resolve", json={"tag": "resolvido"}).status_code == 200
    assert ana.post("/api/handoff/auth/logout").status_code == 200
    with env.app.state.db.session() as s:
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        trail = [(r.action, r.agent_id, r.handoff_id) for r in rows]
        assert all("ana@" not in str(r.data) for r in rows)
    assert trail == [("sign_in_failed", ana_row.id, None), ("sign_in", ana_row.id, None),
                     ("transcript_view", ana_row.id, hid), ("export", ana_row.id, hid),
                     ("sign_out", ana_row.id, None)]
    assert ana.get("/api/handoff/audit").status_code == 401
    assert env.login("ana@lumo.test").get("/api/handoff/audit").status_code == 403
    lead = env.login("lia@lumo.test")
    body = lead.get(f"/api/handoff/audit?handoff_id={hid}").json()
    assert [e["action"] for e in body["entries"]] == ["export", "transcript_view"]
    assert [(e["action"], e["agent_id"]) for e in body["conversation_actions"]] == [
        ("resolved", ana_row.id), ("agent_joined", ana_row.id)]
    assert body["conversation_actions"][0]["data"] == {"tag": "resolvido"}
    mine = lead.get(f"/api/handoff/audit?agent_id={ana_row.id}").json()
    assert {"sign_in_failed", "sign_in", "sign_out"} <= {e["action"] for e in mine["entries"]}
    assert lead.get("/api/handoff/audit?handoff_id=99999999999999999999").status_code == 422
