"""The lead's whole loop in real headless Chromium against the real bot (issue #9's scenario).

A customer writes something the bot does not understand (real Rasa, logged by the real chat gateway); the lead
opens the NLU inbox, labels it with the right intent, opens Modelos, clicks Treinar, watches the job, reads the
comparison, clicks Promover; a NEW chat with the same message is then classified right by the Rasa server.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.conversations import kinds
from services.conversations.models import ConversationEvent
from services.settings import REPO_ROOT
from tests.handoff.test_console_browser import CHROMIUM
from tests.workspace.conftest import sign_in_console
from tests.workspace.test_retrain_rasa import NEW_EXAMPLE, NEW_INTENT, rasa_stack  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def chat(app: Any, text: str) -> tuple[str, int, str | None]:
    """A new chat through the app's gateway (to the real Rasa): conversation id, message event id, intent."""
    client = httpx.Client(base_url=app.url, timeout=120)
    session = client.post("/api/chat/session", json={"lang": "pt"}).json()
    r = client.post("/api/chat/messages", json={"token": session["token"], "text": text})
    assert r.status_code == 200, r.text
    cid = session["conversation"]["id"]
    with app.db.session() as s:
        events = s.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == cid)
                           .order_by(ConversationEvent.id)).all()
        message = next(e for e in events if e.kind == kinds.CUSTOMER_MESSAGE)
        reply = next((e for e in events if e.kind == kinds.BOT_REPLY), None)
        return cid, message.id, (reply.data or {}).get("intent") if reply else None


def test_lead_relabels_retrains_promotes_and_the_bot_understands(rasa_stack: Any,  # noqa: F811
                                                                 make_workspace_app: Any) -> None:
    from playwright.sync_api import expect, sync_playwright

    app = make_workspace_app(rasa_url=rasa_stack.rasa_url, rasa_token=rasa_stack.rasa_token)
    _, event_id, intent = chat(app, NEW_EXAMPLE)
    assert intent != NEW_INTENT, "the scenario needs a message the current model gets wrong"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in_console(page, app.url, app.lead.email, app.lead.password)
        expect(page.locator("#me-name")).to_contain_text(app.lead.name)

        # 1. the NLU inbox: label the message
        page.goto(f"{app.url}/console/lead#inbox")
        panel = page.locator("#panel-inbox")
        group = panel.locator(".inbox-group", has=page.locator(f'[data-event-id="{event_id}"]'))
        expect(group).to_be_visible(timeout=30_000)
        for box in group.locator("input[type=checkbox]").all():
            if box.locator("xpath=ancestor::li").get_attribute("data-event-id") != str(event_id):
                box.uncheck()
        group.locator("input.inbox-intent").fill(NEW_INTENT)
        group.get_by_role("button", name="Outra intenção").click()
        expect(group.locator(".inbox-status")).to_contain_text(f"Gravado em {NEW_INTENT}")

        # 2. Modelos: train, follow the progress, read the comparison, promote
        page.goto(f"{app.url}/console/lead#models")
        models = page.locator("#panel-models")
        models.get_by_role("button", name="Treinar").click()
        expect(models.locator("progress")).to_be_visible()
        expect(models).to_contain_text("Treino concluído", timeout=900_000)
        expect(models.locator("table.compare")).to_contain_text("Acurácia")
        expect(models).to_contain_text("Pronto")
        expect(models).to_contain_text(f"+1 {NEW_INTENT}")
        if os.environ.get("SCREENSHOTS") == "1":  # the README's picture of the comparison
            page.screenshot(path=str(REPO_ROOT / "docs" / "images" / "lead-models.png"), full_page=True)
        models.get_by_role("button", name="Promover").click()
        expect(models).to_contain_text("já está atendendo", timeout=180_000)
        expect(models.locator("tr.current")).to_contain_text("em uso")
        assert not errors, errors
        browser.close()

    # 3. a new chat with the same message is now understood
    _, _, intent = chat(app, NEW_EXAMPLE)
    assert intent == NEW_INTENT
    httpx.put(f"{rasa_stack.rasa_url}/model", params={"token": rasa_stack.rasa_token}, timeout=180,
              json={"model_file": str(rasa_stack.model_path)})  # leave the module's stack as it started
