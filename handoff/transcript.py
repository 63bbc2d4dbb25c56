"""The transcript of an escalated conversation: assembled from Rasa's tracker events, exported as JSON or text.

Why from the tracker and not only from the gateway's messages: the tracker also holds what the agent needs to
pick up without asking again: each customer message's intent and confidence, the entities, which help-center
articles the bot showed and whether the customer said they helped, the slots (language, order number).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

MAX_EVENTS = 5000
SLOTS_SHOWN = ("language", "order_number", "email", "cpf", "product")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value: Any, limit: int = 8000) -> str:
    return _CONTROL.sub("", value)[:limit] if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def clean_events(events: Any) -> list[dict[str, Any]]:
    """Tracker events as sent by the action server or Rasa, with every field we read forced to its type.

    Why: the events arrive over HTTP; a malformed one must not break an escalation (the customer would be
    left without a person), and control characters must not reach the database (PostgreSQL rejects NUL).
    """
    out: list[dict[str, Any]] = []
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            continue
        clean: dict[str, Any] = {"event": event["event"]}
        if isinstance(event.get("timestamp"), int | float):
            clean["timestamp"] = float(event["timestamp"])
        if event["event"] == "user":
            parse = _dict(event.get("parse_data"))
            intent = _dict(parse.get("intent"))
            confidence = intent.get("confidence")
            clean["text"] = _text(event.get("text"))
            clean["parse_data"] = {
                "intent": {"name": _text(intent.get("name"), 64) or None,
                           "confidence": float(confidence) if isinstance(confidence, int | float) else 0.0},
                "entities": [{"entity": _text(e.get("entity"), 64), "value": _text(str(e.get("value")), 200)}
                             for e in parse.get("entities") or [] if isinstance(e, dict)][:50]}
        elif event["event"] == "bot":
            data = _dict(event.get("data"))
            clean["text"] = _text(event.get("text"))
            clean["data"] = {"custom": _dict(data.get("custom")),
                             "buttons": [b for b in data.get("buttons") or [] if isinstance(b, dict)][:20]}
        elif event["event"] == "slot":
            clean["name"] = _text(event.get("name"), 64)
            value = event.get("value")
            clean["value"] = _text(value, 500) if isinstance(value, str) else value if isinstance(
                value, int | float | bool) or value is None else str(value)[:500]
        elif event["event"] == "action":
            clean["name"] = _text(event.get("name"), 64)
        out.append(clean)
    return out[-MAX_EVENTS:]


def _ts(value: Any) -> str | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
    return None


def _bot_extras(data: dict[str, Any]) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    custom = data.get("custom")
    if isinstance(custom, dict):
        if isinstance(custom.get("kb"), dict):
            extras["kb"] = custom["kb"]
        if isinstance(custom.get("handoff"), dict):
            extras["handoff"] = custom["handoff"]
    buttons = data.get("buttons")
    if isinstance(buttons, list) and buttons:
        extras["buttons"] = [str(b.get("title", "")) for b in buttons if isinstance(b, dict)]
    return extras


def from_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Messages (customer and bot) with timestamps, intents, entities, KB articles and "helped?" answers."""
    messages: list[dict[str, Any]] = []
    slots: dict[str, Any] = {}
    helped_pending: dict[str, Any] | None = None
    for event in events[-MAX_EVENTS:]:
        if not isinstance(event, dict):
            continue
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            entry: dict[str, Any] = {
                "role": "customer", "text": str(event.get("text") or ""), "timestamp": _ts(event.get("timestamp")),
                "intent": {"name": intent.get("name"), "confidence": round(float(intent.get("confidence") or 0), 3)},
                "entities": [{"entity": e.get("entity"), "value": e.get("value")}
                             for e in parse.get("entities") or [] if isinstance(e, dict)],
            }
            if helped_pending is not None and intent.get("name") in ("affirm", "deny"):
                entry["kb_feedback"] = {"article_id": helped_pending.get("article_id"),
                                        "helped": intent.get("name") == "affirm"}
            helped_pending = None
            messages.append(entry)
        elif kind == "bot":
            data = event.get("data") or {}
            entry = {"role": "bot", "text": str(event.get("text") or ""), "timestamp": _ts(event.get("timestamp")),
                     **_bot_extras(data if isinstance(data, dict) else {})}
            kb = entry.get("kb")
            if isinstance(kb, dict) and kb.get("asked") == "helped":
                helped_pending = kb
            if entry["text"] or len(entry) > 3:
                messages.append(entry)
        elif kind == "slot" and event.get("name") in SLOTS_SHOWN:
            slots[str(event["name"])] = event.get("value")
    return {"messages": messages, "slots": slots}


