"""Escalation to a person: the decision (which rule of ``handoff/policy.yml`` fires) and ``action_request_human``.

Why the decision lives here, next to the dialogue: only the action server sees the whole tracker at the moment
of the turn (intents with confidences, which knowledge-base answers were shown, the customer's "didn't help").
The services app then routes, queues and tells the customer their position; this module only decides *whether*
and *why*, and every escalation carries its reason (one of ``handoff.policy.REASONS``).

Conventions read from the tracker (written by ``bot/actions/knowledge.py``):

* a bot message with custom JSON ``{"kb": {"asked": "helped", ...}}`` asked "did this help?"; a following
  ``deny`` (``escalation.fallback.didnt_help_intents``) is a "didn't help" answer;
* ``{"kb": {"asked": "offer_human"}}`` means the knowledge base had no confident answer for that turn;
* events after the latest ``resume``/``restart``/``session_started`` or ``action_request_human`` count,
  so an earlier handoff does not trigger a new one.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import services_client
from bot.actions.language import conversation_language
from handoff.policy import Policy, cached_policy, policy_path

log = logging.getLogger(__name__)

ACTION_NAME = "action_request_human"
RESET_EVENTS = {"restart", "session_started", "resume"}
# Intents that say nothing about the topic; routing looks past them.
CONTROL_INTENTS = {"greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "out_of_scope", "request_human",
                   "inform", "complain", "nlu_fallback"}
STOPWORDS = set(["a", "o", "as", "os", "um", "uma", "de", "da", "do", "das", "dos", "em", "no", "na", "nos", "nas", "por", "para", "pra", "pro", "com", "sem", "que", "qual", "quais", "e", "ou", "mas", "se", "meu", "minha", "meus", "minhas", "seu", "sua", "eu", "voce", "vc", "ele", "ela", "isso", "isto", "esse", "essa", "este", "esta", "ja", "nao", "sim", "como", "quando", "onde", "the", "an", "of", "to", "in", "on", "at", "for", "with", "without", "and", "or", "but", "if", "my", "your", "you", "it", "is", "are", "was", "be", "do", "does", "did", "can", "i", "me", "what", "which", "how", "when", "where", "this", "that", "not", "yes", "please", "pls"])


def normalise(text: str) -> str:
    """Lower case, no accents, single spaces: customers write "ja" and "já", "nao" and "não"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.lower().split())


def _compile(phrases: Iterable[str]) -> re.Pattern[str] | None:
    parts = [normalise(str(p)) for p in phrases if str(p).strip()]
    if not parts:
        return None
    # Leading word boundary only, so "cansad" matches "cansada"/"cansado" and "enganad" "enganado".
    return re.compile("|".join(rf"(?<![a-z0-9])(?:{p})" for p in parts))


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", normalise(text)) if len(w) > 2 and w not in STOPWORDS}


def similarity(a: str, b: str) -> float:
    """Share of words two questions have in common (Jaccard over content words)."""
    wa, wb = words(a), words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def is_shouting(text: str, min_letters: int, upper_ratio: float) -> bool:
    letters = [c for c in text if c.isalpha()]
    if len(letters) < min_letters:
        return False
    return sum(c.isupper() for c in letters) / len(letters) >= upper_ratio


@dataclass
class Turn:
    """One customer message and how the bot fared with it."""

    text: str
    intent: str | None
    confidence: float
    asked_helped_before: bool = False  # the bot's previous message asked "did this help?"
    didnt_help: bool = False
    unanswered: bool = False  # the knowledge base had no confident answer
    fallback: bool = False

    @property
    def failed(self) -> bool:
        return self.fallback or self.didnt_help or self.unanswered


