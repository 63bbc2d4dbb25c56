"""Order-status actions with real rasa-sdk objects: number formats, readable answers, backend down."""

from __future__ import annotations

import socket

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.order_status import (
    ActionCheckOrderStatus,
    ValidateOrderStatusForm,
    describe_order,
    normalise_order_number,
)


def tracker(slots: dict, text: str = "") -> Tracker:
    return Tracker("test-user", slots, {"text": text, "intent": {"name": "inform"}}, [], False, None,
                   {"name": "order_status_form"}, "action_listen")


@pytest.mark.parametrize("typed, expected", [("20481234", "20481234"), ("#20481234", "20481234"),
                                             ("PED-20481234", "20481234"), ("2048 1234", "20481234"),
                                             ("1234", None), ("123456789", None), ("", None), (None, None),
                                             ("meu pedido", None)])
def test_normalise_order_number(typed, expected) -> None:
    assert normalise_order_number(typed) == expected


@pytest.mark.parametrize("lang, phrase", [("pt", "não parece um número de pedido"),
                                          ("en", "doesn't look like an order number")])
def test_malformed_number_is_explained_in_the_customers_language(lang: str, phrase: str) -> None:
    dispatcher = CollectingDispatcher()
    result = ValidateOrderStatusForm().validate_order_number("12", dispatcher, tracker({"language": lang}), {})
    assert result == {"order_number": None}
    assert phrase in dispatcher.messages[0]["text"]


def test_valid_number_is_normalised() -> None:
    dispatcher = CollectingDispatcher()
    result = ValidateOrderStatusForm().validate_order_number("#2048-1234", dispatcher, tracker({}), {})
    assert result == {"order_number": "20481234"} and not dispatcher.messages


def test_describe_shipped_order_in_both_languages() -> None:
    order = {"number": "20481234", "status": "shipped", "items": [{"name": "Lumo Watch 2", "qty": 1}],
             "carrier": "Correios", "tracking_code": "QB1BR", "estimated_delivery": "2026-11-25", "late": False}
    pt = describe_order(order, "pt")
    en = describe_order(order, "en")
    assert "a caminho" in pt and "QB1BR" in pt and "25/11/2026" in pt
    assert "on its way" in en and "QB1BR" in en and "11/25/2026" in en


def test_late_order_offers_help() -> None:
    order = {"number": "1", "status": "shipped", "items": [], "carrier": None, "estimated_delivery": "2026-01-02",
             "late": True}
    assert "atrasado" in describe_order(order, "pt")
    assert "running late" in describe_order(order, "en")


@pytest.mark.parametrize("lang, phrase", [("pt", "fora do ar"), ("en", "unavailable")])
def test_backend_down_gets_a_clear_answer(monkeypatch, lang: str, phrase: str) -> None:
    with socket.socket() as sock:  # a port with nobody listening: the real "connection refused"
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    monkeypatch.setenv("SERVICES_URL", f"http://127.0.0.1:{closed_port}")
    dispatcher = CollectingDispatcher()
    events = ActionCheckOrderStatus().run(dispatcher, tracker({"language": lang, "order_number": "20481234"}), {})
    assert phrase in dispatcher.messages[0]["text"]
    assert {"event": "slot", "name": "order_number", "value": None, "timestamp": None} in events
