"""The widget against the real product (Rasa server + action server + services app from tests/stack.py).

These are the customer journeys of issue #5: chat in Portuguese and in English, an order status from the
demo backend, reload, and a restart of the services app in the middle of a conversation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.web.browser import DESKTOP, PHONE, Widget, wait_for_bot_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture()
def new_page(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(locale: str = "pt-BR", viewport: dict | None = None) -> Any:
        ctx = browser.new_context(viewport=viewport or DESKTOP, locale=locale)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def customer_history(stack: Any, page: Any) -> list[dict]:
    token = page.evaluate("() => Object.entries(localStorage).find(([k]) => k.endsWith(':token'))[1]")
    response = httpx.get(f"{stack.services_url}/api/chat/history", headers={"Authorization": f"Bearer {token}"})
    return response.json()["messages"]


def test_chat_in_portuguese_with_order_status(stack: Any, new_page: Any) -> None:
    page = new_page("pt-BR")
    page.goto(stack.services_url + "/")
    widget = Widget(page).open()
    count = widget.bot_count()
    widget.send("oi, boa tarde")
    assert widget.wait_for_reply(count)
    widget.send("qual o status do meu pedido 20481234?")
    reply = wait_for_bot_text(page, r"pedido\s+20481234")
    assert "Seu pedido 20481234" in reply
    page.reload()
    widget = Widget(page).open()
    assert "qual o status do meu pedido 20481234?" in widget.texts("customer")
    assert any("Seu pedido 20481234" in t for t in widget.texts("bot"))
    roles = [m["role"] for m in customer_history(stack, page)]
    assert roles.count("customer") == 2 and "system" not in roles


def test_chat_in_english_switches_the_interface(stack: Any, new_page: Any) -> None:
    page = new_page("pt-BR")  # a Portuguese page: the conversation's language wins once the bot detects English
    page.goto(stack.services_url + "/help/pt")
    widget = Widget(page).open()
    widget.send("hi there, where is my order #20481234? it's been a week")
    reply = wait_for_bot_text(page, r"order\s+20481234")
    assert "Your order 20481234" in reply
    page.wait_for_function("() => window.LumoChat.state().lang === 'en'", timeout=20_000)
    assert widget.input.get_attribute("placeholder") == "Type your message…"
    assert page.locator("#lumo-chat .msg.greeting .body").inner_text().startswith("Hi! I'm Lumo's virtual assistant")


def test_services_restart_mid_conversation(stack: Any, new_page: Any) -> None:
    page = new_page("pt-BR", PHONE)
    page.goto(stack.services_url + "/")
    widget = Widget(page).open()
    widget.send("oi")
    widget.wait_all_sent()
    wait_for_bot_text(page, r"\w")
    stack.restart("services")
    widget.wait_connected(timeout_ms=60_000)
    widget.send("pedido 20481234, ja chegou?")
    reply = wait_for_bot_text(page, r"pedido\s+20481234")
    assert "20481234" in reply
    customer = [m["text"] for m in customer_history(stack, page) if m["role"] == "customer"]
    assert customer == ["oi", "pedido 20481234, ja chegou?"]
