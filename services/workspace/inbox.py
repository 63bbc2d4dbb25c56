"""The NLU inbox: customer messages the bot was not trained on, worst first, near-duplicates grouped.

Why read the conversation event log: it already holds each customer message, what the bot understood of it
(the ``bot_reply`` of that turn: intent, confidence), fallbacks, "did this help? no", and escalations. A
message is a candidate when its text is not a training example yet (compared folded: case, accents,
whitespace) and no lead decided it; it is worse the more the bot visibly failed on it (:data:`REASONS`).

Why group by embedding similarity: customers ask the same thing in many spellings; a lead labels a group at
once. Messages are embedded de-identified (order numbers, CPFs... replaced by the same neutral values), so "where
is order 2048..." and "where is order 3057..." are the same question; groups are built greedily in worst-first
order with complete linkage (:func:`group_indices`) at ``inbox.group_similarity``, a threshold tuned on a
labelled dev sample (see docs/benchmarks.md and bench/workspace/inbox_grouping.py).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.chat.models import ChatMessage
from services.conversations import kinds
from services.conversations.models import Conversation, ConversationEvent
from services.db import iso
from services.workspace.training_data import example_key, plain_text

# Worst first: the bot said it did not understand; its answer did not help; a person had to take over; it was
# unsure; everything else it has not been trained on.
REASONS = ("fallback", "kb_not_helped", "escalated", "low_confidence", "new")
FALLBACK_INTENT = "nlu_fallback"
_READ_KINDS = (kinds.OPENED, kinds.LANGUAGE_CHANGED, kinds.CUSTOMER_MESSAGE, kinds.BOT_REPLY, kinds.FALLBACK,
               kinds.KB_ANSWER, kinds.KB_FEEDBACK, kinds.ESCALATED)


@dataclass
class InboxMessage:
    event_id: int
    conversation_id: str
    seq: int | None
    text: str
    language: str
    created_at: datetime
    intent: str | None = None
    confidence: float | None = None
    reasons: list[str] = field(default_factory=list)
    button: bool = False  # a button press (its text is the button's title): never a training candidate

    @property
    def rank(self) -> int:
        return min((REASONS.index(r) for r in self.reasons), default=len(REASONS) - 1)

    def to_dict(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "conversation_id": self.conversation_id, "text": self.text,
                "language": self.language, "intent": self.intent, "confidence": self.confidence,
                "reasons": self.reasons, "created_at": iso(self.created_at)}


def _conversation_messages(events: Sequence[ConversationEvent], start_language: str, low_confidence: float,
                           buttons: set[int], texts: dict[int, str]) -> list[InboxMessage]:
    """Walk one conversation's log in order and read each bot-handled customer message's turn."""
    language = start_language
    messages: dict[int, InboxMessage] = {}  # seq -> message
    order: list[InboxMessage] = []
    last_message: InboxMessage | None = None
    last_question: InboxMessage | None = None  # the latest real (typed) question: what a KB answer answered
    kb_question: dict[Any, InboxMessage] = {}
    for ev in events:
        data = ev.data or {}
        if ev.kind == kinds.OPENED and data.get("language"):
            language = str(data["language"])
        elif ev.kind == kinds.LANGUAGE_CHANGED and data.get("language"):
            language = str(data["language"])
            if last_message is not None:  # the turn that switched language was written in the new one
                last_message.language = language
        elif ev.kind == kinds.CUSTOMER_MESSAGE:
            seq = data.get("seq")
            msg = InboxMessage(event_id=ev.id, conversation_id=ev.conversation_id, seq=seq,
                               text=texts.get(seq) or str(data.get("text") or ""), language=language,
                               created_at=ev.created_at,
                               button=seq in buttons)
            if seq is not None:
                messages[seq] = msg
            order.append(msg)
            last_message = msg
            if not msg.button:
                last_question = msg
        elif ev.kind == kinds.BOT_REPLY:
            msg = messages.get(data.get("customer_seq"))
            if msg is not None and msg.intent is None and data.get("intent"):
                msg.intent = str(data["intent"])
                conf = data.get("confidence")
                msg.confidence = float(conf) if isinstance(conf, int | float) else None
        elif ev.kind == kinds.FALLBACK:
            msg = messages.get(data.get("customer_seq"))
            if msg is not None and "fallback" not in msg.reasons:
                msg.reasons.append("fallback")
        elif ev.kind == kinds.KB_ANSWER and last_question is not None:
            kb_question[data.get("article_id")] = last_question
        elif ev.kind == kinds.KB_FEEDBACK and data.get("helped") is False:
            msg = kb_question.get(data.get("article_id"))
            if msg is not None and "kb_not_helped" not in msg.reasons:
                msg.reasons.append("kb_not_helped")
        elif ev.kind == kinds.ESCALATED:
            for msg in order:
                if "escalated" not in msg.reasons:
                    msg.reasons.append("escalated")
    result = []
    for msg in order:
        if msg.intent is None or msg.button:  # not read by the bot (an agent had the chat) or a button press
            continue
        if msg.intent == FALLBACK_INTENT and "fallback" not in msg.reasons:
            msg.reasons.append("fallback")
        if msg.confidence is not None and msg.confidence < low_confidence and msg.intent != FALLBACK_INTENT:
            msg.reasons.append("low_confidence")
        if not msg.reasons:
            msg.reasons.append("new")
        msg.reasons.sort(key=REASONS.index)
        result.append(msg)
    return result


def read_messages(session: Session, *, low_confidence: float, limit: int = 1000,
                  event_ids: Iterable[int] | None = None) -> list[InboxMessage]:
    """Customer messages the bot read (newest ``limit``, or exactly ``event_ids``), with their turn's reading."""
    query = select(ConversationEvent.id, ConversationEvent.conversation_id).where(
        ConversationEvent.kind == kinds.CUSTOMER_MESSAGE)
    if event_ids is not None:
        wanted = sorted(set(event_ids))
        query = query.where(ConversationEvent.id.in_(wanted))
    else:
        wanted = None
        query = query.order_by(ConversationEvent.id.desc()).limit(limit)
    picked = session.execute(query).all()
    chosen = {row.id for row in picked}
    conv_ids = sorted({row.conversation_id for row in picked})
    out: list[InboxMessage] = []
    for start in range(0, len(conv_ids), 500):
        batch = conv_ids[start:start + 500]
        languages = dict(session.execute(select(Conversation.id, Conversation.language)
                                         .where(Conversation.id.in_(batch))).all())
        # The text lives in chat_messages (the event holds its seq); a button press carries a rasa_payload.
        texts: dict[str, dict[int, str]] = {}
        buttons: dict[str, set[int]] = {}
        for cid, seq, text, payload in session.execute(select(
                ChatMessage.conversation_id, ChatMessage.seq, ChatMessage.text, ChatMessage.payload).where(
                ChatMessage.conversation_id.in_(batch), ChatMessage.role == "customer")):
            texts.setdefault(cid, {})[seq] = text or ""
            if isinstance(payload, dict) and payload.get("rasa_payload"):
                buttons.setdefault(cid, set()).add(seq)
        events = session.scalars(select(ConversationEvent).where(
            ConversationEvent.conversation_id.in_(batch), ConversationEvent.kind.in_(_READ_KINDS))
            .order_by(ConversationEvent.conversation_id, ConversationEvent.id)).all()
        by_conv: dict[str, list[ConversationEvent]] = {}
        for ev in events:
            by_conv.setdefault(ev.conversation_id, []).append(ev)
        for cid, evs in by_conv.items():
            # The conversation's language at the start: the OPENED event says it; the row is its current one.
            msgs = _conversation_messages(evs, languages.get(cid) or "pt", low_confidence, buttons.get(cid, set()),
                                          texts.get(cid, {}))
            out += [m for m in msgs if m.event_id in chosen]
    if wanted is None:
        out.sort(key=lambda m: m.event_id, reverse=True)
    return out


