"""Past conversations for the lead's review, written through the product's own code paths.

Why not INSERTs: the review reads the conversation event log exactly as the chat gateway writes it. Each
conversation here goes through the same calls a live chat does, inside one
:meth:`services.conversations.lifecycle.Conversations.run_sync` unit of work: the conversation row and its
``conversation_opened`` event, ``ChatService._logged_message`` for the customer's messages,
``ChatService._log_turn`` for the bot's reading and replies (fallback, KB answer, "did this help?" feedback),
``Tx.set_status`` for an escalation, and the CSAT event. Used by the review tests, the 10k-conversation
measurement and ``scripts/lead_screenshots.py``.

A spec is a dict::

    {"language": "pt", "at": datetime (naive UTC), "turns": [
        {"text": "cade meu pedido", "intent": "order_status", "confidence": 0.93,
         "entities": [...], "reply": "Seu pedido...", "actions": ["action_order_status"],
         "kb": {"article_id": ..., "title": ..., "url": ..., "score": ...},   # a KB answer shown
         "kb_feedback": ("rastrear-pedido", False)},                          # "didn't help"
     ], "escalate": {"reason": "frustration", "detail": "...", "team": "atendimento"}, "csat": 2}
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from services.chat.rasa_client import Turn
from services.conversations import kinds
from services.conversations import status as st
from services.conversations.lifecycle import Tx
from services.conversations.models import Conversation

FALLBACK_INTENT = "nlu_fallback"


def _write(tx: Tx, chat: Any, spec: dict[str, Any]) -> str:
    from services.chat.tokens import new_conversation_id

    at: datetime = spec["at"]
    tick = iter(range(10_000))
    tx.clock = lambda: at + timedelta(seconds=next(tick) * 5)
    conv = Conversation(id=new_conversation_id(), language=spec.get("language", "pt"), status=st.BOT, last_seq=0,
                        created_at=at, updated_at=at)
    tx.session.add(conv)
    tx.session.flush()
    tx.append(conv.id, kinds.OPENED, "customer", status=st.BOT, language=conv.language, channel="web")
    for turn in spec.get("turns", []):
        message = chat._logged_message(tx, conv.id, "customer", kinds.CUSTOMER_MESSAGE, "customer", turn["text"])
        custom: dict[str, Any] = {}
        if turn.get("kb"):
            custom["kb"] = {"asked": "helped", **turn["kb"]}
        if turn.get("kb_feedback"):
            article, helped = turn["kb_feedback"]
            custom["kb"] = {"feedback": "helped" if helped else "not_helped", "article_id": article}
        reply: dict[str, Any] = {"text": turn.get("reply", "")}
        if custom:
            reply["custom"] = custom
        intent = turn.get("intent")
        ranking = [{"name": intent, "confidence": turn.get("confidence", 0.0)}] if intent else []
        chat._log_turn(tx, message, Turn(replies=[reply], intent=intent, confidence=turn.get("confidence", 0.0),
                                         entities=turn.get("entities", []), actions=turn.get("actions", []),
                                         ranking=ranking, language=conv.language))
    escalate = spec.get("escalate")
    team = None
    if escalate:
        team = escalate.get("team", "atendimento")
        tx.set_status(conv.id, st.QUEUED, kinds.ESCALATED, "bot", expect=st.WITH_BOT, team=team,
                      reason=escalate["reason"], reason_detail=escalate.get("detail", ""), intent=None,
                      route="demo")
        tx.append(conv.id, kinds.QUEUED, "system", team=team, waiting="queued", why=None, priority=3, position=1,
                  estimated_wait_minutes=None, language=conv.language)
    if spec.get("csat"):
        conv.csat_rating, conv.csat_at = spec["csat"], tx.clock()
        tx.append(conv.id, kinds.CSAT, "customer", team=team, rating=spec["csat"],
                  comment=spec.get("csat_comment"))
    return conv.id


def seed(conversations: Any, chat: Any, specs: Iterable[dict[str, Any]], batch: int = 200) -> list[str]:
    """Write the specs, ``batch`` conversations per transaction; their ids in order."""
    ids: list[str] = []
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        if pending:
            written, _ = conversations.run_sync(lambda tx: [_write(tx, chat, spec) for spec in pending])
            ids.extend(written)
            pending.clear()

    for spec in specs:
        pending.append(spec)
        if len(pending) >= batch:
            flush()
    flush()
    return ids


# -- realistic variety ---------------------------------------------------------------------------------------
PT = [
    ("cadê meu pedido {n}", "order_status", "Seu pedido {n} está em separação.", ["action_order_status"]),
    ("quero trocar o tamanho do tênis", "exchange_request", "Você pode trocar em até 30 dias.", []),
    ("como faço para devolver um produto", "return_policy", "A devolução é grátis em até 7 dias.", []),
    ("meu cartão foi cobrado duas vezes", "payment_issue", "Vou verificar a cobrança para você.", []),
    ("qual o prazo de entrega para Recife", "delivery_time", "Para Recife, de 5 a 8 dias úteis.", []),
    ("o fone buds não conecta no celular", "product_support", "Tente reiniciar o pareamento.", []),
    ("vcs tem loja fisica em bh?", "store_locations", "Temos loja no Shopping Savassi.", []),
    ("quero cancelar minha compra", "cancel_order", "Posso cancelar se ainda não saiu.", ["action_cancel_order"]),
]
EN = [
    ("where is my order {n}", "order_status", "Your order {n} is being packed.", ["action_order_status"]),
    ("how do I return a product", "return_policy", "Returns are free within 7 days.", []),
    ("my card was charged twice", "payment_issue", "Let me check that charge.", []),
    ("the buds earphones won't pair", "product_support", "Try resetting the pairing.", []),
]
ODD = [("asdf qwer", 0.21), ("vocês vendem geladeira de cerveja artesanal?", 0.34), ("kkkk ok", 0.42),
       ("meu gato comeu o cabo do carregador, cobre?", 0.38), ("vcs parcelam no boleto?", 0.31),
       ("da pra parcelar no boleto", 0.33), ("parcelamento no boleto bancário existe?", 0.29),
       ("o app trava quando abro o carrinho", 0.36), ("aplicativo travando no carrinho", 0.35),
       ("tem cupom pra primeira compra?", 0.44), ("cupom de desconto primeira compra", 0.4),
       ("posso retirar na loja hoje?", 0.39), ("entregam no sábado?", 0.37)]
KB = {"order_status": ("rastrear-pedido", "Como rastrear meu pedido", "/ajuda/rastrear-pedido"),
      "return_policy": ("politica-de-devolucao", "Política de devolução", "/ajuda/politica-de-devolucao"),
      "product_support": ("buds-pareamento", "Buds: como parear", "/ajuda/buds-pareamento")}
REASONS = ("customer_request", "repeated_fallback", "frustration", "unanswered_repeat")


def random_specs(count: int, now: datetime, days: int = 60, seed_value: int = 7) -> list[dict[str, Any]]:
    """``count`` varied conversations over the last ``days`` days (deterministic for a given seed)."""
    rng = random.Random(seed_value)
    specs = []
    for _ in range(count):
        language = "en" if rng.random() < 0.25 else "pt"
        bank = EN if language == "en" else PT
        at = now - timedelta(days=rng.random() * days)
        turns: list[dict[str, Any]] = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            if rng.random() < 0.15:
                text, confidence = rng.choice(ODD)
                turns.append({"text": text, "intent": FALLBACK_INTENT, "confidence": confidence,
                              "reply": "Desculpe, não entendi." if language == "pt" else "Sorry, I didn't get that."})
                continue
            text, intent, reply, actions = rng.choice(bank)
            number = str(rng.randint(20_000_000, 29_999_999))
            turn: dict[str, Any] = {"text": text.format(n=number), "intent": intent,
                                    "confidence": round(rng.uniform(0.45, 0.99), 3),
                                    "reply": reply.format(n=number), "actions": actions}
            if "{n}" in text:
                turn["entities"] = [{"entity": "order_number", "value": number}]
            if intent in KB and rng.random() < 0.5:
                article, title, url = KB[intent]
                turn["kb"] = {"article_id": article, "title": title, "url": url, "score": round(rng.uniform(.5, .9), 3)}
                turns.append(turn)
                helped = rng.random() < 0.7
                turns.append({"text": "sim" if helped else "não", "intent": "affirm" if helped else "deny",
                              "confidence": 0.99, "reply": "Que bom!" if helped else "Poxa, desculpe.",
                              "kb_feedback": (article, helped)})
                continue
            turns.append(turn)
        spec: dict[str, Any] = {"language": language, "at": at, "turns": turns}
        if rng.random() < 0.2:
            spec["escalate"] = {"reason": rng.choice(REASONS), "team": rng.choice(("atendimento", "suporte")),
                                "detail": ""}
        if rng.random() < 0.3:
            spec["csat"] = rng.randint(1, 5)
        specs.append(spec)
    return specs
