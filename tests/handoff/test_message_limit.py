"""One message-length limit (services/chat/chat.yml max_message_chars) for agents' messages too."""

from __future__ import annotations

from tests.handoff.conftest import Env


def test_agent_console_gets_the_limit_and_longer_messages_are_refused(env: Env) -> None:
    limit = env.client.app.state.chat_config.max_message_chars
    env.agent("ana@lumo.test", "Ana", ["atendimento"])
    ana = env.login("ana@lumo.test")
    cid, _ = env.conversation()
    hid = env.escalate(cid).json()["handoff_id"]
    assert ana.post(f"/api/handoff/handoffs/{hid}/claim").status_code == 200
    with ana.websocket_connect("/ws/agent") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello" and hello["limits"] == {"max_message_chars": limit}
        ws.send_json({"type": "message", "handoff_id": hid, "text": "x" * (limit + 1), "client_message_id": "c1"})
        frame = ws.receive_json()
        while frame["type"] != "error":
            frame = ws.receive_json()
        assert frame["code"] == "bad_text" and str(limit) in frame["message"]