@dataclass
class Decision:
    """Why a conversation goes to a person; ``detail`` is shown to the agent."""

    reason: str
    detail: str
    intent: str | None = None
    category: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class EscalationRules:
    """The ``escalation`` section of the policy, compiled once."""

    def __init__(self, policy: Policy) -> None:
        section = policy.escalation
        self.policy = policy
        self.request_intents = set(section.get("request_human_intents") or ["request_human"])
        self.min_confidence = float(section.get("min_intent_confidence", 0.5))
        fallback = section.get("fallback") or {}
        self.max_consecutive = int(fallback.get("max_consecutive", 2))
        self.fallback_intents = set(fallback.get("intents") or ["nlu_fallback"])
        self.didnt_help_intents = set(fallback.get("didnt_help_intents") or ["deny"])
        always = section.get("always_human") or {}
        self.always_intents = set(always.get("intents") or [])
        keywords = always.get("keywords") or {}
        self.always_keywords = _compile(k for lang in keywords.values() for k in lang or [])
        frustration = section.get("frustration") or {}
        self.complain_intents = set(frustration.get("intents") or ["complain"])
        self.complain_confidence = float(frustration.get("min_confidence", 0.5))
        self.shout_letters = int(frustration.get("shouting_min_letters", 12))
        self.shout_ratio = float(frustration.get("shouting_upper_ratio", 0.75))
        lexicon = frustration.get("lexicon") or {}
        self.lexicon = _compile(p for lang in lexicon.values() for p in lang or [])
        unanswered = section.get("unanswered_repeat") or {}
        self.repeat_enabled = bool(unanswered.get("enabled", True))
        self.repeat_similarity = float(unanswered.get("min_similarity", 0.5))
        self.repeat_window = int(unanswered.get("window_turns", 10))

    # -- reading the tracker ---------------------------------------------------------------------------
    def turns(self, events: list[dict[str, Any]]) -> list[Turn]:
        """Customer turns since the last reset, each marked failed/didn't-help/unanswered."""
        turns: list[Turn] = []
        asked_helped = False
        for event in events:
            kind = event.get("event")
            if kind in RESET_EVENTS or (kind == "action" and event.get("name") == ACTION_NAME):
                turns, asked_helped = [], False
            elif kind == "user":
                intent = (event.get("parse_data") or {}).get("intent") or {}
                name = intent.get("name")
                text = event.get("text") or ""
                turn = Turn(text=text, intent=name, confidence=float(intent.get("confidence") or 0.0),
                            asked_helped_before=asked_helped)
                turn.fallback = name in self.fallback_intents
                turn.didnt_help = asked_helped and (name in self.didnt_help_intents or text.strip() == "/deny")
                turns.append(turn)
                asked_helped = False
            elif kind == "bot":
                kb = ((event.get("data") or {}).get("custom") or {})
                kb = kb.get("kb") if isinstance(kb, dict) else None
                if isinstance(kb, dict):
                    if kb.get("asked") == "helped":
                        asked_helped = True
                    elif kb.get("asked") == "offer_human" and turns:
                        turns[-1].unanswered = True
        return turns

    # -- the rules -------------------------------------------------------------------------------------
    def frustration_signal(self, text: str, intent: str | None, confidence: float) -> str | None:
        if intent in self.complain_intents and confidence >= self.complain_confidence:
            return f"intent {intent} ({confidence:.2f})"
        if self.lexicon is not None:
            match = self.lexicon.search(normalise(text))
            if match:
                return f"words: “{match.group(0)}”"
        if is_shouting(text, self.shout_letters, self.shout_ratio):
            return "message in capitals"
        return None

    def decide(self, events: list[dict[str, Any]], current_failed: bool = False) -> Decision | None:
        """The first rule that fires for the latest customer turn, or None.

        ``current_failed``: the caller (the fallback path) knows the latest turn got no useful answer even
        though its bot message is not in the tracker yet.
        """
        turns = self.turns(events)
        if not turns:
            return None
        latest = turns[-1]
        if current_failed:
            latest.unanswered = True
        topic = topical_intent(turns)
        text = latest.text.strip()
        if (latest.intent in self.request_intents and latest.confidence >= self.min_confidence) or \
                text.startswith("/request_human"):
            return Decision("customer_request", f"intent {latest.intent} ({latest.confidence:.2f})", topic)
        if latest.intent in self.always_intents and latest.confidence >= self.min_confidence:
            return Decision("always_human", f"intent {latest.intent}", latest.intent)
        if self.always_keywords is not None and not text.startswith("/"):
            match = self.always_keywords.search(normalise(text))
            if match:
                return Decision("always_human", f"words: “{match.group(0)}”", topic)
        if not text.startswith("/"):
            signal = self.frustration_signal(text, latest.intent, latest.confidence)
            if signal:
                return Decision("frustration", signal, topic)
        streak = 0
        for turn in reversed(turns):
            if not turn.failed:
                break
            streak += 1
        if streak >= self.max_consecutive:
            kinds = sorted({"didn't help" if t.didnt_help else "not understood" if t.fallback else "no answer"
                            for t in turns[-streak:]})
            return Decision("repeated_fallback", f"{streak} in a row ({', '.join(kinds)})", topic)
        if self.repeat_enabled and latest.failed and not text.startswith("/"):
            for earlier in reversed(turns[-self.repeat_window - 1:-1]):
                if earlier.failed and not earlier.text.startswith("/"):
                    score = similarity(earlier.text, latest.text)
                    if score >= self.repeat_similarity:
                        return Decision("unanswered_repeat", f"repeated question (similarity {score:.2f})", topic)
        return None


