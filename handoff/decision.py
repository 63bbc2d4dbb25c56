"""Whether a conversation goes to a person now, and why: the rules of ``handoff/policy.yml``, in one place.

Why here and not in the action server: routing, business hours and the queue live in the services app, and so
must the decision, so that one environment can test "this message → that reason → that team" end to end and a
support lead's policy change has exactly one reader. The action server only reports the turn (the tracker's
events, which include the message being answered) and says what the services app tells it.

Conventions read from the tracker (written by ``bot/actions/knowledge.py``):

* a bot message with custom JSON ``{"kb": {"asked": "helped", ...}}`` asked "did this help?"; a following
  ``deny`` (``escalation.fallback.didnt_help_intents``) is a "didn't help" answer;
* ``{"kb": {"asked": "offer_human"}}`` means the knowledge base had no confident answer for that turn;
* events after the latest ``resume``/``restart``/``session_started`` or ``action_request_human`` count,
  so an earlier handoff does not trigger a new one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from handoff.policy import Policy
from textnorm.normalise import normalise
from textnorm.stopwords import ALL_STOPWORDS

ESCALATION_ACTION = "action_request_human"
RESET_EVENTS = {"restart", "session_started", "resume"}
# Intents that say nothing about the topic; routing looks past them.
CONTROL_INTENTS = {"greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "out_of_scope", "request_human",
                   "inform", "complain", "nlu_fallback"}
# Reasons that hold for the very message being answered, whatever the bot could answer: a topic-answering
# action asks for these before it answers ("que absurdo, cade meu pedido" goes to a person, not to the form).
IMMEDIATE_REASONS = ("customer_request", "always_human", "frustration")


def _compile(phrases: Iterable[str]) -> re.Pattern[str] | None:
    parts = [normalise(str(p)) for p in phrases if str(p).strip()]
    if not parts:
        return None
    # Leading word boundary only, so "cansad" matches "cansada"/"cansado" and "enganad" "enganado".
    return re.compile("|".join(rf"(?<![a-z0-9])(?:{p})" for p in parts))


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", normalise(text)) if len(w) > 2 and w not in ALL_STOPWORDS}


def similarity(a: str, b: str) -> float:
    """Share of words two questions have in common (Jaccard over content words)."""
    wa, wb = content_words(a), content_words(b)
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
    extra: dict[str, Any] = field(default_factory=dict)


class EscalationRules:
    """The ``escalation`` section of the policy, compiled once."""

    def __init__(self, policy: Policy) -> None:
        section = policy.escalation
        self.policy = policy
        self.request_intents = set(section.get("request_human_intents") or ["request_human"])
        fallback = section.get("fallback") or {}
        self.max_consecutive = int(fallback.get("max_consecutive", 2))
        self.fallback_intents = set(fallback.get("intents") or ["nlu_fallback"])
        self.didnt_help_intents = set(fallback.get("didnt_help_intents") or ["deny"])
        always = section.get("always_human") or {}
        self.always_intents = set(always.get("intents") or [])
        keywords = always.get("keywords") or {}
        self.always_keywords = _compile(k for lang in keywords.values() for k in lang or [])
        frustration = section.get("frustration") or {}
        self.complain_intents = set(frustration.get("intents") or [])
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
            if kind in RESET_EVENTS or (kind == "action" and event.get("name") == ESCALATION_ACTION):
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
        # Any confidence: the NLU's out-of-scope decision already turned unsure readings into nlu_fallback.
        if intent in self.complain_intents:
            return f"intent {intent} ({confidence:.2f})"
        if self.lexicon is not None:
            match = self.lexicon.search(normalise(text))
            if match:
                return f"words: “{match.group(0)}”"
        if is_shouting(text, self.shout_letters, self.shout_ratio):
            return "message in capitals"
        return None

    def decide(self, events: list[dict[str, Any]], current_failed: bool = False,
               requested: bool = False) -> Decision | None:
        """The first rule that fires for the latest customer turn, or None.

        ``current_failed``: the caller (the fallback path) knows the latest turn got no useful answer even
        though its bot message is not in the tracker yet. ``requested``: the turn reached the escalation action
        (a "yes" to the bot's offer of a person counts as asking for one).
        """
        turns = self.turns(events)
        if not turns:
            return None
        latest = turns[-1]
        if current_failed:
            latest.unanswered = True
        topic = topical_intent(turns)
        text = latest.text.strip()
        if latest.intent in self.request_intents or text.startswith("/request_human"):
            return Decision("customer_request", f"intent {latest.intent} ({latest.confidence:.2f})", topic)
        if latest.intent in self.always_intents:
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
        if requested and latest.intent == "affirm":
            return Decision("customer_request", "accepted the offer of a person", topic)
        return None


def topical_intent(turns: list[Turn]) -> str | None:
    """The latest intent that names a topic (order_status, device_pairing, ...), for routing."""
    for turn in reversed(turns):
        if turn.intent and turn.intent not in CONTROL_INTENTS:
            return turn.intent
    return None


def intents_latest_first(events: list[dict[str, Any]] | None) -> list[str]:
    names = []
    for event in reversed(events or []):
        if event.get("event") == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if name:
                names.append(str(name))
    return names


def kb_categories(events: list[dict[str, Any]] | None) -> list[str]:
    """Categories of knowledge-base articles the bot showed, latest first (a routing hint)."""
    found = []
    for event in reversed(events or []):
        custom = (event.get("data") or {}).get("custom") if event.get("event") == "bot" else None
        kb = custom.get("kb") if isinstance(custom, dict) else None
        if isinstance(kb, dict) and isinstance(kb.get("category"), str):
            found.append(kb["category"])
    return found
