"""The action server's side of escalation: thin adapters that report the turn to the real services app.

The decision itself is tested in the services environment (tests/handoff/test_decision.py). Here the actions
run with real rasa-sdk Tracker objects against the services app started as a process: the customer is told
what happens next in their language, an angry customer asking about a topic gets no canned answer first, and a
services app that is down gets a calm reply.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.escalation import ActionRequestHuman
from bot.actions.knowledge import ActionAnswerTopic

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES_PY = REPO_ROOT / ".venv" / "services" / "bin" / "python"


def user(text: str, intent: str, confidence: float = 0.9) -> dict:
    return {"event": "user", "text": text, "timestamp": time.time(),
            "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": []}}


def bot(text: str) -> dict:
    return {"event": "bot", "text": text, "timestamp": time.time(), "data": {}}


def tracker(events: list[dict], language: str = "pt", sender: str = "conv-test") -> Tracker:
    latest = next((e for e in reversed(events) if e["event"] == "user"), {})
    return Tracker.from_dict({
        "sender_id": sender, "slots": {"language": language}, "events": events, "paused": False,
        "latest_message": {"text": latest.get("text"), **(latest.get("parse_data") or {})},
        "latest_action_name": "action_listen", "active_loop": {}, "followup_action": None})


# -- the action against the real services app ------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory):
    if not SERVICES_PY.exists():
        pytest.skip("the services environment is not built (.venv/services)")
    tmp = tmp_path_factory.mktemp("svc")
    port = _free_port()
    token = uuid.uuid4().hex
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "DATABASE_URL": f"sqlite:///{tmp}/svc.db",
           "INTERNAL_TOKEN": token, "DATA_DIR": str(tmp), "RASA_URL": f"http://127.0.0.1:{_free_port()}",
           "REDIS_URL": "", "APP_ENV": "embedded"}
    subprocess.run([str(SERVICES_PY), "-m", "handoff.users", "--database-url", env["DATABASE_URL"], "create",
                    "--email", "ana@lumo.test", "--name", "Ana", "--team", "atendimento", "--password-stdin"],
                   input="senha-segura-1\n", text=True, check=True, cwd=REPO_ROOT, env=env, capture_output=True)
    log = open(tmp / "app.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([str(SERVICES_PY), "-m", "services", "--port", str(port), "--log-level", "warning"],
                            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{url}/api/health", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("services app did not start")
    yield url, token, env
    proc.terminate()
    proc.wait(15)
    log.close()


@pytest.mark.slow
@pytest.mark.parametrize("language, expected", [("pt", "Nosso time de Atendimento atende de segunda a sábado"),
                                                ("en", "Our Customer Service team works Monday to Saturday")])
def test_action_request_human_with_the_real_services_app(services, monkeypatch, language, expected) -> None:
    url, token, _ = services
    monkeypatch.setenv("SERVICES_URL", url)
    monkeypatch.setenv("INTERNAL_TOKEN", token)
    cid = requests.post(f"{url}/api/chat/session", json={"lang": language}, timeout=5).json()["conversation"]["id"]
    events = [user("cade meu pedido", "order_status"), bot("..."), user("quero um atendente", "request_human")]
    dispatcher = CollectingDispatcher()
    result = ActionRequestHuman().run(dispatcher, tracker(events, language, sender=cid), {})
    assert result == [ConversationPaused()]
    text = dispatcher.messages[0]["text"]
    # Nobody is online in this test (or it is outside hours): the customer is told how to leave contact details.
    assert text.startswith("Claro!" if language == "pt" else "Sure!")
    assert ("e-mail ou telefone" if language == "pt" else "e-mail or phone") in text
    assert expected in text or "disponível" in text or "available" in text


@pytest.mark.slow
def test_angry_topic_question_goes_to_a_person_without_the_canned_answer(services, monkeypatch) -> None:
    url, token, _ = services
    monkeypatch.setenv("SERVICES_URL", url)
    monkeypatch.setenv("INTERNAL_TOKEN", token)
    domain = {"responses": {"utter_answer_delivery_problem": [{"text": "canned"}]}}
    cid = requests.post(f"{url}/api/chat/session", json={"lang": "pt"}, timeout=5).json()["conversation"]["id"]
    dispatcher = CollectingDispatcher()
    events = [user("que absurdo, ja falei 3 vezes que meu pedido veio errado", "delivery_problem")]
    result = ActionAnswerTopic().run(dispatcher, tracker(events, "pt", sender=cid), domain)
    assert result == [ConversationPaused()]
    assert [m.get("response") for m in dispatcher.messages] == [None]  # the handoff text only, no canned answer
    # A calm question about the same topic is answered by the bot.
    cid2 = requests.post(f"{url}/api/chat/session", json={"lang": "pt"}, timeout=5).json()["conversation"]["id"]
    dispatcher = CollectingDispatcher()
    events = [user("meu pedido veio com um item errado", "delivery_problem")]
    result = ActionAnswerTopic().run(dispatcher, tracker(events, "pt", sender=cid2), domain)
    assert result == [] and dispatcher.messages[0]["response"] == "utter_answer_delivery_problem"


@pytest.mark.slow
def test_a_complaint_the_policy_keeps_with_the_bot_gets_a_calm_reply(services, monkeypatch) -> None:
    url, token, _ = services
    monkeypatch.setenv("SERVICES_URL", url)
    monkeypatch.setenv("INTERNAL_TOKEN", token)
    cid = requests.post(f"{url}/api/chat/session", json={"lang": "en"}, timeout=5).json()["conversation"]["id"]
    dispatcher = CollectingDispatcher()
    # A "complaint" with no frustration words can still be the complain intent; the shipped policy escalates it.
    result = ActionRequestHuman().run(dispatcher, tracker([user("not happy", "complain")], "en", sender=cid), {})
    assert result == [ConversationPaused()]
    # "ok" after a plain bot message is no request: the service answers that the bot keeps the chat.
    dispatcher = CollectingDispatcher()
    cid2 = requests.post(f"{url}/api/chat/session", json={"lang": "en"}, timeout=5).json()["conversation"]["id"]
    result = ActionRequestHuman().run(dispatcher, tracker([bot("hi"), user("ok", "deny")], "en", sender=cid2), {})
    assert result == [] and dispatcher.messages[0]["response"] == "utter_handoff_not_needed"


def test_action_tells_the_customer_when_services_are_down(monkeypatch) -> None:
    monkeypatch.setenv("SERVICES_URL", f"http://127.0.0.1:{_free_port()}")
    dispatcher = CollectingDispatcher()
    events = [user("ja falei 3 vezes, quero um humano", "request_human")]
    result = ActionRequestHuman().run(dispatcher, tracker(events, "pt"), {})
    assert result == []
    assert dispatcher.messages[0]["response"] == "utter_handoff_unavailable"
    assert sys.version_info[:2] == (3, 10)
