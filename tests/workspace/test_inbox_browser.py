"""The NLU inbox page in real headless Chromium: a lead opens it, relabels a message, sees it written."""

from __future__ import annotations

from typing import Any

import pytest

from services.workspace.training_data import known_examples
from tests.handoff.test_console_browser import CHROMIUM
from tests.workspace.conftest import sign_in_console
from tests.workspace.inbox_seed import new_conversation, say

pytestmark = [pytest.mark.browser, pytest.mark.slow]
XSS = '<img src=x onerror="window.__pwned=1"> meu relogio nao liga'


def test_lead_relabels_a_message_and_sees_it_written(workspace_app: Any) -> None:
    from playwright.sync_api import expect, sync_playwright

    app = workspace_app
    cid = new_conversation(app)
    wrong = say(app, cid, "meu relogio lumo nao liga mais desde ontem", "device_pairing", 0.41)
    other = new_conversation(app)
    say(app, other, "blablabla qwerty", "nlu_fallback", 0.2)
    say(app, other, XSS, "device_not_charging", 0.3)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in_console(page, app.url, app.lead.email, app.lead.password)
        expect(page.locator("#me-name")).to_contain_text(app.lead.name)
        page.goto(f"{app.url}/console/lead#inbox")
        panel = page.locator("#panel-inbox")
        expect(panel.locator(".inbox-group").first).to_be_visible()
        # Worst first: the fallback's group comes first, with its badge.
        expect(panel.locator(".inbox-group").first).to_contain_text("Não entendeu")
        # Customer HTML is text.
        expect(panel).to_contain_text('<img src=x onerror="window.__pwned=1">')
        assert panel.locator(".inbox-group img").count() == 0
        assert page.evaluate("window.__pwned") is None
        group = panel.locator(".inbox-group", has=page.locator(f'[data-event-id="{wrong}"]'))
        expect(group).to_contain_text("device_pairing")
        expect(group).to_contain_text("41%")
        expect(group).to_contain_text("Baixa confiança")
        # Only this message of its group (if the encoder grouped others with it).
        for box in group.locator("input[type=checkbox]").all():
            if box.locator("xpath=ancestor::li").get_attribute("data-event-id") != str(wrong):
                box.uncheck()
        picker = group.locator("input.inbox-intent")
        picker.fill("pedir_pizza")
        group.get_by_role("button", name="Outra intenção").click()
        expect(group.locator(".inbox-status")).to_contain_text("não existe")
        picker.fill("device_not_turning_on")
        group.get_by_role("button", name="Outra intenção").click()
        status = group.locator(".inbox-status")
        expect(status).to_contain_text("Gravado em device_not_turning_on (bot/data/nlu/pt.yml)")
        expect(status).to_contain_text("meu relogio lumo nao liga mais desde ontem")
        expect(group.locator(f'[data-event-id="{wrong}"]')).to_have_class("inbox-message inbox-done")
        # The commit button answers in words (the temp copy is not a git work tree).
        page.click("#inbox-commit")
        expect(page.locator(".inbox-commit-status")).to_contain_text("não está num repositório git")
        # Reload: the message is gone from the inbox.
        page.reload()
        expect(page.locator("#panel-inbox .inbox-group").first).to_be_visible()
        assert page.locator(f'#panel-inbox [data-event-id="{wrong}"]').count() == 0
        assert not errors, errors
        browser.close()
    known = known_examples(app.config.paths.bot_data)
    assert known["meu relogio lumo nao liga mais desde ontem"] == "device_not_turning_on"
