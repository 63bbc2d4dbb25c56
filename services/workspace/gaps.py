"""Knowledge-base gaps: the questions the knowledge base did not answer, clustered by meaning and ranked.

Where the questions come from (the last ``gaps.window_days``):

* fallbacks: the customer message the bot did not understand (``fallback`` event → its ``customer_message``),
  unless the knowledge-base answer shown for it was then marked "helped";
* not-answerable searches: ``kb_events`` rows of kind ``no_answer`` (their query);
* "didn't help": a ``kb_feedback`` event with ``helped=false`` → the customer message the answer was for;
* escalations: the first customer message of an escalated conversation that says what it is about (greetings,
  "talk to a person" and button payloads are skipped).

The same message reached through several of these is one question (its sources listed). Questions are embedded
with the app's own encoder (multilingual e5, so pt and en paraphrases meet) and grouped by average-linkage
agglomerative clustering cut at ``gaps.cluster_similarity``: a question joins a group when it is, on average,
that close to all of its members (a single "bridge" message cannot chain two topics together, as it can in
greedy or single-linkage grouping). ``bench/workspace/gap_clustering.py`` measures the purity of this choice.

Groups are ranked by distinct customers (conversations), with the trend (second half of the window against
the first), masked example messages, and the closest existing article with its score from the real search.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from retrieval.langdetect import detect_language
from services.chat.models import ChatMessage
from services.conversations import kinds
from services.conversations.models import Conversation, ConversationEvent
from services.db import Database, iso, utcnow
from services.kb_events.models import KbEvent
from services.privacy import find as find_personal_data
from services.privacy import redact

# Readings that say nothing about the topic: the first message "about something" is after them.
CHITCHAT_INTENTS = frozenset({"greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "request_human",
                              "out_of_scope_chitchat"})
SOURCES = ("fallback", "no_answer", "not_helped", "escalated")
MAX_EXAMPLES = 5
MAX_GAPS = 100  # the page shows the top groups; each one costs a search for its closest article
MAX_QUESTION_CHARS = 500
_CHUNK = 500


@dataclass
class Question:
    """One unanswered customer question (one message, however many sources point at it)."""

    conversation_id: str
    text: str
    created_at: datetime
    language: str
    seq: int | None = None
    sources: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return f"{self.conversation_id}:{self.seq if self.seq is not None else normal(self.text)}"


def normal(text: str) -> str:
    return " ".join(text.lower().split())


def topic_text(text: str) -> str:
    """The question without its identifiers (e-mail, CPF, phone, card): what it is about, not whose it is.

    Why: "meu email é ana@x.com" and "meu pedido 2048..." add tokens that pull a question away from its
    paraphrases; two customers asking the same thing never share them."""
    findings = find_personal_data(text)
    for finding in sorted(findings, key=lambda f: f.start, reverse=True):
        text = text[:finding.start] + text[finding.end:]
    return " ".join(text.split())


def _is_topic(text: str) -> bool:
    """A message that can be a question: not a button payload (``/affirm``), has some letters."""
    return bool(text) and not text.startswith("/") and len(re.findall(r"\w", text)) >= 3


# ---------------------------------------------------------------------------------------------- collecting


def _conversation_questions(conv_id: str, language: str, events: list[ConversationEvent],
                            texts: dict[int, str], since: datetime) -> dict[str, Question]:
    """Walk one conversation's log and pick its unanswered questions (keyed by :attr:`Question.key`).

    ``texts``: the customer's messages by ``seq`` (the log's events carry the seq; the text is in chat_messages).
    """
    messages: dict[int, tuple[str, datetime]] = {}
    intents: dict[int, str | None] = {}
    found: dict[str, Question] = {}
    helped: set[int] = set()
    last_reply_seq: int | None = None  # the customer message the latest bot reply answered
    last_kb_seq: int | None = None  # the customer message the latest knowledge-base answer was for
    escalated = False

    def add(seq: int | None, source: str, when: datetime) -> None:
        if seq is None or seq not in messages:
            return
        text, sent = messages[seq]
        if not _is_topic(text) or sent < since:
            return
        question = Question(conv_id, text[:MAX_QUESTION_CHARS], sent, language, seq)
        found.setdefault(question.key, question).sources.add(source)

    for event in events:
        data = event.data or {}
        if event.kind == kinds.CUSTOMER_MESSAGE and isinstance(data.get("seq"), int):
            messages[data["seq"]] = (texts.get(data["seq"]) or str(data.get("text") or ""), event.created_at)
        elif event.kind == kinds.BOT_REPLY and isinstance(data.get("customer_seq"), int):
            intents.setdefault(data["customer_seq"], data.get("intent"))
            last_reply_seq = data["customer_seq"]
        elif event.kind == kinds.KB_ANSWER:  # logged right after the reply that carried the article
            last_kb_seq = last_reply_seq
        elif event.kind == kinds.FALLBACK and event.created_at >= since:
            add(data.get("customer_seq"), "fallback", event.created_at)
        elif event.kind == kinds.KB_FEEDBACK and last_kb_seq is not None:
            if data.get("helped") is False and event.created_at >= since:
                add(last_kb_seq, "not_helped", event.created_at)
            elif data.get("helped") is True:
                helped.add(last_kb_seq)
        elif event.kind == kinds.ESCALATED and event.created_at >= since:
            escalated = True
    if escalated:
        for seq in sorted(messages):
            if _is_topic(messages[seq][0]) and intents.get(seq) not in CHITCHAT_INTENTS:
                add(seq, "escalated", messages[seq][1])
                break
    # A fallback whose knowledge-base answer then helped was answered after all.
    return {k: q for k, q in found.items() if not (q.sources == {"fallback"} and q.seq in helped)}


def collect(db: Database, since: datetime, until: datetime, limit: int) -> list[Question]:
    """Every unanswered question between ``since`` and ``until`` (the newest ``limit`` conversations' worth)."""
    wanted = (kinds.FALLBACK, kinds.KB_FEEDBACK, kinds.ESCALATED)
    with db.session() as s:
        conv_ids = list(dict.fromkeys(s.scalars(
            select(ConversationEvent.conversation_id)
            .where(ConversationEvent.kind.in_(wanted), ConversationEvent.created_at >= since,
                   ConversationEvent.created_at <= until)
            .order_by(ConversationEvent.id.desc()).limit(limit * 4)).all()))[:limit]
        no_answers = s.scalars(select(KbEvent).where(KbEvent.kind == "no_answer", KbEvent.created_at >= since,
                                                     KbEvent.created_at <= until)
                               .order_by(KbEvent.id.desc()).limit(limit)).all()
        all_ids = list(dict.fromkeys([*conv_ids, *(k.conversation_id for k in no_answers)]))
        languages: dict[str, str] = {}
        by_conv: dict[str, list[ConversationEvent]] = {}
        texts: dict[str, dict[int, str]] = {}
        for start in range(0, len(all_ids), _CHUNK):
            chunk = all_ids[start:start + _CHUNK]
            for cid, seq, text in s.execute(select(ChatMessage.conversation_id, ChatMessage.seq, ChatMessage.text)
                                            .where(ChatMessage.conversation_id.in_(chunk),
                                                   ChatMessage.role == "customer")).tuples():
                texts.setdefault(cid, {})[seq] = text or ""
            languages.update(s.execute(select(Conversation.id, Conversation.language)
                                       .where(Conversation.id.in_(chunk))).tuples().all())
            for event in s.scalars(select(ConversationEvent).where(
                    ConversationEvent.conversation_id.in_(chunk),
                    ConversationEvent.kind.in_((kinds.CUSTOMER_MESSAGE, kinds.BOT_REPLY, kinds.KB_ANSWER, *wanted)),
                    ConversationEvent.created_at <= until).order_by(ConversationEvent.id)):
                by_conv.setdefault(event.conversation_id, []).append(event)
        found: dict[str, Question] = {}
        for conv_id in conv_ids:
            found.update(_conversation_questions(conv_id, languages.get(conv_id, "pt"),
                                                 by_conv.get(conv_id, []), texts.get(conv_id, {}), since))
        # A not-answerable search is the same message as its fallback when the texts match.
        by_text = {(q.conversation_id, normal(q.text)): q for q in found.values()}
        for row in no_answers:
            text = (row.query or "").strip()
            if not _is_topic(text):
                continue
            same = by_text.get((row.conversation_id, normal(text)))
            if same is None:
                same = Question(row.conversation_id, text[:MAX_QUESTION_CHARS], row.created_at,
                                row.language or languages.get(row.conversation_id, "pt"))
                by_text[(row.conversation_id, normal(text))] = same
                found[same.key] = same
            same.sources.add("no_answer")
    for question in found.values():  # the message's own language (a pt conversation may ask in English)
        question.language = detect_language(question.text, question.language)
    return sorted(found.values(), key=lambda q: q.created_at)


# ---------------------------------------------------------------------------------------------- clustering


def cluster_vectors(vectors: np.ndarray, threshold: float, method: str = "average",
                    langs: list[str] | None = None, cross_language_bonus: float = 0.0) -> list[list[int]]:
    """Groups of row indices whose (L2-normalised) vectors are at least ``threshold`` similar (cosine).

    ``method`` is a SciPy linkage (``average``, ``complete``, ``single``) or ``greedy`` (each vector joins the
    most similar running centroid above the threshold, else starts a group); the benchmark compares them.
    ``cross_language_bonus`` is added to the similarity of two questions in different ``langs``: the encoder
    rates a pt question and its en translation lower than two pt paraphrases, so without it one question asked
    in both languages tends to become two gaps (measured in bench/workspace/gap_clustering.py)."""
    n = len(vectors)
    if n == 0:
        return []
    if n == 1:
        return [[0]]
    if method == "greedy":
        return _greedy(vectors, threshold)
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    matrix = np.asarray(vectors, dtype=np.float64)
    similarity = matrix @ matrix.T
    if langs is not None and cross_language_bonus:
        codes = np.array([hash(lang) for lang in langs])
        similarity = similarity + cross_language_bonus * (codes[:, None] != codes[None, :])
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    distance = (distance + distance.T) / 2
    labels = fcluster(linkage(squareform(distance, checks=False), method=method), t=1.0 - threshold,
                      criterion="distance")
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels.tolist()):
        groups.setdefault(label, []).append(index)
    return list(groups.values())


