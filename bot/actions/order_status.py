"""Order status: the form that collects the order number and the action that asks the order backend.

The backend is the services app's ``GET /api/orders/{number}``, called the way a real retailer's order
system would be: over HTTP with a timeout. Malformed numbers, unknown orders and an unreachable backend each
get their own clear answer in the customer's language.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import services_client
from bot.actions.escalation import consult, hand_over
from bot.actions.language import conversation_language, pick
from textnorm import normalise_order_number


class ValidateOrderStatusForm(FormValidationAction):
    """Validates ``order_number`` so a malformed number is explained and asked for again."""

    def name(self) -> str:
        return "validate_order_status_form"

    def validate_order_number(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if isinstance(slot_value, list):  # several numbers in one message: take the first valid one
            slot_value = next((v for v in slot_value if normalise_order_number(v)), slot_value[0] if slot_value else None)
        number = normalise_order_number(slot_value)
        if number:
            return {"order_number": number}
        lang = conversation_language(tracker)
        dispatcher.utter_message(text=pick(
            lang,
            "Hmm, isso não parece um número de pedido. Ele tem 8 dígitos (por exemplo 20481234) e aparece em "
            "Meus pedidos e no e-mail de confirmação.",
            "Hmm, that doesn't look like an order number. It has 8 digits (for example 20481234) and you can "
            "find it under My orders or in the confirmation e-mail.",
        ))
        return {"order_number": None}


ASK_ORDER_NUMBER = (
    ("Claro! Qual é o número do pedido? Ele tem 8 dígitos (ex.: 20481234) e aparece em Meus pedidos e no "
     "e-mail de confirmação.",
     "Sure! What's your order number? It has 8 digits (e.g. 20481234) and is in \"My orders\" and in the "
     "confirmation e-mail."),
    ("Me passa o número do pedido, por favor (8 dígitos, como 20481234). Ele está em Meus pedidos ou no e-mail "
     "de confirmação.",
     "Please send me the order number (8 digits, like 20481234). You'll find it in \"My orders\" or in the "
     "confirmation e-mail."),
)


class ActionAskOrderNumber(Action):
    """Asks for the order number; an action rather than a response so the wording can vary by language
    and the first ask differs from a repeated one (after a malformed number)."""

    def name(self) -> str:
        return "action_ask_order_status_form_order_number"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = conversation_language(tracker)
        ask_texts = {text for variant in ASK_ORDER_NUMBER for text in variant}
        asked_before = any(e.get("event") == "bot" and e.get("text") in ask_texts for e in tracker.events[-12:])
        pt, en = ASK_ORDER_NUMBER[1 if asked_before else 0]
        dispatcher.utter_message(text=pick(lang, pt, en))
        return []


STATUS_TEXT = {
    "payment_pending": ("aguardando a confirmação do pagamento", "waiting for payment confirmation"),
    "payment_approved": ("com pagamento aprovado e indo para separação", "paid and about to be picked"),
    "in_separation": ("em separação no nosso centro de distribuição", "being picked at our warehouse"),
    "shipped": ("a caminho", "on its way"),
    "delivered": ("entregue", "delivered"),
    "cancelled": ("cancelado", "cancelled"),
}


def _format_date(iso: str | None, lang: str) -> str:
    if not iso:
        return ""
    day = date.fromisoformat(iso[:10])
    return day.strftime("%m/%d/%Y") if lang == "en" else day.strftime("%d/%m/%Y")


def describe_order(order: dict[str, Any], lang: str) -> str:
    """One readable paragraph about an order, in the customer's language."""
    number = order["number"]
    status_pt, status_en = STATUS_TEXT.get(order["status"], (order["status"], order["status"]))
    items = ", ".join(f'{item["qty"]}x {item["name"]}' for item in order.get("items", []))
    parts = [pick(lang, f"Seu pedido {number} ({items}) está {status_pt}.",
                  f"Your order {number} ({items}) is {status_en}.")]
    eta = _format_date(order.get("estimated_delivery"), lang)
    if order["status"] == "shipped" and order.get("carrier"):
        parts.append(pick(lang,
                          f"Transportadora: {order['carrier']}, código de rastreio {order['tracking_code']}.",
                          f"Carrier: {order['carrier']}, tracking code {order['tracking_code']}."))
    if order["status"] == "delivered" and order.get("delivered_at"):
        parts.append(pick(lang, f"Entregue em {_format_date(order['delivered_at'], lang)}.",
                          f"Delivered on {_format_date(order['delivered_at'], lang)}."))
    elif order.get("late"):
        parts.append(pick(
            lang,
            f"A previsão era {eta} e ele está atrasado. Desculpe! Se quiser, posso te passar para um atendente "
            "abrir uma reclamação com a transportadora.",
            f"It was due on {eta} and is running late. Sorry! If you like, I can pass you to an agent to open a "
            "claim with the carrier.",
        ))
    elif eta and order["status"] not in {"cancelled", "delivered"}:
        parts.append(pick(lang, f"Previsão de entrega: {eta}.", f"Estimated delivery: {eta}."))
    if order["status"] == "payment_pending":
        parts.append(pick(lang, "Boletos levam até 3 dias úteis para compensar.",
                          "Boleto payments take up to 3 business days to clear."))
    return " ".join(parts)


class ActionCheckOrderStatus(Action):
    """Looks the order up in the backend and tells the customer where it is."""

    def name(self) -> str:
        return "action_check_order_status"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        outcome = consult(tracker, immediate_only=True)  # "que absurdo, cade meu pedido??" goes to a person first
        if outcome.escalated:
            return [SlotSet("order_number", None), *hand_over(dispatcher, outcome)]
        lang = conversation_language(tracker)
        number = normalise_order_number(tracker.get_slot("order_number"))
        if number is None:
            dispatcher.utter_message(text=pick(lang, "Não consegui identificar o número do pedido.",
                                               "I couldn't read the order number."))
            return [SlotSet("order_number", None)]
        result = services_client.call("GET", f"/api/orders/{number}")
        if result.ok and isinstance(result.body, dict):
            dispatcher.utter_message(text=describe_order(result.body, lang),
                                     json_message={"order": {"number": number, "status": result.body["status"]}})
        elif result.status == 404:
            dispatcher.utter_message(text=pick(
                lang,
                f"Não encontrei nenhum pedido com o número {number}. Confere no e-mail de confirmação ou em "
                "Meus pedidos e me manda de novo?",
                f"I couldn't find any order with number {number}. Could you check the confirmation e-mail or "
                "My orders and send it again?",
            ))
        else:
            dispatcher.utter_message(text=pick(
                lang,
                "Nosso sistema de pedidos está fora do ar agora e não consegui consultar. Tente de novo em alguns "
                "minutos ou acompanhe em Meus pedidos no app. Se preferir, peça para falar com um atendente.",
                "Our order system is unavailable right now and I couldn't check. Please try again in a few "
                "minutes or follow it under My orders in the app. You can also ask for an agent.",
            ))
        # The number is cleared so the next "where is my order?" asks again instead of reusing a stale one.
        return [SlotSet("order_number", None)]
