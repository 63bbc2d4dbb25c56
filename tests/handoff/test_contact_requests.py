"""Contact details left while the assistant was unavailable reach a team (issue #12): they used to be stored
in a table no console reads. Now the conversation is escalated like a request for a person — queued when the
team is open and someone is online, an offline ticket otherwise — and the agent sees the contact."""

from __future__ import annotations

import time

from tests.handoff.conftest import Env


def leave_contact(env: Env) -> str:
    cid, token = env.conversation()
    # Rasa is a closed port in these tests: the customer gets the "assistant unavailable" notice and form.
    sent = env.client.post("/api/chat/messages", json={"token": token, "text": "preciso trocar meu notebook",
                                                       "client_message_id": "m1"})
    assert sent.status_code == 200, sent.text
    left = env.client.post("/api/chat/contact", json={"token": token, "name": "Bia", "email": "bia@example.com",
                                                      "message": "me chamem amanha de manha pfv"})
    assert left.status_code == 200, left.text
    return cid


def waiting_for(env: Env, agent_email: str, cid: str, timeout: float = 10) -> dict:
    agent = env.login(agent_email)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = [w for w in agent.get("/api/handoff/queue").json()["waiting"] if w["conversation_id"] == cid]
        if waiting:
            return waiting[0]
        time.sleep(0.2)
    raise AssertionError("the contact request never reached the team's queue")


def test_contact_left_while_the_assistant_was_down_reaches_the_queue(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento", "suporte"])
    cid = leave_contact(env)
    waiting = waiting_for(env, "ana@lumo.test", cid)
    assert waiting["status"] == "queued" and waiting["reason"] == "customer_request"
    assert waiting["contact"]["email"] == "bia@example.com"


def test_contact_left_with_nobody_online_is_an_offline_ticket(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento", "suporte"], online=False)
    cid = leave_contact(env)
    assert waiting_for(env, "ana@lumo.test", cid)["status"] == "offline"


def test_contact_left_in_a_chat_already_with_a_team_opens_no_second_handoff(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento", "suporte"])
    cid, token = env.conversation()
    assert env.escalate(cid).status_code in (200, 201)
    assert env.client.post("/api/chat/contact", json={"token": token, "phone": "(11) 98765-4321"}).status_code == 200
    time.sleep(0.5)
    ana = env.login("ana@lumo.test")
    assert len([w for w in ana.get("/api/handoff/queue").json()["waiting"] if w["conversation_id"] == cid]) == 1
