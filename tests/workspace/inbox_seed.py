"""Seed customer turns the way the chat gateway logs them (real chat service, real event log, real rows).

``say`` stores the customer's message through ``ChatService.store_customer_message`` and logs the bot's
reading of it through the gateway's own ``_log_turn`` (what happens after Rasa answers), so the inbox reads
exactly the rows production writes. ``raw_turn`` appends the two events directly, for texts the chat gateway
itself refuses (empty, over its 2,000-character limit) but an old log or another channel could hold.
"""

from __future__ import annotations

from typing import Any

from services.chat.rasa_client import Turn
from services.conversations import kinds
from tests.handoff.conftest import INTERNAL, tracker_events


def new_conversation(app: Any, lang: str = "pt") -> str:
    r = app.client().post("/api/chat/session", json={"lang": lang})
    assert r.status_code == 200, r.text
    return r.json()["conversation"]["id"]


def say(app: Any, cid: str, text: str, intent: str, confidence: float, *, kb: dict | None = None,
        button: str | None = None) -> int:
    """One customer turn; the customer_message event id."""
    metadata = {"rasa_payload": button} if button else None
    message, _ = app.call(app.chat.store_customer_message(cid, text, metadata=metadata))
    reply: dict[str, Any] = {"text": "resposta do bot"}
    if kb:
        reply["custom"] = {"kb": kb}
    turn = Turn(replies=[reply], intent=intent, confidence=confidence)
    app.run(lambda tx: app.chat._log_turn(tx, message, turn))
    with app.db.session() as s:
        from sqlalchemy import select

        from services.conversations.models import ConversationEvent
        return s.scalar(select(ConversationEvent.id).where(
            ConversationEvent.conversation_id == cid, ConversationEvent.kind == kinds.CUSTOMER_MESSAGE)
            .order_by(ConversationEvent.id.desc()).limit(1))


def raw_turn(app: Any, cid: str, text: str, intent: str, confidence: float) -> int:
    def work(tx: Any) -> int:
        conv = tx.conversation(cid)
        conv.last_seq += 1
        seq = conv.last_seq
        event = tx.append(cid, kinds.CUSTOMER_MESSAGE, "customer", seq=seq, text=text)
        tx.append(cid, kinds.BOT_REPLY, "bot", seq=None, text="", kb_article=None, intent=intent,
                  confidence=confidence, entities=[], actions=[], customer_seq=seq)
        return event.id

    return app.run(work)


def escalate(app: Any, cid: str) -> None:
    r = app.client().post("/api/handoff/escalations", headers={"X-Internal-Token": INTERNAL},
                          json={"conversation_id": cid, "reason": "customer_request", "events": tracker_events()})
    assert r.status_code in (200, 201), r.text
