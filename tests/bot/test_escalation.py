"""Escalation decisions with real rasa-sdk Tracker objects: every trigger, in Portuguese and English.

The last tests run ``action_request_human`` against the real services app (started as a process from the
services environment), checking the customer is told what happens next in their language.
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
from rasa_sdk.events import ConversationPaused, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.escalation import (
    ActionRequestHuman,
    decide_escalation,
    escalation_followup,
    should_escalate_after_fallback,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES_PY = REPO_ROOT / ".venv" / "services" / "bin" / "python"


def user(text: str, intent: str, confidence: float = 0.9) -> dict:
    return {"event": "user", "text": text, "timestamp": time.time(),
            "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": []}}


def bot(text: str, kb: dict | None = None) -> dict:
    return {"event": "bot", "text": text, "timestamp": time.time(), "data": {"custom": {"kb": kb}} if kb else {}}


def tracker(events: list[dict], language: str = "pt", sender: str = "conv-test") -> Tracker:
    latest = next((e for e in reversed(events) if e["event"] == "user"), {})
    return Tracker.from_dict({
        "sender_id": sender, "slots": {"language": language}, "events": events, "paused": False,
        "latest_message": {"text": latest.get("text"), **(latest.get("parse_data") or {})},
        "latest_action_name": "action_listen", "active_loop": {}, "followup_action": None})


def reason(events: list[dict], current_failed: bool = False) -> str | None:
    decision = decide_escalation(tracker(events), current_failed)
    return decision.reason if decision else None


@pytest.mark.parametrize("text", ["quero falar com um atendente", "me passa pra um humano pfv", "I want a human",
                                  "can I talk to a real person?"])
def test_customer_asks_for_a_person(text: str) -> None:
    assert reason([user(text, "request_human", 0.93)]) == "customer_request"


def test_button_payload_and_low_confidence() -> None:
    assert reason([user("/request_human", "request_human", 1.0)]) == "customer_request"
    assert reason([user("atendente?", "request_human", 0.3)]) is None


@pytest.mark.parametrize("text, intent", [
    ("ja falei isso 3 vezes e nada", "order_status"), ("que absurdo, cade meu pedido", "order_status"),
    ("vcs sao uns incompetentes", "complain"), ("CADE O MEU PEDIDO QUE NAO CHEGA", "order_status"),
    ("I already told you this twice, ridiculous", "delivery_problem"), ("this is useless", "out_of_scope"),
    ("WHERE IS MY ORDER I PAID LAST WEEK", "order_status"), ("i asked three times already", "order_status"),
    ("nao gostei", "complain"),
])
def test_frustration_in_both_languages(text: str, intent: str) -> None:
    assert reason([user(text, intent)]) == "frustration"


def test_followup_for_topic_actions() -> None:
    assert escalation_followup(tracker([user("que absurdo, cade meu pedido 20481234", "order_status")])) == \
        [FollowupAction("action_request_human")]
    assert escalation_followup(tracker([user("cade meu pedido 20481234", "order_status")])) == []
    # Repeated fallbacks are the fallback path's decision, not a topic action's.
    assert escalation_followup(tracker([user("xx", "nlu_fallback"), user("yy", "nlu_fallback")])) == []


@pytest.mark.parametrize("text, intent", [("posso parcelar em 12 vezes?", "payment_methods"),
                                          ("obrigado, ajudou muito", "thanks"), ("ok", "affirm"),
                                          ("can I pay in 10 installments?", "payment_methods"),
                                          ("PIX", "payment_methods")])
def test_no_false_alarms(text: str, intent: str) -> None:
    assert reason([user(text, intent)]) is None


@pytest.mark.parametrize("text", ["vou abrir reclamacao no procon", "quero fazer chargeback no cartao",
                                  "I'll file a chargeback with my bank", "my lawyer will contact you"])
def test_topics_that_always_go_to_a_person(text: str) -> None:
    assert reason([user(text, "refund_status")]) == "always_human"


def test_always_human_intent_from_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    raw = yaml.safe_load((REPO_ROOT / "handoff" / "policy.yml").read_text())
    raw["escalation"]["always_human"]["intents"] = ["cancel_order"]
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    monkeypatch.setenv("HANDOFF_POLICY", str(path))
    assert reason([user("quero cancelar meu pedido", "cancel_order")]) == "always_human"


@pytest.mark.parametrize("first, second", [("asdfgh", "qwerty zxc"), ("blablabla", "hmm kkk")])
def test_two_consecutive_fallbacks(first: str, second: str) -> None:
    assert reason([user(first, "nlu_fallback", 0.2)]) is None
    assert reason([user(first, "nlu_fallback", 0.2), bot("?"), user(second, "nlu_fallback", 0.2)]) == \
        "repeated_fallback"


@pytest.mark.parametrize("helped_q, no", [("Isso respondeu sua dúvida?", "/deny"),
                                          ("Did this answer your question?", "no it didnt")])
def test_didnt_help_answers_count_as_failures(helped_q: str, no: str) -> None:
    kb = {"asked": "helped", "article_id": "rastrear-pedido"}
    events = [user("como rastreio", "nlu_fallback", 0.3), bot("Artigo...", kb), bot(helped_q),
              user(no, "deny", 0.95)]
    assert reason(events) == "repeated_fallback"
    # One "didn't help" after an understood question is not enough yet.
    events = [user("cade meu pedido", "order_status"), bot("Artigo...", kb), user(no, "deny", 0.95)]
    assert reason(events) is None
    assert not should_escalate_after_fallback(tracker(events))
    # A second failure in a row (the rephrased question finds nothing either) escalates.
    events += [bot("Pode explicar de outro jeito?"), user("meu pedido sumiu", "delivery_problem")]
    assert should_escalate_after_fallback(tracker(events))


def test_a_good_turn_resets_the_streak_and_a_resume_starts_over() -> None:
    events = [user("xx", "nlu_fallback", 0.2), user("cade meu pedido", "order_status"), user("yy", "nlu_fallback")]
    assert reason(events) is None
    events = [user("xx", "nlu_fallback"), user("yy", "nlu_fallback"), {"event": "resume"}, user("zz", "nlu_fallback")]
    assert reason(events) is None


@pytest.mark.parametrize("q1, q2", [("qual o prazo do reembolso no boleto", "qual prazo reembolso do boleto?"),
                                    ("how long does a boleto refund take", "how long for the boleto refund take??")])
def test_repeated_unanswered_question(q1: str, q2: str) -> None:
    events = [user(q1, "refund_status"), bot("Não sei.", {"asked": "offer_human"}), user("ok", "affirm"),
              bot("Posso ajudar em algo mais?"), user(q2, "refund_status")]
    assert reason(events) is None  # understood turn; the fallback path decides after its search:
    assert reason(events, current_failed=True) == "unanswered_repeat"
    different = events[:-1] + [user("e a garantia do relogio?", "warranty")]
    assert reason(different, current_failed=True) is None


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


def test_action_tells_the_customer_when_services_are_down(monkeypatch) -> None:
    monkeypatch.setenv("SERVICES_URL", f"http://127.0.0.1:{_free_port()}")
    dispatcher = CollectingDispatcher()
    events = [user("ja falei 3 vezes, quero um humano", "request_human")]
    result = ActionRequestHuman().run(dispatcher, tracker(events, "pt"), {})
    assert result == []
    assert "0800 555 0123" in dispatcher.messages[0]["text"]
    assert sys.version_info[:2] == (3, 10)
