"""A lead in a real browser: the gaps page, a draft from a gap, the editor with its preview, publish.

Chromium (Debian's) driven by Playwright against the real services app of the workspace fixture; customer
messages are seeded through the product's code paths (see test_gaps.py). Customer text with HTML stays text.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from services.workspace import audit
from tests.handoff.test_console_browser import CHROMIUM
from tests.workspace.conftest import PASSWORD
from tests.workspace.test_gaps import ask

XSS = "<img src=x onerror=window.__pwned=1> qual o horário de funcionamento da loja?"
QUESTIONS = [("pt", "fallback", "Vocês aceitam pagamento em bitcoin?"), ("en", "fallback", "Can I pay with bitcoin?"),
             ("pt", "not_helped", "posso pagar em bitcoin ou outra cripto?"), ("pt", "no_answer", XSS)]
ANSWER = "Não. A Lumo não aceita bitcoin nem outras criptomoedas: pague com Pix, cartão de crédito ou boleto."


def test_lead_turns_a_gap_into_a_published_article_in_the_browser(workspace_app) -> None:
    from playwright.sync_api import expect, sync_playwright

    for lang, source, text in QUESTIONS:
        ask(workspace_app, lang, source, text)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(base_url=workspace_app.url, viewport={"width": 1366, "height": 900})
        r = context.request.post("/api/handoff/auth/login",
                                 data={"email": workspace_app.lead.email, "password": PASSWORD})
        assert r.status == 200, r.text()
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto("/console/lead#gaps")
        card = page.locator("article.gap").first
        expect(card).to_contain_text("3 clientes", timeout=60_000)
        expect(card).to_contain_text("bitcoin")
        # The customer's HTML is text in the page: same characters, no element created.
        expect(page.locator("#panel-gaps")).to_contain_text("<img src=x onerror=window.__pwned=1>")
        assert page.locator("#panel-gaps img").count() == 0
        shoot(page, "lead-gaps.png")
        card.get_by_role("button", name="Criar rascunho").click()
        expect(card.locator(".gap-status")).to_contain_text("Rascunho criado", timeout=30_000)
        card.locator(".gap-status a").first.click()  # pt first: opens the Articles area with the draft
        textarea = page.get_by_label("Texto do artigo (Markdown)")
        expect(textarea).to_have_value(lambda_contains("status: draft"), timeout=30_000)
        text = textarea.input_value()
        lead_line = text.split("---\n", 2)[2].split("\n", 1)[0]
        textarea.fill(text.replace(lead_line, ANSWER + " <script>window.__pwned=2</script>"))
        preview = page.locator(".article-preview")
        expect(preview).to_contain_text("não aceita bitcoin", timeout=10_000)
        expect(preview).to_contain_text("<script>window.__pwned=2</script>")  # shown as text
        assert preview.locator("script").count() == 0
        shoot(page, "lead-article-editor.png")
        page.get_by_role("button", name="Salvar").click()
        expect(page.locator(".editor-message")).to_contain_text("Salvo", timeout=30_000)
        page.get_by_role("button", name="Publicar").click()
        expect(page.locator(".editor-message")).to_contain_text("Publicado", timeout=120_000)
        expect(page.get_by_role("button", name="Despublicar")).to_be_visible()
        assert page.evaluate("window.__pwned === undefined")
        assert errors == []
        browser.close()
    files = audit.entries(workspace_app.db, action="draft_created")[0]["after"]["files"]
    pt_id = next(f for f in files if f.startswith("pt/"))[3:-3]
    hit = httpx.get(f"{workspace_app.url}/api/search",
                    params={"q": "vocês aceitam bitcoin como pagamento?", "lang": "pt"}).json()
    assert hit["results"][0]["article_id"] == pt_id, hit
    assert [e["action"] for e in audit.entries(workspace_app.db)][:3] == [
        "article_published", "article_published", "article_saved"]


def shoot(page, name: str) -> None:  # noqa: ANN001
    """Screenshots for the README when ``LEAD_SCREENSHOTS`` names a folder (not taken otherwise)."""
    folder = os.environ.get("LEAD_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=False)


def lambda_contains(fragment: str):  # noqa: ANN201 - a compiled regex for Playwright's to_have_value
    import re

    return re.compile(re.escape(fragment))
