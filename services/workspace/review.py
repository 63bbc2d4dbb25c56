"""Conversation review: find past conversations by what happened in them, read one turn by turn, tag, review.

Why SQL filters over the event log (``EXISTS`` per condition) and not a summary table: every filter is a fact
the log already holds (a ``fallback`` event, an ``escalated`` event with its reason, a ``kb_feedback`` that
says "didn't help", the bot's reading of each message on ``bot_reply``), so nothing can drift out of step with
what happened, and the database answers one page of 10k conversations in milliseconds using the
``(conversation_id, id)`` index. Only the page's conversations are then summarised in Python.

Personal data: the lead reads a conversation as agents read a transcript (texts as the customer wrote them);
each opening is recorded like an agent's transcript view (``handoff_audit``: ``transcript_view``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.sql.elements import ColumnElement

from handoff import audit as handoff_audit
from handoff.models import Handoff, HandoffNote
from handoff.policy import REASONS
from services.chat.models import ChatMessage
from services.conversations import kinds
from services.conversations.models import Conversation, ConversationEvent
from services.db import Database, iso
from services.workspace import audit
from services.workspace.review_store import ConversationReview, ReviewTag

MAX_TAGS = 20
MAX_TAG_CHARS = 40
MAX_TEXT_QUERY = 200
MAX_PAGE = 10_000
_TAG = re.compile(r"^[\w-]+$")
_NAME = re.compile(r"^[A-Za-z0-9_./-]{1,64}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_TEAM = re.compile(r"^[a-z0-9_-]{1,32}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TRUE, FALSE = ("true", "1", "sim", "yes"), ("false", "0", "nao", "não", "no")
# The query parameters the list accepts; anything else is a typo the lead should hear about.
PARAMS = ("from", "to", "language", "team", "intent", "confidence_min", "confidence_max", "fallback", "escalated",
          "reason", "kb_not_helped", "csat_max", "tag", "reviewed", "q", "page", "per_page")


class ReviewError(ValueError):
    """Input a lead can fix (422), or a conversation that does not exist (404); the message is for the lead."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Filters:
    """What the lead asked for; every field ``None`` (or empty) means "any"."""

    date_from: date | None = None
    date_to: date | None = None
    language: str | None = None
    team: str | None = None
    intent: str | None = None
    confidence_min: float | None = None
    confidence_max: float | None = None
    fallback: bool | None = None
    escalated: bool | None = None
    reason: str | None = None
    kb_not_helped: bool | None = None
    csat_max: int | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    reviewed: bool | None = None
    text: str | None = None
    page: int = 1
    per_page: int = 25


# -- input ---------------------------------------------------------------------------------------------------
def normalise_tag(raw: Any) -> str:
    """``"  Entrega Atrasada "`` → ``entrega-atrasada``; refuses what is not a short word (the message says why)."""
    if not isinstance(raw, str):
        raise ReviewError("cada etiqueta deve ser um texto")
    text = re.sub(r"\s+", "-", unicodedata.normalize("NFKC", raw).strip().lower())
    if not text:
        raise ReviewError("etiqueta vazia: escreva uma palavra")
    if len(text) > MAX_TAG_CHARS:
        raise ReviewError(f"etiqueta longa demais ({len(text)} caracteres; o máximo é {MAX_TAG_CHARS})")
    if not _TAG.match(text):
        shown = _CONTROL.sub("?", text)[:MAX_TAG_CHARS]
        raise ReviewError(f"etiqueta '{shown}' inválida: use só letras, números, hífen (-) e sublinhado (_)")
    return text