def candidates(messages: Iterable[InboxMessage], known: dict[str, str], decided: set[int],
               example_form: Callable[[str], str] | None = None) -> list[InboxMessage]:
    """Messages that are not training examples (as typed, or once de-identified) and not decided, worst first."""
    out = []
    for msg in messages:
        if msg.event_id in decided or not msg.text.strip() or msg.text.lstrip().startswith("/"):
            continue
        if example_key(msg.text) in known:
            continue
        if example_form is not None:
            try:
                if example_key(example_form(msg.text)) in known:
                    continue
            except ValueError:
                pass  # a text that cannot become an example still shows (the lead can ignore it)
        out.append(msg)
    out.sort(key=lambda m: (m.rank, m.confidence if m.confidence is not None else 0.0, -m.event_id))
    return out


def grouping_form(text: str, example_form: Callable[[str], str]) -> str:
    """What is embedded for grouping: the de-identified text without entity markup (identifiers say nothing
    about the question, and two customers' different order numbers must not split one question in two)."""
    try:
        return plain_text(example_form(text))
    except ValueError:
        return " ".join(text.split())


class VectorCache:
    """Embeddings of message texts, kept between inbox loads (the same messages come back on every load)."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_items: int = 20_000) -> None:
        self.encode = encode
        self.max_items = max_items
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def vectors(self, texts: list[str]) -> np.ndarray:
        keys = [" ".join(t.split()) for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._items))
        if missing:
            fresh = np.asarray(self.encode(missing), dtype=np.float32)
            with self._lock:
                for key, vec in zip(missing, fresh, strict=True):
                    self._items[key] = vec
                while len(self._items) > self.max_items:
                    self._items.popitem(last=False)
        with self._lock:
            for key in keys:
                if key in self._items:
                    self._items.move_to_end(key)  # recently used: evicted last
            rows = [self._items.get(key) for key in keys]
        if any(r is None for r in rows):  # evicted meanwhile by a concurrent load: encode those again
            rows = [r if r is not None else np.asarray(self.encode([k]), dtype=np.float32)[0]
                    for r, k in zip(rows, keys, strict=True)]
        return np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)


def group_indices(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Greedy complete-linkage grouping in the given order (worst first): a row joins the group whose LEAST
    similar member is most similar to it, if that cosine similarity reaches ``threshold``; else it starts one.

    Why complete linkage: every two messages of a group are at least ``threshold`` alike, so a group cannot
    drift by chaining (a centroid absorbs ever more as it grows: at 0.86 it put 200 BANKING77 messages of ~70
    intents into 5 groups). ``mins[g, j]`` is the similarity of row j to group g's least similar member,
    updated in one vector operation per row. Rows are L2-normalised.
    """
    n = len(vectors)
    if n == 0:
        return []
    sims = vectors @ vectors.T
    groups: list[list[int]] = []
    mins = np.empty((n, n), dtype=np.float32)
    for i in range(n):
        if groups:
            column = mins[:len(groups), i]
            best = int(np.argmax(column))
            if column[best] >= threshold:
                groups[best].append(i)
                np.minimum(mins[best], sims[i], out=mins[best])
                continue
        mins[len(groups)] = sims[i]
        groups.append([i])
    return groups


def suggestion(intents: Iterable[str | None]) -> str | None:
    """The most common prediction of a group (a fallback or no prediction suggests nothing)."""
    counts = Counter(i for i in intents if i and i != FALLBACK_INTENT)
    return counts.most_common(1)[0][0] if counts else None


def build_groups(messages: list[InboxMessage], vectors: np.ndarray, threshold: float) -> list[dict[str, Any]]:
    """The inbox's answer: groups worst first (then larger first), each with its messages worst first."""
    groups = []
    for members in group_indices(vectors, threshold):
        msgs = [messages[i] for i in members]
        reasons = sorted({r for m in msgs for r in m.reasons}, key=REASONS.index)
        groups.append({"id": f"g{msgs[0].event_id}", "size": len(msgs),
                       "suggested_intent": suggestion(m.intent for m in msgs), "reasons": reasons,
                       "messages": [m.to_dict() for m in msgs], "_rank": min(m.rank for m in msgs)})
    groups.sort(key=lambda g: (g["_rank"], -g["size"]))
    for g in groups:
        del g["_rank"]
    return groups
