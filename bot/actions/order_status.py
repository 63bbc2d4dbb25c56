"""Order status: the form that collects the order number and the action that asks the order backend.

The backend is the services app's ``GET /api/orders/{number}``, called the way a real retailer's order
system would be: over HTTP with a timeout. Malformed numbers, unknown orders and an unreachable backend each
get their own clear answer in the customer's language.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import services_client
from bot.actions.escalation import consult, hand_over
from bot.actions.language import SUPPORTED, conversation_language, say
from textnorm import normalise_order_number


def signed_customer(tracker: Tracker) -> str | None:
    """The customer id the chat gateway set from a verified identity (``customer_id`` slot), else ``None``."""
    value = tracker.get_slot("customer_id")
    return value if isinstance(value, str) and value.strip() else None


class ValidateOrderStatusForm(FormValidationAction):
    """Validates ``order_number`` so a malformed number is explained and asked for again."""

    def name(self) -> str:
        return "validate_order_status_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        """A signed-in customer who gave no number is not asked for one: their latest order is looked up."""
        if signed_customer(tracker) and not tracker.get_slot("order_number"):
            return []
        return domain_slots

    def validate_order_number(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if isinstance(slot_value, list):  # several numbers in one message: take the first valid one
            slot_value = next((v for v in slot_value if normalise_order_number(v)), slot_value[0] if slot_value else None)
        number = normalise_order_number(slot_value)
        if number:
            return {"order_number": number}
        lang = conversation_language(tracker)
        dispatcher.utter_message(text=say("order.invalid_number", lang))
        return {"order_number": None}


class ActionAskOrderNumber(Action):
    """Asks for the order number; an action rather than a response so the wording can vary by language
    and the first ask differs from a repeated one (after a malformed number)."""

    def name(self) -> str:
        return "action_ask_order_status_form_order_number"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = conversation_language(tracker)
        ask_texts = {say(key, language) for key in ("order.ask", "order.ask_again") for language in SUPPORTED}
        asked_before = any(e.get("event") == "bot" and e.get("text") in ask_texts for e in tracker.events[-12:])
        dispatcher.utter_message(text=say("order.ask_again" if asked_before else "order.ask", lang))
        return []


def _format_date(iso: str | None, lang: str) -> str:
    if not iso:
        return ""
    return date.fromisoformat(iso[:10]).strftime(say("order.date_format", lang))


def _status(status: str, lang: str) -> str:
    """The order status in words; an unknown status (a new backend state) is shown as it came."""
    try:
        return say(f"order.status.{status}", lang)
    except ValueError:
        return status


def describe_order(order: dict[str, Any], lang: str) -> str:
    """One readable paragraph about an order, in the customer's language."""
    number = order["number"]
    items = ", ".join(f'{item["qty"]}x {item["name"]}' for item in order.get("items", []))
    parts = [say("order.summary", lang, number=number, items=items, status=_status(order["status"], lang))]
    eta = _format_date(order.get("estimated_delivery"), lang)
    if order["status"] == "shipped" and order.get("carrier"):
        parts.append(say("order.carrier", lang, carrier=order["carrier"], tracking_code=order["tracking_code"]))
    if order["status"] == "delivered" and order.get("delivered_at"):
        parts.append(say("order.delivered_on", lang, date=_format_date(order["delivered_at"], lang)))
    elif order.get("late"):
        parts.append(say("order.late", lang, date=eta))
    elif eta and order["status"] not in {"cancelled", "delivered"}:
        parts.append(say("order.eta", lang, date=eta))
    if order["status"] == "payment_pending":
        parts.append(say("order.boleto", lang))
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
        customer = signed_customer(tracker)
        if customer and not tracker.get_slot("order_number"):
            return self._latest_order(dispatcher, customer, lang)
        number = normalise_order_number(tracker.get_slot("order_number"))
        if number is None:
            dispatcher.utter_message(text=say("order.unreadable", lang))
            return [SlotSet("order_number", None)]
        result = services_client.call("GET", f"/api/orders/{number}")
        if result.ok and isinstance(result.body, dict):
            dispatcher.utter_message(text=describe_order(result.body, lang),
                                     json_message={"order": {"number": number, "status": result.body["status"]}})
        elif result.status == 404:
            dispatcher.utter_message(text=say("order.not_found", lang, number=number))
        else:
            dispatcher.utter_message(text=say("order.backend_down", lang))
        # The number is cleared so the next "where is my order?" asks again instead of reusing a stale one.
        return [SlotSet("order_number", None)]

    @staticmethod
    def _latest_order(dispatcher: CollectingDispatcher, customer_id: str, lang: str) -> list[EventType]:
        """The signed-in customer's latest order (internal endpoint: the id came from a signed identity)."""
        result = services_client.call("GET", f"/api/orders/customers/{quote(customer_id, safe='')}/latest")
        if result.ok and isinstance(result.body, dict):
            number = result.body["number"]
            dispatcher.utter_message(text=describe_order(result.body, lang),
                                     json_message={"order": {"number": number, "status": result.body["status"]}})
        elif result.status == 404:
            dispatcher.utter_message(text=say("order.none_for_customer", lang))
        else:
            dispatcher.utter_message(text=say("order.backend_down", lang))
        return [SlotSet("order_number", None)]
