"""The handoff workflow through the real app: escalate, queue, claim, talk, notes, resolve, hand back, export."""

from __future__ import annotations

from sqlalchemy import select

from handoff.models import Handoff
from services.chat.models import Conversation
from services.conversations.models import ConversationEvent
from tests.handoff.conftest import Env


def status(env: Env, cid: str) -> str:
    with env.app.state.db.session() as s:
        return s.get(Conversation, cid).status


def test_escalation_queues_records_reason_and_transcript(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    cid, _ = env.conversation()
    r = env.escalate(cid, "customer_request", reason_detail="intent request_human (0.97)")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "queued" and body["team"] == "atendimento" and body["position"] == 1
    assert body["estimated_wait_minutes"] == 6
    assert "Atendimento" in body["bot_text"] and "1º da fila" in body["bot_text"]
    assert status(env, cid) == "queued"
    with env.app.state.db.session() as s:
        h = s.scalars(select(Handoff).where(Handoff.conversation_id == cid)).one()
        assert h.reason == "customer_request" and h.priority == 2
        messages = h.transcript["messages"]
        assert [m["role"] for m in messages] == ["customer", "bot", "customer", "bot", "customer"]
        assert messages[0]["intent"] == {"name": "order_status", "confidence": 0.93}
        assert messages[0]["entities"] == [{"entity": "order_number", "value": "20481234"}]
        assert messages[1]["kb"]["article_id"] == "rastrear-pedido"
        assert messages[2]["kb_feedback"] == {"article_id": "rastrear-pedido", "helped": False}
        assert h.transcript["slots"] == {"order_number": "20481234"}
    # The customer saw a stored queue notice.
    history = env.client.get("/api/chat/history", params={"token": _}).json()["messages"]
    assert history[-1]["role"] == "system" and history[-1]["payload"]["kind"] == "queue"
    # A second escalation of the same conversation does not create a second handoff.
    again = env.escalate(cid)
    assert again.status_code == 200 and again.json()["created"] is False


def test_routing_follows_the_conversation_topic_and_english_text(env: Env) -> None:
    env.agent("bia@lumo.test", "Bia", ["suporte"])
    cid, _ = env.conversation("en")
    events = [{"event": "user", "text": "my lumo watch wont pair", "timestamp": 1.0,
               "parse_data": {"intent": {"name": "device_pairing", "confidence": 0.9}}},
              {"event": "user", "text": "I want a human", "timestamp": 2.0,
               "parse_data": {"intent": {"name": "request_human", "confidence": 0.9}}}]
    body = env.escalate(cid, events=events, language="en").json()
    assert body["team"] == "suporte" and body["status"] == "queued"
    assert body["bot_text"].startswith("Sure! I'm passing you to a person from our Technical Support team")


def test_full_agent_cycle(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    ana = env.login("ana@lumo.test")
    cid, token = env.conversation()
    hid = env.escalate(cid).json()["handoff_id"]
    waiting = ana.get("/api/handoff/queue").json()["waiting"]
    assert [w["id"] for w in waiting] == [hid] and waiting[0]["reason"] == "customer_request"
    assert ana.post(f"/api/handoff/handoffs/{hid}/claim").status_code == 200
    assert status(env, cid) == "assigned"
    assert ana.post(f"/api/handoff/handoffs/{hid}/claim").status_code == 409
    r = ana.post(f"/api/handoff/handoffs/{hid}/messages", json={"text": "Oi, sou a Ana. Vou verificar."})
    assert r.status_code == 201
    # The customer writes: stored, not sent to Rasa (an agent has the chat).
    r = env.client.post("/api/chat/messages", json={"token": token, "text": "obrigado ana", "client_message_id": "m1"})
    assert r.status_code == 200 and len(r.json()["messages"]) == 1
    assert ana.post(f"/api/handoff/handoffs/{hid}/notes", json={"text": "cliente pediu 2a via"}).status_code == 201
    detail = ana.get(f"/api/handoff/handoffs/{hid}").json()
    roles = [(m["role"], m["text"]) for m in detail["messages"]]
    assert ("agent", "Oi, sou a Ana. Vou verificar.") in roles and ("customer", "obrigado ana") in roles
    assert detail["notes"][0]["text"] == "cliente pediu 2a via"
    assert ana.post(f"/api/handoff/handoffs/{hid}/resolve", json={"tag": "nao-existe"}).status_code == 422
    r = ana.post(f"/api/handoff/handoffs/{hid}/resolve", json={"tag": "resolvido", "note": "ok"})
    assert r.status_code == 200 and r.json()["handoff"]["status"] == "resolved"
    assert status(env, cid) == "resolved"
    history = env.client.get("/api/chat/history", params={"token": token}).json()["messages"]
    kinds = [m["payload"].get("kind") for m in history if m["role"] == "system"]
    assert kinds[-3:] == ["agent_joined", "resolved", "csat"] or "csat" in kinds
    # CSAT through the gateway's endpoint is stored with the conversation.
    assert env.client.post("/api/chat/csat", json={"token": token, "rating": 5, "comment": "otimo"}).status_code == 200
    with env.app.state.db.session() as s:
        assert s.get(Conversation, cid).csat_rating == 5
        kinds = [e.kind for e in s.scalars(select(ConversationEvent).where(ConversationEvent.handoff_id == hid)
                                           .order_by(ConversationEvent.id))]
    assert kinds == ["escalated", "queued", "agent_joined", "note", "resolved"]
    # After the resolution the conversation is the bot's again: not part of this handoff's transcript.
    env.client.post("/api/chat/messages", json={"token": token, "text": "valeu, tchau", "client_message_id": "m2"})
    text = ana.get(f"/api/handoff/handoffs/{hid}/transcript", params={"format": "text"}).text
    assert "valeu, tchau" not in text
    assert "Customer: quero falar com um atendente" in text and "Ana (agent): Oi, sou a Ana" in text
    assert "cliente pediu 2a via" in text and "Resolution: resolvido ok" in text
    record = ana.get(f"/api/handoff/handoffs/{hid}/transcript").json()
    assert record["handoff"]["resolution_tag"] == "resolvido" and record["bot_part"]["reason"] == "customer_request"


def test_transfer_to_other_team_and_hand_back(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    env.agent("bia@lumo.test", "Bia", ["suporte"])
    ana, bia = env.login("ana@lumo.test"), env.login("bia@lumo.test")
    cid, _ = env.conversation()
    hid = env.escalate(cid).json()["handoff_id"]
    assert bia.post(f"/api/handoff/handoffs/{hid}/claim").status_code == 403
    assert ana.post(f"/api/handoff/handoffs/{hid}/claim").status_code == 200
    r = ana.post(f"/api/handoff/handoffs/{hid}/transfer", json={"team": "suporte"})
    assert r.status_code == 200 and r.json()["handoff"]["team"] == "suporte"
    assert r.json()["handoff"]["status"] == "queued" and status(env, cid) == "queued"
    assert [w["id"] for w in bia.get("/api/handoff/queue").json()["waiting"]] == [hid]
    assert ana.get("/api/handoff/queue").json()["waiting"] == []
    assert bia.post(f"/api/handoff/handoffs/{hid}/claim").status_code == 200
    assert bia.post(f"/api/handoff/handoffs/{hid}/handback").status_code == 200
    assert status(env, cid) == "bot"
    with env.app.state.db.session() as s:
        assert s.get(Handoff, hid).status == "handed_back"


def test_conversation_from_another_rasa_channel_is_adopted_on_escalation(env: Env) -> None:
    """A chat that began on Rasa's REST API (not the widget) still reaches an agent, under its own id."""
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    r = env.escalate("rest-api-customer-42", "customer_request", language="en")
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "queued" and "queue" in r.json()["bot_text"].lower()
    assert status(env, "rest-api-customer-42") == "queued"
    assert env.escalate("x" * 65).status_code == 422


def test_transcript_is_read_from_the_event_log(env: Env) -> None:
    """A widget conversation's transcript comes from the gateway's event log, not from Rasa's tracker."""
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    ana = env.login("ana@lumo.test")
    cid, token = env.conversation()
    for i, text in enumerate(["oi, meu pedido 20481234 nao chegou", "quero falar com um atendente"]):
        env.client.post("/api/chat/messages", json={"token": token, "text": text, "client_message_id": f"t{i}"})
    current_turn = [{"event": "user", "text": "quero falar com um atendente", "timestamp": 1_790_000_000.0,
                     "parse_data": {"intent": {"name": "request_human", "confidence": 0.97}, "entities": []}}]
    hid = env.escalate(cid, events=current_turn).json()["handoff_id"]
    transcript = ana.get(f"/api/handoff/handoffs/{hid}").json()["transcript"]
    assert transcript["source"] == "log"
    customer = [m for m in transcript["messages"] if m["role"] == "customer"]
    assert [m["text"] for m in customer] == ["oi, meu pedido 20481234 nao chegou", "quero falar com um atendente"]
    assert customer[-1]["intent"] == {"name": "request_human", "confidence": 0.97}


def test_offline_ticket_becomes_a_queued_chat_when_an_agent_comes_online(env: Env) -> None:
    """Issue #11: agents sign in as offline; a chat escalated then became a ticket and stayed one, and the
    customer's next messages got no reply at all."""
    env.agent("ana@lumo.test", "Ana", ["atendimento"], online=False)
    ana = env.login("ana@lumo.test")
    cid, token = env.conversation()
    assert env.escalate(cid).json()["status"] == "offline"
    for i, text in enumerate(["quero falar com um atendente", "alguem ai?"]):
        env.client.post("/api/chat/messages", json={"token": token, "text": text, "client_message_id": f"o{i}"})
    history = env.client.get("/api/chat/history", params={"token": token}).json()["messages"]
    noted = [m for m in history if m["payload"].get("kind") == "ticket_noted"]
    assert len(noted) == 1 and "Atendimento" in noted[0]["text"]  # told once, not once per line
    assert ana.post("/api/handoff/me/status", json={"status": "online"}).status_code == 200
    with env.app.state.db.session() as s:
        assert s.scalars(select(Handoff).where(Handoff.conversation_id == cid)).one().status == "queued"
    history = env.client.get("/api/chat/history", params={"token": token}).json()["messages"]
    queue = [m for m in history if m["payload"].get("kind") == "queue"]
    assert queue and queue[-1]["payload"]["position"] == 1 and "1º da fila" in queue[-1]["text"]
    assert [w["conversation_id"] for w in ana.get("/api/handoff/queue").json()["waiting"]] == [cid]