def _greedy(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    groups: list[list[int]] = []
    sums: list[np.ndarray] = []
    for index, vector in enumerate(vectors):
        if sums:
            centroids = np.stack(sums)
            centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
            sims = centroids @ vector
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                groups[best].append(index)
                sums[best] = sums[best] + vector
                continue
        groups.append([index])
        sums.append(np.array(vector, dtype=np.float64))
    return groups


class EmbeddingCache:
    """Question vectors by text: a report re-embeds only questions it has not seen (bounded, thread-safe)."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_items: int = 20_000) -> None:
        self.encode = encode
        self.max_items = max_items
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = np.asarray(self.encode(missing), dtype=np.float32)
            known.update(zip(missing, fresh, strict=True))
            with self._lock:
                if len(self._vectors) + len(missing) > self.max_items:
                    self._vectors.clear()
                self._vectors.update(zip(missing, fresh, strict=True))
        return np.stack([known[t] for t in texts])


# ---------------------------------------------------------------------------------------------- report


@dataclass
class Gap:
    """One cluster of unanswered questions, as the lead's page shows it."""

    id: str
    questions: list[Question]
    representative: Question
    first_half: int
    second_half: int
    closest: dict[str, Any] | None = None

    @property
    def conversations(self) -> list[str]:
        return list(dict.fromkeys(q.conversation_id for q in self.questions))

    @property
    def trend(self) -> str:
        if self.second_half > self.first_half:
            return "up"
        return "down" if self.second_half < self.first_half else "flat"

    def examples(self) -> list[str]:
        seen: dict[str, str] = {}
        for q in sorted(self.questions, key=lambda q: q.created_at, reverse=True):
            seen.setdefault(normal(q.text), redact(q.text))
        return list(seen.values())[:MAX_EXAMPLES]

    def to_dict(self) -> dict[str, Any]:
        sources = Counter(s for q in self.questions for s in q.sources)
        return {"id": self.id, "customers": len(self.conversations), "questions": len(self.questions),
                "title": redact(self.representative.text),
                "trend": {"direction": self.trend, "first_half": self.first_half, "second_half": self.second_half},
                "examples": self.examples(), "languages": dict(Counter(q.language for q in self.questions)),
                "sources": {s: sources[s] for s in SOURCES if sources[s]},
                "last_asked": iso(max(q.created_at for q in self.questions)), "closest": self.closest}


def _gap_id(questions: Iterable[Question]) -> str:
    """Stable while the group grows: the hash of its earliest question."""
    first = min(questions, key=lambda q: (q.created_at, q.key))
    return hashlib.sha256(first.key.encode("utf-8")).hexdigest()[:12]


def _distinct_in(questions: list[Question], start: datetime, end: datetime) -> int:
    return len({q.conversation_id for q in questions if start <= q.created_at < end})


def closest_article(searcher: Any, question: Question) -> dict[str, Any] | None:
    """The real search's best article for the group's most typical question, with its score and verdict."""
    if searcher is None:
        return None
    result = searcher.search(question.text, lang=question.language if question.language in ("pt", "en") else "auto",
                             k=1)
    if not result.hits:
        return None
    hit = result.hits[0]
    return {"article_id": hit.passage.article_id, "title": hit.passage.title, "url": hit.passage.url,
            "lang": hit.passage.lang, "category": hit.passage.category, "heading": hit.passage.heading, "score": round(hit.score, 4),
            "similarity": round(hit.dense, 4), "answerable": bool(result.answerable),
            "probability": round(float(result.probability), 4)}


def build_report(questions: list[Question], embed: Callable[[list[str]], np.ndarray], threshold: float,
                 since: datetime, until: datetime, searcher: Any = None,
                 cross_language_bonus: float = 0.0,
                 closest: Callable[[Any, Question], dict[str, Any] | None] = closest_article) -> list[Gap]:
    """Cluster, rank (distinct customers, then the recent half, then recency) and describe the groups."""
    if not questions:
        return []
    vectors = embed([topic_text(q.text) for q in questions])
    middle = since + (until - since) / 2
    gaps = []
    langs = [q.language for q in questions]
    for members in cluster_vectors(vectors, threshold, langs=langs, cross_language_bonus=cross_language_bonus):
        group = [questions[i] for i in members]
        centroid = vectors[members].mean(axis=0)
        typical = group[int(np.argmax(vectors[members] @ centroid))]
        gaps.append(Gap(_gap_id(group), group, typical, _distinct_in(group, since, middle),
                        _distinct_in(group, middle, until + timedelta(seconds=1))))
    gaps.sort(key=lambda g: (-len(g.conversations), -g.second_half, -max(q.created_at for q in g.questions).timestamp()))
    for gap in gaps[:MAX_GAPS]:
        gap.closest = closest(searcher, gap.representative)
    return gaps


class GapFinder:
    """Per app: the embedding cache and the last report (a draft is made from the group the lead saw)."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray]) -> None:
        self.embed = EmbeddingCache(encode)
        self.last: dict[str, Gap] = {}
        self._lock = threading.Lock()
        # (question, language, index version) -> closest article: a reload searches only new representatives
        self._closest: dict[tuple[str, str, str], dict[str, Any] | None] = {}

    def closest(self, searcher: Any, question: Question) -> dict[str, Any] | None:
        if searcher is None:
            return None
        key = (question.text, question.language, str(getattr(searcher.data, "version", "")))
        with self._lock:
            if key in self._closest:
                return self._closest[key]
        found = closest_article(searcher, question)
        with self._lock:
            if len(self._closest) > 5 * MAX_GAPS:
                self._closest.clear()
            self._closest[key] = found
        return found

    def report(self, db: Database, settings: Any, searcher: Any = None,
               now: datetime | None = None) -> tuple[list[Gap], dict[str, Any]]:
        """``settings``: workspace.yml's ``gaps`` section."""
        until = now or utcnow()
        since = until - timedelta(days=settings.window_days)
        questions = collect(db, since, until, settings.max_questions)
        gaps = build_report(questions, self.embed, settings.cluster_similarity, since, until, searcher,
                            settings.cross_language_bonus, self.closest)
        with self._lock:
            self.last = {g.id: g for g in gaps[:MAX_GAPS]}
        return gaps[:MAX_GAPS], {"since": iso(since), "until": iso(until), "questions": len(questions),
                                 "groups": len(gaps), "window_days": settings.window_days,
                                 "cluster_similarity": settings.cluster_similarity}

    def find(self, gap_id: str) -> Gap | None:
        with self._lock:
            return self.last.get(gap_id)