def from_log(log: list[dict[str, Any]], messages: dict[int, dict[str, Any]],
             current_turn: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The bot part of a transcript read from the conversation event log (the gateway's own record).

    ``log``: the conversation's events (services.conversations); ``messages``: its chat messages by seq (the
    text lives there once); ``current_turn``: tracker events from the action that escalates, whose latest user
    event says how the bot read the message being answered (its ``bot_reply`` is not logged yet).
    """
    readings = {e["data"].get("customer_seq"): e["data"] for e in log
                if e["kind"] == "bot_reply" and isinstance(e["data"].get("customer_seq"), int)}
    out: list[dict[str, Any]] = []
    slots: dict[str, Any] = {}
    for event in log:
        kind, data = event["kind"], event["data"]
        message = messages.get(data.get("seq")) if isinstance(data.get("seq"), int) else None
        if kind == "customer_message" and message is not None:
            reading = readings.get(data["seq"], {})
            entry: dict[str, Any] = {
                "role": "customer", "text": message["text"], "timestamp": message.get("created_at"),
                "intent": {"name": reading.get("intent"), "confidence": round(float(reading.get("confidence") or 0), 3)},
                "entities": list(reading.get("entities") or [])}
            out.append(entry)
        elif kind == "bot_reply" and message is not None:
            entry = {"role": "bot", "text": message["text"], "timestamp": message.get("created_at"),
                     **_bot_extras(message.get("payload") or {})}
            out.append(entry)
        elif kind == "kb_feedback":
            customer = next((m for m in reversed(out) if m["role"] == "customer"), None)
            if customer is not None:
                customer["kb_feedback"] = {"article_id": data.get("article_id"), "helped": data.get("helped")}
    latest = next((e for e in reversed(current_turn or []) if e.get("event") == "user"), None)
    pending = next((m for m in reversed(out) if m["role"] == "customer"), None)
    if latest is not None and pending is not None and not pending["intent"]["name"]:
        intent = (latest.get("parse_data") or {}).get("intent") or {}
        pending["intent"] = {"name": intent.get("name"), "confidence": round(float(intent.get("confidence") or 0), 3)}
        pending["entities"] = [{"entity": e.get("entity"), "value": e.get("value")}
                               for e in (latest.get("parse_data") or {}).get("entities") or [] if isinstance(e, dict)]
    for entry in out:
        for entity in entry.get("entities") or []:
            if entity.get("entity") in SLOTS_SHOWN:
                slots[str(entity["entity"])] = entity.get("value")
    return {"messages": out[-MAX_EVENTS:], "slots": slots}


def assemble(conversation_id: str, events: list[dict[str, Any]] | None, source: str, *, language: str,
             reason: str, reason_detail: str, start_seq: int, error: str | None = None,
             gateway_messages: list[dict[str, Any]] | None = None,
             logged: dict[str, Any] | None = None) -> dict[str, Any]:
    """The transcript stored with a handoff: from the event log (``logged``, see :func:`from_log`) when the
    conversation has one, else from tracker events (another Rasa channel), else the gateway's messages."""
    if logged is not None:
        body = logged
    elif events:
        body = from_events(events)
    else:
        body = {"messages": [
            {"role": m.get("role"), "text": m.get("text"), "timestamp": m.get("created_at"),
             "author_name": m.get("author_name")} for m in gateway_messages or []], "slots": {}}
    return {"conversation_id": conversation_id, "language": language, "reason": reason,
            "reason_detail": reason_detail, "source": source, "tracker_error": error,
            "escalated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "start_seq": start_seq, **body}


def export(handoff: dict[str, Any], transcript: dict[str, Any], live: list[dict[str, Any]],
           notes: list[dict[str, Any]]) -> dict[str, Any]:
    """The full record: bot part (tracker), the human part (gateway messages after escalation) and notes."""
    return {"handoff": handoff, "bot_part": transcript, "human_part": live, "internal_notes": notes}


def _line(ts: str | None, who: str, text: str) -> str:
    when = (ts or "")[:19].replace("T", " ")
    return f"[{when}] {who}: {text}"


def to_text(record: dict[str, Any]) -> str:
    """A readable plain-text version for e-mail or a helpdesk ticket."""
    h, t = record["handoff"], record["bot_part"]
    out = [f"Conversation {h['conversation_id']} — handoff #{h['id']} — team {h['team']} — status {h['status']}",
           f"Language: {t.get('language')} — escalated {t.get('escalated_at')} — reason: {h['reason']}"
           f" ({h.get('reason_detail') or ''})"]
    if t.get("slots"):
        out.append("Known data: " + ", ".join(f"{k}={v}" for k, v in t["slots"].items() if v is not None))
    if h.get("contact"):
        out.append("Contact: " + ", ".join(f"{k}={v}" for k, v in h["contact"].items() if v))
    out.append("")
    out.append("— with the assistant —")
    for m in t.get("messages") or []:
        if m["role"] == "customer":
            intent = m.get("intent") or {}
            info = f"  (intent {intent.get('name')} {intent.get('confidence')}"
            if m.get("entities"):
                info += "; " + ", ".join(f"{e['entity']}={e['value']}" for e in m["entities"])
            info += ")"
            if m.get("kb_feedback"):
                info += f"  [article {m['kb_feedback']['article_id']} helped: {m['kb_feedback']['helped']}]"
            out.append(_line(m.get("timestamp"), "Customer", m["text"]) + info)
        else:
            line = _line(m.get("timestamp"), "Bot" if m["role"] == "bot" else m["role"], m["text"])
            kb = m.get("kb")
            if isinstance(kb, dict) and kb.get("article_id"):
                line += f"  [article {kb['article_id']}]"
            out.append(line)
    out.append("")
    out.append("— with the team —")
    for m in record["human_part"]:
        who = {"customer": "Customer", "agent": f"{m.get('author_name') or 'Agent'} (agent)",
               "system": "System", "bot": "Bot"}.get(m.get("role") or "", str(m.get("role")))
        out.append(_line(m.get("created_at"), who, m.get("text") or ""))
    if record["internal_notes"]:
        out.append("")
        out.append("— internal notes —")
        for n in record["internal_notes"]:
            out.append(_line(n.get("created_at"), n.get("author_name") or "agent", n.get("text") or ""))
    if h.get("resolution_tag"):
        out.append("")
        out.append(f"Resolution: {h['resolution_tag']} {h.get('resolution_note') or ''}".rstrip())
    return "\n".join(out) + "\n"
