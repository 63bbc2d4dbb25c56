"""The widget's texts come from the catalogue and follow the conversation's language (real Chromium, Rasa down)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browser import DESKTOP, Widget
from tests.web.live import LiveApp
from texts import catalogue

pytestmark = [pytest.mark.browser]


def contact_form_texts(page: Any) -> list[str]:
    form = page.locator("#lumo-chat form.contact")
    return [form.locator("strong").inner_text(), *form.locator("label span").all_inner_texts(),
            form.locator("button[type=submit]").inner_text()]


def test_contact_form_switches_language_with_the_conversation(live_app: LiveApp, browser: Any) -> None:
    """An English page, then the conversation turns out Portuguese: the open contact form turns Portuguese too."""
    en, pt = catalogue().section("widget", "en"), catalogue().section("widget", "pt")
    page = browser.new_page(viewport=DESKTOP, locale="en-US")
    page.goto(live_app.url + "/?lang=en")
    widget = Widget(page).open()
    assert page.locator("#lumo-chat .title").inner_text() == en["title"]
    widget.send("oi, qual o status do meu pedido 20481234")
    page.locator("#lumo-chat .notice.kind-offline form.contact").wait_for(timeout=20_000)
    assert contact_form_texts(page) == [en["contactTitle"], en["name"], en["email"], en["phone"], en["contactSend"]]

    token = page.evaluate("() => Object.entries(localStorage).find(([k]) => k.endsWith(':token'))[1]")
    cid = live_app.app.state.chat_tokens.verify(token)

    async def to_portuguese(app: Any) -> None:
        await app.state.hub.publish(f"conversation:{cid}", {"type": "language", "language": "pt"})

    live_app.call(to_portuguese)
    page.wait_for_function("() => window.LumoChat.state().lang === 'pt'", timeout=10_000)
    assert contact_form_texts(page) == [pt["contactTitle"], pt["name"], pt["email"], pt["phone"], pt["contactSend"]]
    assert page.locator("#lumo-chat .title").inner_text() == pt["title"]
    assert page.locator("#lumo-chat textarea.input").get_attribute("placeholder") == pt["placeholder"]
    page.close()