def normalise_tags(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        raise ReviewError("'tags' deve ser uma lista de etiquetas")
    tags = sorted({normalise_tag(t) for t in raw})
    if len(tags) > MAX_TAGS:
        raise ReviewError(f"etiquetas demais ({len(tags)}; o máximo é {MAX_TAGS} por conversa)")
    return tags


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = [v.strip() for v in params.get(name, []) if v.strip()]
    if len(values) > 1:
        raise ReviewError(f"o filtro '{name}' aparece mais de uma vez")
    return values[0] if values else None


def _bool(params: Mapping[str, Sequence[str]], name: str) -> bool | None:
    value = _one(params, name)
    if value is None:
        return None
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ReviewError(f"'{name}' deve ser true ou false (recebido: '{value[:40]}')")


def _number(params: Mapping[str, Sequence[str]], name: str, low: float, high: float, integer: bool = False
            ) -> Any:
    value = _one(params, name)
    if value is None:
        return None
    try:
        number = int(value) if integer else float(value.replace(",", "."))
    except ValueError:
        kind = "um número inteiro" if integer else "um número"
        raise ReviewError(f"'{name}' deve ser {kind} entre {low:g} e {high:g} (recebido: '{value[:40]}')") from None
    if not low <= number <= high:  # also refuses nan
        raise ReviewError(f"'{name}' deve estar entre {low:g} e {high:g} (recebido: {value[:40]})")
    return number


def _date(params: Mapping[str, Sequence[str]], name: str) -> date | None:
    value = _one(params, name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReviewError(f"'{name}' deve ser uma data no formato AAAA-MM-DD (recebido: '{value[:40]}')") from None


def _pattern(params: Mapping[str, Sequence[str]], name: str, pattern: re.Pattern[str], what: str) -> str | None:
    value = _one(params, name)
    if value is not None and not pattern.match(value):
        raise ReviewError(f"'{name}' inválido: {what} (recebido: '{_CONTROL.sub('?', value[:40])}')")
    return value


def parse_filters(params: Mapping[str, Sequence[str]], page_size: int = 25) -> Filters:
    """Query parameters (each name → its values) → :class:`Filters`, or :class:`ReviewError` naming the problem."""
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise ReviewError(f"filtro desconhecido: {', '.join(u[:40] for u in unknown)}; "
                          f"os filtros são {', '.join(PARAMS)}")
    date_from, date_to = _date(params, "from"), _date(params, "to")
    if date_from and date_to and date_from > date_to:
        raise ReviewError("a data inicial ('from') é depois da final ('to')")
    low = _number(params, "confidence_min", 0, 1)
    high = _number(params, "confidence_max", 0, 1)
    if low is not None and high is not None and low > high:
        raise ReviewError("a confiança mínima é maior que a máxima")
    reason = _one(params, "reason")
    if reason is not None and reason not in REASONS:
        raise ReviewError(f"motivo de escalonamento desconhecido: '{reason[:40]}'; os motivos são {', '.join(REASONS)}")
    escalated = _bool(params, "escalated")
    if reason is not None and escalated is False:
        raise ReviewError("um motivo de escalonamento só combina com conversas escalonadas")
    text = _one(params, "q")
    if text is not None:
        text = _CONTROL.sub(" ", text).strip()
        if len(text) > MAX_TEXT_QUERY:
            raise ReviewError(f"texto de busca longo demais ({len(text)} caracteres; o máximo é {MAX_TEXT_QUERY})")
    tags = tuple(sorted({normalise_tag(t) for t in params.get("tag", []) if t.strip()}))
    return Filters(
        date_from=date_from, date_to=date_to,
        language=_pattern(params, "language", _LANGUAGE, "um código de idioma como pt ou en"),
        team=_pattern(params, "team", _TEAM, "o identificador de uma equipe, como atendimento"),
        intent=_pattern(params, "intent", _NAME, "o nome de uma intenção, como order_status"),
        confidence_min=low, confidence_max=high, fallback=_bool(params, "fallback"),
        escalated=True if reason else escalated, reason=reason, kb_not_helped=_bool(params, "kb_not_helped"),
        csat_max=_number(params, "csat_max", 1, 5, integer=True), tags=tags, reviewed=_bool(params, "reviewed"),
        text=text or None, page=_number(params, "page", 1, MAX_PAGE, integer=True) or 1,
        per_page=_number(params, "per_page", 1, 100, integer=True) or page_size)


# -- search --------------------------------------------------------------------------------------------------
def _event(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """The conversation has an event matching ``conditions``.

    ``id IN (SELECT conversation_id ...)`` rather than a correlated ``EXISTS``: without statistics SQLite runs
    an ``EXISTS`` through the (kind, created_at) index, once per conversation (a minute on 10k conversations);
    ``IN`` reads the matching events once and probes a set (both SQLite and PostgreSQL plan it that way).
    """
    ev = ConversationEvent
    return Conversation.id.in_(select(ev.conversation_id).where(*conditions))


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def conditions(f: Filters, tz: ZoneInfo) -> list[ColumnElement[bool]]:
    """One SQL condition per filter (``AND``-ed); only conversations in which something was said.

    ``last_seq > 0`` (a message was stored) rather than "has a customer_message event": a widget opened and
    closed without a word is not worth reviewing, and the column test costs nothing per conversation.
    """
    ev, data = ConversationEvent, ConversationEvent.data
    out: list[ColumnElement[bool]] = [Conversation.last_seq > 0]
    if f.date_from:
        out.append(Conversation.created_at >= _utc_midnight(f.date_from, tz))
    if f.date_to:
        out.append(Conversation.created_at < _utc_midnight(f.date_to + timedelta(days=1), tz))
    if f.language:
        out.append(Conversation.language == f.language)
    if f.team:
        out.append(_event(ev.team == f.team))
    if f.intent or f.confidence_min is not None or f.confidence_max is not None:
        # The same reading must match both: "order_status below 0.6" is one message, not two.
        reading = [ev.kind == kinds.BOT_REPLY]
        if f.intent:
            reading.append(data["intent"].as_string() == f.intent)
        if f.confidence_min is not None:
            reading.append(data["confidence"].as_float() >= f.confidence_min)
        if f.confidence_max is not None:
            reading.append(data["confidence"].as_float() <= f.confidence_max)
        out.append(_event(*reading))
    if f.fallback is not None:
        has = _event(ev.kind == kinds.FALLBACK)
        out.append(has if f.fallback else ~has)
    if f.escalated is not None:
        has = _event(ev.kind == kinds.ESCALATED, *([data["reason"].as_string() == f.reason] if f.reason else []))
        out.append(has if f.escalated else ~has)
    if f.kb_not_helped is not None:
        has = _event(ev.kind == kinds.KB_FEEDBACK, data["helped"].as_boolean().is_(False))
        out.append(has if f.kb_not_helped else ~has)
    if f.csat_max is not None:
        out.append(Conversation.csat_rating <= f.csat_max)
    for tag in f.tags:
        out.append(Conversation.id.in_(select(ReviewTag.conversation_id).where(ReviewTag.tag == tag)))
    if f.reviewed is not None:
        has = Conversation.id.in_(select(ConversationReview.conversation_id))
        out.append(has if f.reviewed else ~has)
    if f.text:
        out.append(Conversation.id.in_(select(ChatMessage.conversation_id).where(
            ChatMessage.role == "customer", func.lower(ChatMessage.text).like(_like(f.text), escape="\\"))))
    return out


def _utc_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The lead's local midnight of ``day`` as the naive UTC the database stores."""
    local = datetime.combine(day, time.min, tzinfo=tz)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def search(db: Database, f: Filters, tz: ZoneInfo, low_confidence: float) -> dict[str, Any]:
    """One page of matching conversations, newest first, with the total and a summary of each.

    The filters run once: the matching ids come back in order (a few strings each, 10k in a millisecond or
    two), giving the total and the page; only the page's rows are then read and summarised.
    """
    where = and_(*conditions(f, tz))
    with db.session() as s:
        ids = s.scalars(select(Conversation.id).where(where)
                        .order_by(Conversation.created_at.desc(), Conversation.id.desc())).all()
        total = len(ids)
        page_ids = ids[(f.page - 1) * f.per_page:f.page * f.per_page]
        by_id = {c.id: c for c in s.scalars(select(Conversation).where(Conversation.id.in_(page_ids))).all()}
        summaries = _summaries(s, [by_id[i] for i in page_ids if i in by_id], low_confidence)
    return {"conversations": summaries, "total": total, "page": f.page, "per_page": f.per_page,
            "pages": max(1, -(-total // f.per_page))}


def _summaries(s: Any, rows: list[Conversation], low_confidence: float) -> list[dict[str, Any]]:
    """What the results table shows, for this page's conversations only (a few queries, none per row)."""
    ids = [c.id for c in rows]
    if not ids:
        return []
    ev = ConversationEvent
    events = s.execute(select(ev.conversation_id, ev.kind, ev.team, ev.data).where(
        ev.conversation_id.in_(ids), ev.kind.in_((kinds.CUSTOMER_MESSAGE, kinds.BOT_REPLY, kinds.FALLBACK,
                                                  kinds.ESCALATED, kinds.KB_FEEDBACK)) | ev.team.is_not(None))
        .order_by(ev.id)).all()
    first_seq = select(ChatMessage.conversation_id, func.min(ChatMessage.seq).label("seq")).where(
        ChatMessage.conversation_id.in_(ids), ChatMessage.role == "customer").group_by(
        ChatMessage.conversation_id).subquery()
    firsts = dict(s.execute(select(ChatMessage.conversation_id, ChatMessage.text).join(first_seq, and_(
        ChatMessage.conversation_id == first_seq.c.conversation_id, ChatMessage.seq == first_seq.c.seq))).all())
    tags: dict[str, list[str]] = defaultdict(list)
    for cid, tag in s.execute(select(ReviewTag.conversation_id, ReviewTag.tag).where(
            ReviewTag.conversation_id.in_(ids)).order_by(ReviewTag.tag)).all():
        tags[cid].append(tag)
    marks = {m.conversation_id: m.to_dict() for m in s.scalars(select(ConversationReview).where(
        ConversationReview.conversation_id.in_(ids))).all()}
    facts: dict[str, dict[str, Any]] = {cid: {"messages": 0, "intents": [], "min_confidence": None,
                                              "fallbacks": 0, "escalation": None, "kb_not_helped": False,
                                              "team": None} for cid in ids}
    for cid, kind, team, data in events:
        fact, data = facts[cid], data or {}
        if team:
            fact["team"] = team
        if kind == kinds.CUSTOMER_MESSAGE:
            fact["messages"] += 1
        elif kind == kinds.BOT_REPLY and isinstance(data.get("confidence"), int | float):
            if data.get("intent") and data["intent"] not in fact["intents"]:
                fact["intents"].append(data["intent"])
            low = fact["min_confidence"]
            fact["min_confidence"] = data["confidence"] if low is None else min(low, data["confidence"])
        elif kind == kinds.FALLBACK:
            fact["fallbacks"] += 1
        elif kind == kinds.ESCALATED:
            fact["escalation"] = {"reason": data.get("reason"), "detail": data.get("reason_detail") or ""}
        elif kind == kinds.KB_FEEDBACK and data.get("helped") is False:
            fact["kb_not_helped"] = True
    out = []
    for c in rows:
        fact = facts[c.id]
        low = fact["min_confidence"]
        out.append({"id": c.id, "created_at": iso(c.created_at), "updated_at": iso(c.updated_at),
                    "language": c.language, "status": c.status, "csat": c.csat_rating,
                    "first_message": (firsts.get(c.id) or "")[:200], **fact,
                    "low_confidence": low is not None and low < low_confidence,
                    "tags": tags.get(c.id, []), "reviewed": marks.get(c.id)})
    return out


# -- one conversation -----------------------------------------------------------------------------------------
def detail(db: Database, conversation_id: str, lead: Any, low_confidence: float) -> dict[str, Any]:
    """Every turn in order (messages with the bot's reading, KB articles, actions, fallbacks, escalation,
    agents' messages and notes, CSAT), tags and review; the opening is recorded as a transcript view."""
    with db.session() as s:
        conv = s.get(Conversation, conversation_id)
        if conv is None:
            raise ReviewError("conversa não encontrada (o id está certo? dados apagados a pedido do cliente "
                              "também somem daqui)", 404)
        events = s.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == conversation_id)
                           .order_by(ConversationEvent.id)).all()
        messages = {m.seq: m for m in s.scalars(select(ChatMessage).where(
            ChatMessage.conversation_id == conversation_id)).all()}
        note_ids = [e.data.get("note_id") for e in events if e.kind == kinds.NOTE and e.data]
        notes = {n.id: n for n in s.scalars(select(HandoffNote).where(HandoffNote.id.in_(
            [i for i in note_ids if isinstance(i, int)]))).all()} if note_ids else {}
        handoffs = s.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id)
                             .order_by(Handoff.id)).all()
        tags = [t for t in s.scalars(select(ReviewTag.tag).where(ReviewTag.conversation_id == conversation_id)
                                     .order_by(ReviewTag.tag)).all()]
        mark = s.get(ConversationReview, conversation_id)
        turns = build_turns([e.to_dict() for e in events], messages, notes, low_confidence)
        result = {"conversation": conv.to_dict(), "turns": turns, "tags": tags,
                  "reviewed": mark.to_dict() if mark else None,
                  "handoffs": [{"id": h.id, "team": h.team, "status": h.status, "reason": h.reason,
                                "reason_detail": h.reason_detail, "resolution_tag": h.resolution_tag}
                               for h in handoffs],
                  "low_confidence": low_confidence}
        last_handoff = handoffs[-1].id if handoffs else None
    handoff_audit.record(db, "transcript_view", getattr(lead, "id", None), last_handoff,
                         conversation_id=conversation_id, via="lead_review")
    return result


def build_turns(events: list[dict[str, Any]], messages: Mapping[int, Any], notes: Mapping[int, Any],
                low_confidence: float) -> list[dict[str, Any]]:
    """The log as the review page shows it: one entry per event, texts joined in from messages and notes.

    The bot's reading (intent, confidence, entities) is put on the customer message it read, so the lead sees
    "what the customer wrote → what the bot understood" together; bot replies keep their actions and article.
    """
    readings = {e["data"].get("customer_seq"): e["data"] for e in events
                if e["kind"] == kinds.BOT_REPLY and isinstance(e["data"].get("customer_seq"), int)}
    turns = []
    for e in events:
        data = dict(e["data"] or {})
        turn: dict[str, Any] = {"id": e["id"], "kind": e["kind"], "actor": e["actor"], "at": e["created_at"],
                                "team": e["team"], "data": data}
        seq = data.get("seq")
        message = messages.get(seq) if isinstance(seq, int) else None
        if message is not None:
            turn["text"] = message.text
            if message.author_name:
                turn["author"] = message.author_name
        if e["kind"] == kinds.CUSTOMER_MESSAGE and isinstance(seq, int) and seq in readings:
            reading = readings[seq]
            turn["reading"] = _reading(reading, low_confidence)
        elif e["kind"] == kinds.BOT_REPLY:
            turn["reading"] = _reading(data, low_confidence)
        elif e["kind"] == kinds.NOTE and isinstance(data.get("note_id"), int) and data["note_id"] in notes:
            note = notes[data["note_id"]]
            turn["text"], turn["author"] = note.text, note.author_name
        turns.append(turn)
    return turns


def _reading(data: Mapping[str, Any], low_confidence: float) -> dict[str, Any]:
    confidence = data.get("confidence")
    confidence = float(confidence) if isinstance(confidence, int | float) else None
    return {"intent": data.get("intent"), "confidence": confidence,
            "low": confidence is not None and confidence < low_confidence,
            "entities": data.get("entities") or [], "actions": data.get("actions") or [],
            "kb_article": data.get("kb_article")}


# -- tags and review ------------------------------------------------------------------------------------------
def _require(s: Any, conversation_id: str) -> None:
    if s.get(Conversation, conversation_id) is None:
        raise ReviewError("conversa não encontrada", 404)


def set_tags(db: Database, conversation_id: str, raw_tags: Any, lead: Any) -> list[str]:
    """Replace the conversation's tags; the change and its audit entry (before/after) commit together."""
    tags = normalise_tags(raw_tags)
    with db.session() as s:
        _require(s, conversation_id)
        rows = s.scalars(select(ReviewTag).where(ReviewTag.conversation_id == conversation_id)).all()
        before = sorted(r.tag for r in rows)
        if before == tags:
            return tags
        for row in rows:
            if row.tag not in tags:
                s.delete(row)
        for tag in set(tags) - set(before):
            s.add(ReviewTag(conversation_id=conversation_id, tag=tag, lead_id=getattr(lead, "id", None)))
        audit.add(s, "conversation_tagged", lead, f"conversation:{conversation_id}", {"tags": before},
                  {"tags": tags})
    return tags


def set_reviewed(db: Database, conversation_id: str, reviewed: bool, lead: Any) -> dict[str, Any] | None:
    """Mark (or unmark) the conversation reviewed by this lead, now; audited with before/after."""
    with db.session() as s:
        _require(s, conversation_id)
        mark = s.get(ConversationReview, conversation_id)
        before = mark.to_dict() if mark else None
        if reviewed:
            if mark is None:
                mark = ConversationReview(conversation_id=conversation_id)
                s.add(mark)
            mark.lead_id, mark.lead_name = getattr(lead, "id", None), getattr(lead, "name", "") or ""
            mark.reviewed_at = datetime.now(ZoneInfo("UTC")).replace(tzinfo=None)
            s.flush()
            after = mark.to_dict()
        else:
            if mark is not None:
                s.delete(mark)
            after = None
        if before != after:
            audit.add(s, "conversation_reviewed", lead, f"conversation:{conversation_id}",
                      {"reviewed": before}, {"reviewed": after})
        return after


def tag_counts(db: Database, limit: int = 50) -> list[dict[str, Any]]:
    """Tags in use, most used first (the filter form offers them)."""
    with db.session() as s:
        rows = s.execute(select(ReviewTag.tag, func.count().label("n")).group_by(ReviewTag.tag)
                         .order_by(func.count().desc(), ReviewTag.tag).limit(limit)).all()
    return [{"tag": t, "count": n} for t, n in rows]


def facets(db: Database) -> dict[str, Any]:
    """Choices for the filter form: languages, teams and intents seen, escalation reasons, tags in use."""
    ev = ConversationEvent
    with db.session() as s:
        languages = sorted(x for x in s.scalars(select(Conversation.language).distinct()).all() if x)
        teams = sorted(x for x in s.scalars(select(ev.team).where(ev.team.is_not(None)).distinct()).all() if x)
        intents = sorted(x for x in s.scalars(select(ev.data["intent"].as_string()).where(
            ev.kind == kinds.BOT_REPLY).distinct()).all() if x)
    return {"languages": languages, "teams": teams, "intents": intents, "reasons": list(REASONS),
            "tags": tag_counts(db)}

