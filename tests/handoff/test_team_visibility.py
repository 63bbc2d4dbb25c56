"""Two real consoles of different teams: each receives only the events of its team's conversations.

Before the event log, the chat gateway published customers' messages, CSAT comments and contact details on the
agents' channel without a team, and every console received them. Now every such event carries the team of the
conversation and /ws/agent delivers it only to that team's agents and to leads.
"""

from __future__ import annotations

from typing import Any

from tests.handoff.conftest import Env, tracker_events
from tests.handoff.test_ws import until


def next_agents_event(ws: Any, skip: tuple[str, ...] = ("pong",)) -> dict:
    """The next frame from the agents' channel (frames of watched conversations carry a handoff_id too)."""
    while True:
        frame = ws.receive_json()
        if frame["type"] not in skip:
            return frame


def test_customer_text_csat_and_contact_reach_only_their_team(env: Env) -> None:
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    env.agent("bia@lumo.test", "Bia", ["suporte"])
    env.agent("lia@lumo.test", "Lia", [], role="lead")
    ana, bia, lia = env.login("ana@lumo.test"), env.login("bia@lumo.test"), env.login("lia@lumo.test")
    cid, token = env.conversation()
    assert env.escalate(cid, category="service").json()["team"] == "atendimento"
    with ana.websocket_connect("/ws/agent") as a, bia.websocket_connect("/ws/agent") as b, \
            lia.websocket_connect("/ws/agent") as lead:
        for ws in (a, b, lead):
            assert ws.receive_json()["type"] == "hello"
        secret = "meu cpf e 123.456.789-09"
        r = env.client.post("/api/chat/messages", json={"token": token, "text": secret, "client_message_id": "c1"})
        assert r.status_code == 200
        got = until(a, lambda f: f["type"] == "customer_message")
        assert got["team"] == "atendimento" and got["message"]["text"] == secret
        assert until(lead, lambda f: f["type"] == "customer_message")["message"]["text"] == secret
        assert env.client.post("/api/chat/contact", json={"token": token, "name": "Rui", "email": "rui@x.example",
                                                          "message": "me liga"}).status_code == 200
        assert until(a, lambda f: f["type"] == "contact_request")["team"] == "atendimento"
        # A sentinel for Bia: a support conversation's queue change. Nothing of Ana's team may come before it.
        other, _ = env.conversation()
        assert env.escalate(other, events=tracker_events("device_pairing")).json()["team"] == "suporte"
        frames = []
        while True:
            frame = next_agents_event(b)
            frames.append(frame)
            if frame["type"] == "queue_changed" and frame["team"] == "suporte":
                break
        assert all(f.get("team") == "suporte" for f in frames), frames
        assert secret not in str(frames) and "rui@x.example" not in str(frames)
