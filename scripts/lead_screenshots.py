"""Screenshots of every tab of the lead's area for the README: ``docs/images/lead-<tab>.png``.

Usage: ``PYTHONPATH=. .venv/services/bin/python scripts/lead_screenshots.py [--out docs/images]``

Starts the real services app (uvicorn in a thread, temporary SQLite database, temporary copies of the bot's
data and articles: the repository's files are never written), writes demo conversations through the product's
code paths (scripts/lead_demo_data.py, plus one real escalation handled by an agent), signs a lead in at
/console in Debian's Chromium (Playwright), follows the "Área do líder" link and captures each tab.
``tests/workspace/test_lead_page_browser.py`` calls :func:`capture` too when run with ``SCREENSHOTS=1``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
OUT = REPO_ROOT / "docs" / "images"
TABS = ("review", "inbox", "models", "gaps", "articles", "metrics", "privacy", "audit")
VIEWPORT = {"width": 1366, "height": 860}


def capture(page: Any, base_url: str, out_dir: Path = OUT, tabs: tuple[str, ...] = TABS) -> list[Path]:
    """With a lead signed in on ``page``: open each tab, wait for it to load, save ``lead-<tab>.png`` (and the
newest conversation opened, ``lead-review-conversation.png``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for tab in tabs:
        page.goto(f"{base_url}/console/lead#{tab}")
        page.wait_for_load_state("networkidle")
        page.wait_for_function(
            "tab => { const s = document.getElementById('panel-' + tab);"
            " return s && !s.hidden && !s.hasAttribute('aria-busy'); }", arg=tab, timeout=30_000)
        page.wait_for_timeout(300)
        path = out_dir / f"lead-{tab}.png"
        page.screenshot(path=str(path), full_page=False)
        written.append(path)
        if tab == "review" and page.locator("#review-results button.link").count():
            page.locator("#review-results button.link").first.click()
            page.wait_for_selector("#review-detail .turns")
            page.wait_for_timeout(300)
            path = out_dir / "lead-review-conversation.png"
            page.screenshot(path=str(path), full_page=False)
            written.append(path)
    return written


def demo_conversations(running: Any) -> None:
    """A few hundred varied past conversations, then one with an agent, a note, a resolution and a low CSAT."""
    from scripts.lead_demo_data import random_specs, seed
    from services.db import utcnow
    from tests.handoff.conftest import INTERNAL

    seed(running.conversations, running.chat, random_specs(300, utcnow(), days=30))
    [cid] = seed(running.conversations, running.chat, [{"language": "pt", "at": utcnow() - timedelta(minutes=20),
                                                        "turns": [
        {"text": "meu cartão foi cobrado duas vezes no pedido 20481234", "intent": "payment_issue",
         "confidence": 0.41, "entities": [{"entity": "order_number", "value": "20481234"}],
         "reply": "Vou verificar a cobrança para você."},
        {"text": "quero falar com alguém", "intent": "request_human", "confidence": 0.96, "reply": ""}]}])
    client = running.client()
    r = client.post("/api/handoff/escalations", headers={"X-Internal-Token": INTERNAL},
                    json={"conversation_id": cid, "reason": "customer_request", "events": []})
    handoff = r.json()["handoff_id"]
    agent = running.login(running.agent.email)
    agent.post("/api/handoff/me/status", json={"status": "online"})
    agent.post(f"/api/handoff/handoffs/{handoff}/claim")
    agent.post(f"/api/handoff/handoffs/{handoff}/messages", json={"text": "Oi! Já estornei a segunda cobrança."})
    agent.post(f"/api/handoff/handoffs/{handoff}/notes", json={"text": "estorno feito no gateway"})
    agent.post(f"/api/handoff/handoffs/{handoff}/resolve", json={"tag": "reembolso_iniciado"})
    running.call(running.chat.record_csat(cid, 2, "demorou para resolver"))
    lead = running.login(running.lead.email)
    lead.put(f"/api/lead/review/conversations/{cid}/tags", json={"tags": ["cobrança-duplicada"]})
    lead.post(f"/api/lead/review/conversations/{cid}/reviewed", json={"reviewed": True})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT))
    import pytest
    from playwright.sync_api import sync_playwright

    from tests.workspace import conftest as fixtures

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as monkeypatch:
        root = Path(tmp)
        paths = fixtures.copy_workspace_files(root / "workspace")
        with fixtures.running_apps(root, paths, monkeypatch) as build:
            running = build()
            demo_conversations(running)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--lang=pt-BR"])
                page = browser.new_page(viewport=VIEWPORT, locale="pt-BR")
                page.goto(f"{running.url}/console")
                page.fill("#login-email", running.lead.email)
                page.fill("#login-password", fixtures.PASSWORD)
                page.keyboard.press("Enter")
                page.click("#lead-link")
                for path in capture(page, running.url, args.out):
                    print(path)
                browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
