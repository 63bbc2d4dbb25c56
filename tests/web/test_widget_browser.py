"""The chat widget in a real headless Chromium, against a live services app (Rasa down on purpose).

Covers what does not need the bot: safe rendering, keyboard/ARIA, reload history, offline queue,
server restart, phone layout, limits, the agent side (names, typing, notices) and CSAT. The bot
conversations themselves are in test_widget_stack.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.chat.models import ChatMessage, ContactRequest, Conversation
from services.conversations import kinds
from tests.web.browser import DESKTOP, PHONE, Widget, normalise
from tests.web.live import LiveApp

pytestmark = [pytest.mark.browser]


@pytest.fixture()
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=DESKTOP, locale="pt-BR")
    try:
        yield ctx
    finally:
        ctx.close()


def token_of(page: Any) -> str:
    return page.evaluate("() => Object.entries(localStorage).find(([k]) => k.endsWith(':token'))[1]")


def conversation_id(live_app: LiveApp, page: Any) -> str:
    return live_app.app.state.chat_tokens.verify(token_of(page))


def stored_messages(live_app: LiveApp, page: Any) -> list[ChatMessage]:
    cid = conversation_id(live_app, page)
    with live_app.app.state.db.session() as s:
        return list(s.scalars(select(ChatMessage).where(ChatMessage.conversation_id == cid)
                              .order_by(ChatMessage.seq)))


def test_every_page_has_the_widget_and_loads_nothing_from_elsewhere(live_app: LiveApp, context: Any) -> None:
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    for path in ("/", "/help/pt", "/help/en", "/help/pt/search?q=pix"):
        page.goto(live_app.url + path)
        launcher = Widget(page).launcher
        launcher.wait_for(state="visible")
        assert launcher.get_attribute("aria-expanded") == "false"
        assert launcher.get_attribute("aria-label") in {"Abrir chat de atendimento", "Open support chat"}
    Widget(page).open()
    outside = [u for u in requests if not u.startswith((live_app.url, "ws://127.0.0.1", "data:"))]
    assert outside == [] and errors == []


def test_keyboard_only_use_and_aria_roles(live_app: LiveApp, context: Any) -> None:
    page = context.new_page()
    page.goto(live_app.url + "/help/pt")
    widget = Widget(page)
    widget.launcher.focus()
    page.keyboard.press("Enter")
    widget.panel.wait_for(state="visible")
    assert widget.launcher.get_attribute("aria-expanded") == "true"
    assert widget.panel.get_attribute("role") == "dialog"
    assert widget.log.get_attribute("role") == "log" and widget.log.get_attribute("aria-live") == "polite"
    page.wait_for_function("() => document.querySelector('#lumo-chat').shadowRoot.activeElement?.tagName === 'TEXTAREA'")
    widget.wait_connected()
    page.keyboard.type("oi, tudo bem?")
    page.keyboard.press("Enter")
    widget.messages("customer").first.wait_for()
    page.keyboard.press("Escape")
    widget.panel.wait_for(state="hidden")
    assert page.evaluate("() => document.querySelector('#lumo-chat').shadowRoot.activeElement?.className") \
        == "launcher"


def test_html_typed_by_a_customer_is_shown_as_text(live_app: LiveApp, context: Any) -> None:
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(live_app.url + "/")
    widget = Widget(page).open()
    hostile = ('<img src=x onerror="window.__xss=1"><b>negrito</b><script>window.__xss=2</script> '
               '[clique](javascript:window.__xss=3) veja https://lumo.com.br/ajuda')
    widget.send(hostile)
    widget.wait_all_sent()
    body = widget.messages("customer").last.locator(".body")
    assert normalise(body.inner_text()).startswith(normalise(hostile.split(" veja")[0]))
    assert body.locator("img, b, script").count() == 0
    links = body.locator("a")
    assert links.count() == 1 and links.first.get_attribute("href") == "https://lumo.com.br/ajuda"
    assert links.first.get_attribute("rel") == "noopener noreferrer"
    assert page.evaluate("() => window.__xss") is None and dialogs == []
    assert stored_messages(live_app, page)[0].text == hostile


def test_rasa_down_shows_a_notice_and_stores_contact_details(live_app: LiveApp, context: Any) -> None:
    page = context.new_page()
    page.goto(live_app.url + "/")
    widget = Widget(page).open()
    widget.send("qual o status do meu pedido 20481234")
    notice = page.locator("#lumo-chat .notice.kind-offline").first
    notice.wait_for(timeout=20_000)
    assert "fora do ar" in notice.inner_text()
    form = notice.locator("form.contact")
    form.locator("input[name=name]").fill("Joana")
    widget.send("alguem ai??")
    page.locator("#lumo-chat .notice.kind-offline").nth(1).wait_for(timeout=20_000)
    assert page.locator("#lumo-chat form.contact").count() == 1  # the form moved to the newest notice
    form = page.locator("#lumo-chat .notice.kind-offline").nth(1).locator("form.contact")
    assert form.locator("input[name=name]").input_value() == "Joana"
    form.locator("input[name=email]").fill("joana@example.com")
    form.locator("button[type=submit]").click()
    page.locator("#lumo-chat .notice.kind-contact_saved").wait_for()
    assert page.locator("#lumo-chat form.contact").count() == 0
    cid = conversation_id(live_app, page)
    with live_app.app.state.db.session() as s:
        rows = s.scalars(select(ContactRequest).where(ContactRequest.conversation_id == cid)).all()
        assert [(r.name, r.email) for r in rows] == [("Joana", "joana@example.com")]
    assert [m.role for m in stored_messages(live_app, page)][:4] == ["customer", "system", "customer", "system"]


def test_reload_shows_the_history(live_app: LiveApp, context: Any) -> None:
    page = context.new_page()
    page.goto(live_app.url + "/help/pt")
    widget = Widget(page).open()
    widget.send("primeira mensagem")
    widget.send("segunda mensagem")
    widget.wait_all_sent()
    page.reload()
    widget = Widget(page).open()
    page.wait_for_function("() => document.querySelector('#lumo-chat').shadowRoot"
                           ".querySelectorAll('.msg.customer').length >= 2")
    assert widget.texts("customer") == ["primeira mensagem", "segunda mensagem"]
    page.goto(live_app.url + "/help/pt/cancelar-pedido")
    widget = Widget(page)
    widget.panel.wait_for(state="visible")  # the panel stays open across pages
    widget.wait_connected()
    page.wait_for_function("() => document.querySelector('#lumo-chat').shadowRoot"
                           ".querySelectorAll('.msg.customer').length >= 2")
    assert widget.texts("customer") == ["primeira mensagem", "segunda mensagem"]


def test_messages_typed_offline_are_delivered_once_when_back(live_app: LiveApp, context: Any) -> None:
    page = context.new_page()
    page.goto(live_app.url + "/")
    widget = Widget(page).open()
    widget.send("antes de cair")
    widget.wait_all_sent()
    context.set_offline(True)
    page.wait_for_function("() => !window.LumoChat.state().connected")
    assert page.locator("#lumo-chat .banner").is_visible()
    widget.send("escrevi sem internet 1")
    widget.send("escrevi sem internet 2")
    assert page.evaluate("() => window.LumoChat.state().outbox") == 2
    assert widget.messages("customer").last.get_attribute("data-state") == "queued"
    context.set_offline(False)
    widget.wait_connected()
    widget.wait_all_sent()
    texts = [m.text for m in stored_messages(live_app, page) if m.role == "customer"]
    assert texts == ["antes de cair", "escrevi sem internet 1", "escrevi sem internet 2"]
    assert widget.texts("customer") == texts


def test_server_restart_mid_conversation(live_app: LiveApp, context: Any) -> None:
    page = context.new_page()
    page.goto(live_app.url + "/")
    widget = Widget(page).open()
    widget.send("antes do restart")
    widget.wait_all_sent()
    live_app.stop()
    page.wait_for_function("() => !window.LumoChat.state().connected", timeout=30_000)
    widget.send("durante o restart")
    banner = page.locator("#lumo-chat .banner")
    banner.wait_for(timeout=30_000)
    assert "0800 555 0123" in banner.inner_text() and "guardadas" in banner.inner_text()
    live_app.start()
    widget.wait_connected(timeout_ms=60_000)
    widget.wait_all_sent()
    assert banner.is_hidden()
    widget.send("depois do restart")
    widget.wait_all_sent()
    texts = [m.text for m in stored_messages(live_app, page) if m.role == "customer"]
    assert texts == ["antes do restart", "durante o restart", "depois do restart"]


def test_phone_viewport(live_app: LiveApp, browser: Any) -> None:
    ctx = browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    try:
        page = ctx.new_page()
        page.goto(live_app.url + "/help/en")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        widget = Widget(page).open()
        box = widget.panel.bounding_box()
        assert box is not None
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, PHONE["width"], PHONE["height"])
        assert not widget.launcher.is_visible()  # the full-screen panel has its own close button
        assert widget.input.get_attribute("placeholder") == "Type your message…"
        widget.send("hello from my phone")
        widget.wait_all_sent()
        page.locator("#lumo-chat .close").click()
        widget.panel.wait_for(state="hidden")
    finally:
        ctx.close()


def test_length_cap_and_empty_message_notices(live_app: LiveApp, context: Any) -> None:
    page = context.new_page()
    page.goto(live_app.url + "/")
    widget = Widget(page).open()
    widget.send("x" * 2001)
    alert = page.locator("#lumo-chat .alert")
    alert.wait_for()
    assert "2000" in alert.inner_text() and alert.get_attribute("role") == "alert"
    assert widget.input.input_value() == "x" * 2001  # nothing typed is lost
    assert widget.messages("customer").count() == 0
    widget.send("   ")
    assert "Escreva uma mensagem" in alert.inner_text()


def test_rate_limit_notice_gives_the_text_back(live_app: LiveApp, context: Any) -> None:
    from services.chat.config import load_chat_config

    chat = live_app.app.state.chat
    original = chat.config
    chat.config = load_chat_config(rate_limit_per_minute=2)
    try:
        page = context.new_page()
        page.goto(live_app.url + "/")
        widget = Widget(page).open()
        widget.send("um")
        widget.send("dois")
        widget.wait_all_sent()
        widget.send("tres")
        alert = page.locator("#lumo-chat .alert")
        alert.wait_for()
        assert "muitas mensagens" in alert.inner_text()
        assert widget.input.input_value() == "tres"
    finally:
        chat.config = original


def test_agent_side_names_typing_notices_buttons_and_csat(live_app: LiveApp, context: Any) -> None:
    """Handoff's calls (ChatService) as the customer sees them, plus a bot message with unsafe links."""
    page = context.new_page()
    page.goto(live_app.url + "/help/pt")
    widget = Widget(page).open()
    widget.send("quero falar com alguem")
    widget.wait_all_sent()
    cid = conversation_id(live_app, page)

    async def queued(app: Any) -> None:
        await app.state.conversations.run(
            lambda tx: tx.set_status(cid, "queued", kinds.ESCALATED, "bot", team="atendimento"))
        await app.state.chat.post_system_notice(cid, "queue", "Você é o 2º da fila.", {"position": 2})

    live_app.call(queued)
    page.locator("#lumo-chat .queue").wait_for()
    assert page.locator("#lumo-chat .queue").inner_text() == "Você é o 2º da fila."
    assert "Aguardando um atendente" in page.locator("#lumo-chat .status").inner_text()
    assert page.locator("#lumo-chat .notice.kind-queue").last.inner_text() == "Você é o 2º da fila."

    async def handoff(app: Any) -> None:
        chat = app.state.chat
        # handoff's listener of agent_joined tells the customer "Marina entrou na conversa.".
        await app.state.conversations.run(lambda tx: tx.set_status(
            cid, "assigned", kinds.AGENT_JOINED, "agent", team="atendimento", agent_name="Marina"))
        await chat.set_typing(cid, "agent", True)

    live_app.call(handoff)
    page.locator("#lumo-chat .typing").wait_for()
    assert "Marina está digitando" in page.locator("#lumo-chat .typing").inner_text()
    assert "Marina" in page.locator("#lumo-chat .status").inner_text()
    assert page.locator("#lumo-chat .queue").is_hidden()

    async def agent_says(app: Any) -> None:
        await app.state.chat.post_agent_message(cid, "Oi! Sou a Marina. Veja [o artigo](/help/pt/cancelar-pedido) "
                                                     "ou [isto](javascript:alert(1)).", "Marina")

    live_app.call(agent_says)
    agent = widget.messages("agent").last
    agent.wait_for()
    assert "Marina · atendente" in agent.locator(".meta").inner_text()
    assert page.locator("#lumo-chat .typing").is_hidden()
    hrefs = agent.locator("a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert hrefs == [live_app.url + "/help/pt/cancelar-pedido"]
    assert "[isto](javascript:alert(1))" in agent.inner_text()

    async def bot_buttons(app: Any) -> None:
        chat = app.state.chat
        await app.state.conversations.run(lambda tx: tx.set_status(
            cid, "bot", kinds.HANDED_BACK, "agent", team="atendimento", agent_name="Marina"))
        message = await chat._store(cid, "bot", "Isso respondeu sua dúvida?",
                                    {"buttons": [{"title": "Sim, ajudou", "payload": "/affirm"},
                                                 {"title": "Não ajudou", "payload": "/deny"}],
                                     "custom": {"kb": {"asked": "helped"}}})
        await chat._broadcast(message)

    live_app.call(bot_buttons)
    group = page.locator("#lumo-chat .replies.helped").last
    group.wait_for()
    assert group.get_attribute("role") == "group" and group.get_attribute("aria-label") == "Isso ajudou?"
    group.get_by_role("button", name="Sim, ajudou").click()
    widget.wait_all_sent()
    last_customer = [m for m in stored_messages(live_app, page) if m.role == "customer"][-1]
    assert last_customer.text == "Sim, ajudou" and last_customer.payload == {"rasa_payload": "/affirm"}
    assert group.locator("button:disabled").count() == 2

    async def ask_csat(app: Any) -> None:
        await app.state.chat.request_csat(cid)

    live_app.call(ask_csat)
    csat = page.locator("#lumo-chat form.csat")
    csat.wait_for()
    csat.get_by_role("radio", name="Nota 4 de 5").click()
    csat.locator("textarea").fill("atendimento rapido, valeu")
    csat.get_by_role("button", name="Enviar avaliação").click()
    page.locator("#lumo-chat .notice.kind-csat_thanks").wait_for()
    with live_app.app.state.db.session() as s:
        conv = s.get(Conversation, cid)
        assert (conv.csat_rating, conv.csat_comment) == (4, "atendimento rapido, valeu")


def test_widget_script_weight_is_small(live_app: LiveApp) -> None:
    """The widget must stay light enough for any page (budget: 50 KB raw, 15 KB gzip, JS + CSS)."""
    import gzip

    total_raw = total_gz = 0
    for path in ("/static/chat/widget.js", "/static/chat/widget.css"):
        body = httpx.get(live_app.url + path).content
        total_raw += len(body)
        total_gz += len(gzip.compress(body, 9))
    assert total_raw < 50_000 and total_gz < 15_000


def test_widget_embedded_on_another_site(live_app: LiveApp, context: Any, tmp_path: Any) -> None:
    """One script tag on a foreign origin: styles, WebSocket and the contact form (CORS) all work.

    The partner page is served by a plain HTTP server on another port (another origin than the app's);
    both are on loopback, so Chromium's local-network rules do not interfere.
    """
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="en"><head><title>Partner shop</title></head><body><h1>Partner shop</h1>'
        f'<script src="{live_app.url}/static/chat/widget.js" defer></script></body></html>', encoding="utf-8")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    partner = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=partner.serve_forever, daemon=True).start()
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{partner.server_address[1]}/index.html")
        widget = Widget(page).open()
        assert widget.input.get_attribute("placeholder") == "Type your message…"  # follows <html lang="en">
        assert page.evaluate("() => getComputedStyle(document.querySelector('#lumo-chat').shadowRoot"
                             ".querySelector('.launcher')).position") == "fixed"
        widget.send("hello, anyone there?")
        form = page.locator("#lumo-chat form.contact")
        form.wait_for(timeout=20_000)
        form.locator("input[name=phone]").fill("+55 11 98765-4321")
        form.locator("button[type=submit]").click()
        page.locator("#lumo-chat .notice.kind-contact_saved").wait_for()
        assert "Thank you" in page.locator("#lumo-chat .notice.kind-contact_saved").inner_text()
    finally:
        partner.shutdown()


def test_unread_badge_while_the_panel_is_closed(live_app: LiveApp, context: Any) -> None:
    page = context.new_page()
    page.goto(live_app.url + "/")
    widget = Widget(page).open()
    widget.send("vou fechar o chat, me avisa")
    widget.wait_all_sent()
    page.locator("#lumo-chat .close").click()
    widget.panel.wait_for(state="hidden")
    cid = conversation_id(live_app, page)

    async def agent_says(app: Any) -> None:
        await app.state.chat.post_agent_message(cid, "Oi! Já vi seu pedido.", "Caio")

    live_app.call(agent_says)
    badge = page.locator("#lumo-chat .badge")
    badge.wait_for()
    assert badge.inner_text() == "1"
    assert "1 mensagem(ns) nova(s)" in widget.launcher.get_attribute("aria-label")
    widget.launcher.click()
    badge.wait_for(state="hidden")
    assert widget.messages("agent").last.locator(".body").inner_text() == "Oi! Já vi seu pedido."
