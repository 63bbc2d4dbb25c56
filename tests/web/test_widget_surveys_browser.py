"""The widget's surveys in a real headless Chromium, by keyboard only: CSAT, then NPS (0-10), answered and skipped;
and the signed identity a shop's page passes the widget (accepted, or refused and the chat goes on anonymously).

The questions are asked the way the product asks them (ChatService, here called on the live app's loop); the
customer uses only the keyboard: the survey takes the focus when it arrives, arrow keys choose inside the radio
group (one tab stop), Tab reaches the comment and the buttons, Enter sends. What is stored is read back from the
event log.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.chat.identity import sign
from services.conversations import kinds
from services.conversations.models import Conversation
from tests.web.browser import Widget
from tests.web.live import LiveApp
from tests.web.test_widget_browser import context, conversation_id  # noqa: F401  (the context fixture)

pytestmark = [pytest.mark.browser]
SHOP_SECRET = "browser-test-identity-secret"
ACTIVE = "() => { const a = document.querySelector('#lumo-chat').shadowRoot.activeElement; " \
         "return a ? (a.getAttribute('aria-label') || a.textContent || a.tagName) : null; }"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The live app of tests/web/live.py, with an identity secret (read from the environment at start-up)."""
    os.environ["IDENTITY_SECRET"] = SHOP_SECRET
    try:
        app = LiveApp(Path(tmp_path_factory.mktemp("surveys-live"))).start()
    finally:
        del os.environ["IDENTITY_SECRET"]
    try:
        yield app
    finally:
        app.stop()


def focused(page: Any) -> str | None:
    return page.evaluate(ACTIVE)


def wait_focus(page: Any, label: str) -> None:
    page.wait_for_function(f"(l) => ({ACTIVE})() === l", arg=label, timeout=10_000)


def logged(live_app: LiveApp, cid: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in live_app.app.state.conversations.history(cid) if e["kind"] == kind]


def start(live_app: LiveApp, context: Any) -> tuple[Any, Widget, str]:  # noqa: F811
    page = context.new_page()
    page.goto(live_app.url + "/help/pt")
    widget = Widget(page).open()
    widget.send("oi")
    widget.wait_all_sent()
    return page, widget, conversation_id(live_app, page)


def ask_csat(live_app: LiveApp, cid: str) -> None:
    async def ask(app: Any) -> None:
        await app.state.chat.request_csat(cid)

    live_app.call(ask)


def test_csat_then_nps_by_keyboard(live_app: LiveApp, context: Any) -> None:  # noqa: F811
    page, widget, cid = start(live_app, context)
    ask_csat(live_app, cid)
    # The question takes the focus: the first star, the group's one tab stop.
    wait_focus(page, "Nota 1 de 5")
    stars = page.locator("#lumo-chat form.csat [role=radiogroup]")
    assert stars.get_attribute("aria-label") == "Avalie o atendimento"
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert focused(page) == "Nota 4 de 5"
    assert page.locator("#lumo-chat form.csat [role=radio][aria-checked=true]").get_attribute("aria-label") \
        == "Nota 4 de 5"
    assert page.locator("#lumo-chat form.csat [role=radio][tabindex='0']").count() == 1
    page.keyboard.press("Tab")
    page.keyboard.type("resolveu rapido")
    page.keyboard.press("Tab")
    assert focused(page) == "Enviar avaliação"
    page.keyboard.press("Enter")
    page.locator("#lumo-chat .notice.kind-csat_thanks").wait_for()
    [csat] = logged(live_app, cid, kinds.CSAT)
    assert (csat["data"]["rating"], csat["data"]["comment"]) == (4, "resolveu rapido")

    # NPS follows the CSAT answer (a calm moment, a visitor never asked): it takes the focus too.
    nps = page.locator("#lumo-chat form.nps")
    nps.wait_for()
    assert "De 0 a 10, o quanto você recomendaria a Lumo a um amigo?" in \
        page.locator("#lumo-chat .notice.kind-nps p").inner_text()
    scale = nps.locator("[role=radiogroup]")
    assert scale.get_attribute("aria-label") == "Nota de 0 a 10"
    assert [r.get_attribute("aria-label") for r in scale.locator("[role=radio]").all()] == \
        [f"Nota {n} de 10" for n in range(11)]
    wait_focus(page, "Nota 0 de 10")
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    assert focused(page) == "Nota 9 de 10"
    page.keyboard.press("Tab")
    page.keyboard.type("gostei do atendimento")
    page.keyboard.press("Tab")
    assert focused(page) == "Agora não"
    page.keyboard.press("Tab")
    assert focused(page) == "Enviar nota"
    page.keyboard.press("Enter")
    page.locator("#lumo-chat .notice.kind-nps_thanks").wait_for()
    assert nps.count() == 0
    [answer] = logged(live_app, cid, kinds.NPS)
    assert answer["data"] == {"score": 9, "comment": "gostei do atendimento", "skipped": False}
    # Done: the focus is back in the message box.
    page.wait_for_function("() => document.querySelector('#lumo-chat').shadowRoot.activeElement?.tagName"
                           " === 'TEXTAREA' && document.querySelector('#lumo-chat').shadowRoot.activeElement"
                           ".classList.contains('input')")