def topical_intent(turns: list[Turn]) -> str | None:
    """The latest intent that names a topic (order_status, device_pairing, ...), for routing."""
    for turn in reversed(turns):
        if turn.intent and turn.intent not in CONTROL_INTENTS:
            return turn.intent
    return None


def rules() -> EscalationRules:
    return _rules_for(str(policy_path()))


_RULES: dict[str, EscalationRules] = {}


def _rules_for(path: str) -> EscalationRules:
    if path not in _RULES:
        _RULES[path] = EscalationRules(cached_policy(path))
    return _RULES[path]


# -- entry points for other actions ------------------------------------------------------------------------
def decide_escalation(tracker: Tracker, current_failed: bool = False) -> Decision | None:
    """Should this conversation go to a person now, and why (None: the bot keeps going)."""
    try:
        return rules().decide(list(tracker.events), current_failed)
    except Exception:  # a policy typo must not silence the bot
        log.exception("escalation decision failed; the bot continues")
        return None


def should_escalate_after_fallback(tracker: Tracker) -> bool:
    """Called by ``action_fallback`` / ``action_kb_feedback`` when the latest turn got no useful answer."""
    return decide_escalation(tracker, current_failed=True) is not None


def escalation_followup(tracker: Tracker) -> list[EventType]:
    """For actions that answer a topic (order status, topic answers): when this very turn must go to a person
    (frustration, an always-human topic), ``[FollowupAction("action_request_human")]``; else ``[]``.

    Why: "que absurdo, cade meu pedido" is classified ``order_status``; only the answering action sees the turn,
    so it asks here first and hands over instead of answering as if nothing happened.
    """
    decision = decide_escalation(tracker)
    if decision is not None and decision.reason in ("frustration", "always_human", "customer_request"):
        return [FollowupAction(ACTION_NAME)]
    return []


def kb_categories(events: list[dict[str, Any]]) -> list[str]:
    """Categories of knowledge-base articles the bot showed, latest first (a routing hint)."""
    found = []
    for event in reversed(events):
        custom = (event.get("data") or {}).get("custom") if event.get("event") == "bot" else None
        kb = custom.get("kb") if isinstance(custom, dict) else None
        if isinstance(kb, dict) and isinstance(kb.get("category"), str):
            found.append(kb["category"])
    return found


def request_escalation(tracker: Tracker, decision: Decision) -> services_client.ServiceResult:
    """``POST /api/handoff/escalations`` with the tracker's events, so the transcript includes this turn."""
    events = list(tracker.events)
    body = {
        "conversation_id": tracker.sender_id,
        "reason": decision.reason,
        "reason_detail": decision.detail,
        "intent": decision.intent,
        "category": decision.category,
        "kb_categories": kb_categories(events),
        "language": conversation_language(tracker),
        "events": events,
    }
    timeout = float(os.environ.get("HANDOFF_TIMEOUT_SECONDS", "8"))
    return services_client.call("POST", "/api/handoff/escalations", json=body, timeout=timeout)


class ActionRequestHuman(Action):
    """Pass the conversation to a person: record the reason, queue it, tell the customer what happens next."""

    def name(self) -> str:
        return ACTION_NAME

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        language = conversation_language(tracker)
        latest_intent = (tracker.latest_message.get("intent") or {}).get("name")
        # Reached from a rule on request_human/complain, or as a follow-up of the fallback path.
        decision = decide_escalation(tracker) or decide_escalation(tracker, current_failed=True)
        if decision is None:
            topic = topical_intent(rules().turns(list(tracker.events)))
            decision = Decision("customer_request", f"action {ACTION_NAME} (intent {latest_intent})", topic)
        policy = rules().policy
        result = request_escalation(tracker, decision)
        body = result.body if isinstance(result.body, dict) else {}
        if not result.ok or not body.get("bot_text"):
            log.warning("escalation failed for %s: %s %s", tracker.sender_id, result.status, str(result.body)[:300])
            dispatcher.utter_message(text=policy.message(f"intro.{decision.reason}", language) + " "
                                     + policy.message("unavailable", language))
            return []
        # Text only: the REST channel would deliver custom JSON as a separate, empty message.
        dispatcher.utter_message(text=str(body["bot_text"]))
        # The gateway stops calling Rasa while a person handles the chat; pausing also keeps Rasa itself quiet.
        return [ConversationPaused()]
