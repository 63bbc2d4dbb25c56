"""The escalation decision (handoff/decision.py with handoff/policy.yml): every trigger, in pt and en.

The decision lives in the services app; these are the rules on tracker events as the action server reports
them (``POST /api/handoff/turns``). tests/bot/test_escalation.py checks the action server's side against the
real services app.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from handoff.decision import IMMEDIATE_REASONS, EscalationRules
from handoff.policy import Policy, load_policy

REPO_ROOT = Path(__file__).resolve().parents[2]


def user(text: str, intent: str, confidence: float = 0.9) -> dict:
    return {"event": "user", "text": text, "timestamp": time.time(),
            "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": []}}


def bot(text: str, kb: dict | None = None) -> dict:
    return {"event": "bot", "text": text, "timestamp": time.time(), "data": {"custom": {"kb": kb}} if kb else {}}


def reason(events: list[dict], current_failed: bool = False, policy: Policy | None = None) -> str | None:
    decision = EscalationRules(policy or load_policy()).decide(events, current_failed)
    return decision.reason if decision else None


def immediate(events: list[dict]) -> str | None:
    """What a topic-answering action gets: only the reasons that hold whatever the bot can answer."""
    found = reason(events)
    return found if found in IMMEDIATE_REASONS else None


@pytest.mark.parametrize("text", ["quero falar com um atendente", "me passa pra um humano pfv", "I want a human",
                                  "can I talk to a real person?"])
def test_customer_asks_for_a_person(text: str) -> None:
    assert reason([user(text, "request_human", 0.93)]) == "customer_request"


def test_button_payload_counts_as_a_request() -> None:
    assert reason([user("/request_human", "request_human", 1.0)]) == "customer_request"


@pytest.mark.parametrize("text, intent", [
    ("ja falei isso 3 vezes e nada", "order_status"), ("que absurdo, cade meu pedido", "order_status"),
    ("vcs sao uns incompetentes", "complain"), ("CADE O MEU PEDIDO QUE NAO CHEGA", "order_status"),
    ("I already told you this twice, ridiculous", "delivery_problem"), ("this is useless", "out_of_scope"),
    ("WHERE IS MY ORDER I PAID LAST WEEK", "order_status"), ("i asked three times already", "order_status"),
    ("nao gostei", "complain"),
])
def test_frustration_in_both_languages(text: str, intent: str) -> None:
    assert reason([user(text, intent)]) == "frustration"


def test_immediate_reasons_for_topic_actions() -> None:
    assert immediate([user("que absurdo, cade meu pedido 20481234", "order_status")]) == "frustration"
    assert immediate([user("cade meu pedido 20481234", "order_status")]) is None
    # Repeated fallbacks are the fallback path's decision, not a topic action's.
    assert immediate([user("xx", "nlu_fallback"), user("yy", "nlu_fallback")]) is None


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


def policy_with(tmp_path: Path, change) -> Policy:  # type: ignore[no-untyped-def]
    raw = yaml.safe_load((REPO_ROOT / "handoff" / "policy.yml").read_text())
    change(raw["escalation"])
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return load_policy(path)


def test_always_human_intent_from_policy(tmp_path: Path) -> None:
    policy = policy_with(tmp_path, lambda e: e["always_human"].update(intents=["cancel_order"]))
    assert reason([user("quero cancelar meu pedido", "cancel_order")], policy=policy) == "always_human"


def test_the_policy_alone_decides_whether_a_complaint_escalates(tmp_path: Path) -> None:
    """rules.yml sends complain to action_request_human, but only policy.yml decides (no second truth)."""
    complaint = [user("vcs sao uns incompetentes", "complain")]
    assert reason(complaint) == "frustration"

    def quiet(escalation: dict) -> None:
        escalation["frustration"].update(intents=[], lexicon={"pt": [], "en": []})

    assert reason(complaint, policy=policy_with(tmp_path, quiet)) is None


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
    assert reason(events, current_failed=True) is None
    # A second failure in a row (the rephrased question finds nothing either) escalates.
    events += [bot("Pode explicar de outro jeito?"), user("meu pedido sumiu", "delivery_problem")]
    assert reason(events, current_failed=True) == "repeated_fallback"


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


def test_yes_to_the_offer_of_a_person_is_a_request_only_through_the_escalation_action() -> None:
    events = [user("cade o reembolso", "nlu_fallback", 0.3), bot("Quer falar com uma pessoa?"), user("sim", "affirm")]
    assert EscalationRules(load_policy()).decide(events) is None
    decision = EscalationRules(load_policy()).decide(events, requested=True)
    assert decision is not None and decision.reason == "customer_request"