def test_nps_skipped_by_keyboard_and_never_shown_again_after_reload(live_app: LiveApp, context: Any) -> None:  # noqa: F811
    page, widget, cid = start(live_app, context)
    ask_csat(live_app, cid)
    wait_focus(page, "Nota 1 de 5")
    page.keyboard.press("Space")  # choose the focused star
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator("#lumo-chat form.nps").wait_for()
    wait_focus(page, "Nota 0 de 10")
    page.keyboard.press("Tab")  # the comment
    page.keyboard.press("Tab")  # "Agora não"
    assert focused(page) == "Agora não"
    page.keyboard.press("Enter")
    page.locator("#lumo-chat .notice.kind-nps_skipped").wait_for()
    [skip] = logged(live_app, cid, kinds.NPS)
    assert skip["data"] == {"score": None, "comment": None, "skipped": True}
    assert [e["data"]["rating"] for e in logged(live_app, cid, kinds.CSAT)] == [1]
    page.reload()
    Widget(page).open()
    page.locator("#lumo-chat .notice.kind-nps_skipped").wait_for()
    assert page.locator("#lumo-chat form.nps, #lumo-chat form.csat").count() == 0


def shop_page(live_app: LiveApp, folder: Path, name: str, customer: dict[str, str]) -> Any:
    """A page of the shop on its own origin, with the widget tag carrying the signed customer."""
    attrs = " ".join(f'data-customer-{k}="{v}"' for k, v in customer.items())
    (folder / name).write_text(
        f'<!doctype html><html lang="pt-BR"><head><title>Loja</title></head><body><h1>Minha conta</h1>'
        f'<script src="{live_app.url}/static/chat/widget.js" data-open="true" {attrs} defer></script></body></html>',
        encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_signed_identity_from_the_shop_page_and_a_forged_one(live_app: LiveApp, context: Any,  # noqa: F811
                                                            tmp_path: Path) -> None:
    ana = {"id": "cli-1001", "name": "Ana Souza", "email": "ana.souza@example.com"}
    good = {**ana, "signature": sign(SHOP_SECRET, ana["id"], ana["name"], ana["email"])}
    forged = {**good, "id": "cli-1002"}  # Ana's signature on Bruno's id
    server = shop_page(live_app, tmp_path, "conta.html", good)
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/conta.html")
        Widget(page).wait_connected()
        assert Widget(page).state()["signedIn"] is True
        cid = conversation_id(live_app, page)
        with live_app.app.state.db.session() as s:
            assert s.get(Conversation, cid).customer_id == "cli-1001"

        (tmp_path / "forjada.html").write_text((tmp_path / "conta.html").read_text().replace(
            'data-customer-id="cli-1001"', 'data-customer-id="cli-1002"'), encoding="utf-8")
        other = context.new_page()
        other.goto(f"http://127.0.0.1:{server.server_address[1]}/forjada.html")
        alert = other.locator("#lumo-chat .alert")
        alert.wait_for()
        assert alert.inner_text().startswith("Não foi possível confirmar sua identidade")
        Widget(other).wait_connected()  # the chat goes on, anonymously
        assert Widget(other).state()["signedIn"] is False
        with live_app.app.state.db.session() as s:
            assert s.scalars(select(Conversation).where(Conversation.customer_id == forged["id"])).all() == []
            anonymous = s.get(Conversation, conversation_id(live_app, other))
            assert anonymous.customer_id is None and anonymous.visitor_id
    finally:
        server.shutdown()
