"""The conversation lifecycle: one status, changed with its handoff row and its event in one transaction.

The failure-injection tests raise in the middle of a change — after the handoff row is written, before the
status is — and check that neither is stored: no half-escalated conversation (a handoff in a queue while the
gateway still sends the customer to the bot) can exist.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from handoff.models import Handoff
from handoff.service import EscalationRequest
from services.conversations import kinds
from services.conversations.idle import IdleCloser
from services.conversations.lifecycle import Tx
from services.conversations.models import Conversation, ConversationEvent
from services.conversations.status import TransitionRefused
from tests.handoff.conftest import OPEN_TIME, Env, tracker_events


def state(env: Env, cid: str) -> tuple[str, int, list[str]]:
    with env.app.state.db.session() as s:
        status = s.get(Conversation, cid).status
        handoffs = s.scalar(select(func.count()).select_from(Handoff).where(Handoff.conversation_id == cid))
        events = [e.kind for e in s.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == cid)
                                            .order_by(ConversationEvent.id))]
    return status, int(handoffs or 0), events


def test_failure_between_handoff_write_and_status_write_leaves_neither(env: Env,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    cid, _ = env.conversation()
    real = Tx.set_status

    def crash(self: Tx, *args, **kwargs):  # type: ignore[no-untyped-def]
        assert self.session.scalars(select(Handoff).where(Handoff.conversation_id == cid)).first() is not None
        raise RuntimeError("injected crash between the handoff row and the status")

    monkeypatch.setattr(Tx, "set_status", crash)
    with pytest.raises(RuntimeError, match="injected crash"):
        env.client.portal.call(env.svc.escalate, _request(cid))
    assert state(env, cid) == ("bot", 0, [kinds.OPENED])
    monkeypatch.setattr(Tx, "set_status", real)
    assert env.escalate(cid).status_code == 201
    assert state(env, cid) == ("queued", 1, [kinds.OPENED, kinds.ESCALATED, kinds.QUEUED])


def test_failure_in_a_transaction_listener_rolls_the_claim_back(env: Env) -> None:
    """The webhook outbox runs in the transaction: when it fails, the claim and the status stay as they were."""
    agent = env.agent("ana@lumo.test", "Ana", ["atendimento"])
    cid, _ = env.conversation()
    hid = env.escalate(cid).json()["handoff_id"]

    def broken_outbox(session, event) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("outbox down")

    env.app.state.conversations.bus.on_transaction(kinds.AGENT_JOINED, broken_outbox)
    with pytest.raises(RuntimeError, match="outbox down"):
        env.svc.claim_row(hid, agent)
    with env.app.state.db.session() as s:
        assert s.get(Handoff, hid).status == "queued" and s.get(Handoff, hid).agent_id is None
    assert state(env, cid)[0] == "queued" and kinds.AGENT_JOINED not in state(env, cid)[2]


def test_only_allowed_transitions_and_races_are_refused(env: Env) -> None:
    cid, _ = env.conversation()
    conversations = env.app.state.conversations
    with pytest.raises(TransitionRefused):  # nobody can hold a chat that was never queued
        conversations.run_sync(lambda tx: tx.set_status(cid, "assigned", kinds.AGENT_JOINED, "agent"))
    with pytest.raises(TransitionRefused):  # a decision taken on a stale status loses
        conversations.run_sync(lambda tx: tx.set_status(cid, "queued", kinds.ESCALATED, "bot", expect="assigned"))
    with pytest.raises(ValueError):  # only status kinds change the status
        conversations.run_sync(lambda tx: tx.set_status(cid, "queued", kinds.NOTE, "agent"))
    assert state(env, cid)[0] == "bot"


def test_events_are_append_only(env: Env) -> None:
    cid, _ = env.conversation()
    with pytest.raises(RuntimeError, match="append-only"), env.app.state.db.session() as s:
        event = s.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == cid)).first()
        event.data = {"rewritten": True}
        s.flush()


def test_the_whole_handoff_is_in_the_log_in_order(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    ana = env.login("ana@lumo.test")
    cid, token = env.conversation()
    hid = env.escalate(cid).json()["handoff_id"]
    env.client.post("/api/chat/messages", json={"token": token, "text": "ainda ai?", "client_message_id": "w1"})
    assert ana.post(f"/api/handoff/handoffs/{hid}/claim").status_code == 200
    assert ana.post(f"/api/handoff/handoffs/{hid}/messages", json={"text": "Oi! Sou a Ana."}).status_code == 201
    assert ana.post(f"/api/handoff/handoffs/{hid}/notes", json={"text": "2a via"}).status_code == 201
    assert ana.post(f"/api/handoff/handoffs/{hid}/resolve", json={"tag": "resolvido"}).status_code == 200
    assert env.client.post("/api/chat/csat", json={"token": token, "rating": 4}).status_code == 200
    history = env.app.state.conversations.history(cid)
    assert [e["kind"] for e in history] == [kinds.OPENED, kinds.ESCALATED, kinds.QUEUED, kinds.CUSTOMER_MESSAGE,
                                            kinds.AGENT_JOINED, kinds.AGENT_MESSAGE, kinds.NOTE, kinds.RESOLVED,
                                            kinds.CSAT_REQUESTED, kinds.CSAT,
                                            kinds.NPS_REQUESTED]  # a calm moment after the CSAT answer
    statuses = [e["status"] for e in history]
    assert statuses == ["bot", "queued", "queued", "queued", "assigned", "assigned", "assigned", "resolved",
                        "resolved", "resolved", "resolved"]
    by_kind = {e["kind"]: e for e in history}
    assert by_kind[kinds.ESCALATED]["data"]["reason"] == "customer_request"
    assert by_kind[kinds.AGENT_JOINED]["actor"] == "agent" and by_kind[kinds.AGENT_JOINED]["team"] == "atendimento"
    assert by_kind[kinds.RESOLVED]["data"]["tag"] == "resolvido" and by_kind[kinds.CSAT]["data"]["rating"] == 4


def _request(cid: str) -> EscalationRequest:
    return EscalationRequest(conversation_id=cid, reason="customer_request", events=tracker_events())


def test_idle_conversations_close_and_people_s_chats_do_not(env: Env) -> None:
    """After close_idle_after_hours without activity a bot (or resolved) conversation is closed; a chat waiting
    for a person is not; a second closer (another process) closes nothing twice."""
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    idle_cid, token = env.conversation()
    waiting_cid, _ = env.conversation()
    env.escalate(waiting_cid)
    conversations = env.app.state.conversations
    closer = IdleCloser(conversations, timedelta(hours=24))
    assert env.client.portal.call(closer.run_once) == 0  # nothing is idle yet
    conversations.clock = lambda: OPEN_TIME + timedelta(days=30)
    assert env.client.portal.call(closer.run_once) == 1
    assert env.client.portal.call(IdleCloser(conversations, timedelta(hours=24)).run_once) == 0
    assert state(env, idle_cid)[0] == "closed" and state(env, waiting_cid)[0] == "queued"
    closed = [e for e in conversations.history(idle_cid) if e["kind"] == kinds.CLOSED]
    assert closed[0]["actor"] == "system" and closed[0]["data"]["why"] == "idle"
    # The widget's next visit starts a new conversation; a message through another channel reopens it.
    session = env.client.post("/api/chat/session", json={"token": token, "lang": "pt"}).json()
    assert session["conversation"]["id"] != idle_cid
