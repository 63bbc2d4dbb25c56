"""The lead's area in a real headless Chromium against a real app: sign in at /console, follow the "Área do
líder" link, filter conversations, open one, tag it, mark it reviewed; an agent sees no link and gets the guard.

With ``SCREENSHOTS=1`` it also saves docs/images/lead-<tab>.png of every tab (scripts/lead_screenshots.py does
the same with more demo data).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from scripts.lead_demo_data import random_specs, seed
from scripts.lead_screenshots import CHROMIUM, VIEWPORT, capture
from services.db import utcnow
from tests.workspace.conftest import WorkspaceApp, sign_in_console

pytestmark = [pytest.mark.browser, pytest.mark.slow]
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def test_lead_filters_opens_and_tags_a_conversation(workspace_app: WorkspaceApp) -> None:
    from playwright.sync_api import expect, sync_playwright

    app = workspace_app
    seed(app.conversations, app.chat, random_specs(40, utcnow() - timedelta(days=1), days=20))
    [target] = seed(app.conversations, app.chat, [{"language": "pt", "at": utcnow() - timedelta(hours=2), "turns": [
        {"text": "o boleto veio cobrado em dobro", "intent": "payment_issue", "confidence": 0.41,
         "reply": "Vou verificar a cobrança."},
        {"text": XSS, "intent": "nlu_fallback", "confidence": 0.2, "reply": "Desculpe, não entendi."}]}])
    lead_api = app.login(app.lead.email)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport=VIEWPORT, locale="pt-BR")
        sign_in_console(page, app.url, app.lead.email)
        link = page.locator("#lead-link")
        expect(link).to_be_visible()
        link.click()
        expect(page).to_have_url(f"{app.url}/console/lead")
        expect(page.locator("#lead-nav")).to_be_visible()
        expect(page.locator("#me-name")).to_contain_text("Lia Lider")
        rows = page.locator("#review-results tr[data-id]")
        expect(rows.first).to_be_visible()
        assert rows.count() == 25  # one page (review.page_size) of the 41 conversations
        expect(page.locator("#review-summary")).to_contain_text("41 conversa(s)")

        # Filter: customer text + had a fallback → exactly the target.
        page.fill("#review-filters input[name=q]", "em dobro")
        page.select_option("#review-filters select[name=fallback]", "true")
        page.click("#review-filters button[type=submit]")
        expect(rows).to_have_count(1)
        assert rows.first.get_attribute("data-id") == target
        expect(rows.first.locator(".chip.low")).to_have_text("20%")

        # A bad value is refused with the server's message, not a blank table.
        page.fill("#review-filters input[name=intent]", "<b>x</b>")
        page.click("#review-filters button[type=submit]")
        expect(page.locator("#review-list [role=alert]")).to_contain_text("intenção")
        page.fill("#review-filters input[name=intent]", "")
        page.click("#review-filters button[type=submit]")
        expect(rows).to_have_count(1)

        # Open it: turns in order, the bot's reading on each message, low confidence highlighted, HTML as text.
        rows.first.locator("button.link").click()
        detail = page.locator("#review-detail")
        expect(detail).to_be_visible()
        customer = detail.locator("li[data-kind=customer_message]")
        expect(customer).to_have_count(2)
        expect(customer.nth(0)).to_contain_text("o boleto veio cobrado em dobro")
        expect(customer.nth(0).locator(".chip.low")).to_contain_text("payment_issue · 41%")
        expect(customer.nth(1)).to_contain_text(XSS)
        assert detail.locator("img, script").count() == 0
        expect(detail.locator("li[data-kind=fallback]")).to_contain_text("não entendeu")

        # Tag (normalised by the server) and mark reviewed.
        page.fill("#tag-input", "  Cobrança Duplicada ")
        page.keyboard.press("Enter")
        expect(detail.locator(".tags .tag")).to_have_count(1)
        expect(detail.locator(".tags .tag")).to_contain_text("cobrança-duplicada")
        page.click("#review-toggle")
        expect(detail.locator(".review-toggle")).to_contain_text("Revisada por Lia Lider")
        page.click("#review-back")
        expect(rows.first.locator(".tag")).to_have_text("cobrança-duplicada")
        assert page.evaluate("window.__pwned === undefined")

        stored = lead_api.get(f"/api/lead/review/conversations/{target}").json()
        assert stored["tags"] == ["cobrança-duplicada"] and stored["reviewed"]["by"] == "Lia Lider"
        actions = [e["action"] for e in lead_api.get("/api/lead/audit").json()["entries"]]
        assert actions[:2] == ["conversation_reviewed", "conversation_tagged"]

        # The audit tab shows both, with what changed.
        page.click("a[data-tab=audit]")
        expect(page.locator("#audit-rows tr")).to_have_count(2)
        expect(page.locator("#audit-rows")).to_contain_text("cobrança-duplicada")

        if os.environ.get("SCREENSHOTS") == "1":
            capture(page, app.url)

        # An agent: no link in the console, and the lead area answers with the guard.
        agent_page = browser.new_context(viewport=VIEWPORT, locale="pt-BR").new_page()
        sign_in_console(agent_page, app.url, app.agent.email)
        expect(agent_page.locator("#me-name")).to_contain_text("Ana Agente")
        expect(agent_page.locator("#lead-link")).to_be_hidden()
        expect(agent_page.locator("#metrics-link")).to_have_attribute("href", "/console/metrics")  # own figures
        agent_page.goto(f"{app.url}/console/lead#review")
        expect(agent_page.locator("#denied")).to_be_visible()
        expect(agent_page.locator("#denied")).to_contain_text("Esta área é só para líderes")
        expect(agent_page.locator("#lead-nav")).to_be_hidden()
        expect(agent_page.locator("#panel-review")).to_be_hidden()
        browser.close()


def test_a_stranger_is_sent_to_sign_in(workspace_app: WorkspaceApp) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(f"{workspace_app.url}/console/lead")
        expect(page).to_have_url(f"{workspace_app.url}/console")
        expect(page.locator("#login-email")).to_be_visible()
        browser.close()
