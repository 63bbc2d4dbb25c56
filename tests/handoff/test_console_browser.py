"""The agent console in a real headless Chromium against a real app process.

Covers: sign-in, the queue with reason, claiming, live chat both ways over /ws/agent and /ws/chat, typing,
and that HTML/script in a customer's message is shown as text (never executed, never parsed as markup).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.handoff.conftest import INTERNAL, tracker_events, write_policy
from tests.handoff.server import AppProcess, create_user, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "senha-do-teste-1"
# The app runs on the real clock: the team is open at any hour, so the escalation queues whenever this runs.
ALWAYS_OPEN = {"teams.atendimento.hours": {d: "00:00-23:59" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
               "business_hours.holidays": []}
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>negrito</b>'


@pytest.fixture()
def app_proc(tmp_path: Path):
    db = f"sqlite:///{tmp_path}/console.db"
    env = {"DATABASE_URL": db, "INTERNAL_TOKEN": INTERNAL, "HANDOFF_POLICY": str(write_policy(tmp_path, **ALWAYS_OPEN)),
           "RASA_URL": f"http://127.0.0.1:{free_port()}", "DATA_DIR": str(tmp_path), "APP_ENV": "embedded",
           "REDIS_URL": ""}
    create_user(db, "ana@lumo.test", "Ana Souza", "agent", ["atendimento"], PASSWORD, env)
    proc = AppProcess(env, tmp_path / "app.log")
    yield proc
    proc.stop()


def test_agent_claims_and_chats_with_html_shown_as_text(app_proc: AppProcess) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = app_proc.url
    http = httpx.Client(base_url=base, timeout=10)
    session = http.post("/api/chat/session", json={"lang": "pt"}).json()
    cid, token = session["conversation"]["id"], session["token"]
    events = tracker_events()
    events.append({"event": "user", "text": XSS, "timestamp": 1_790_000_010.0,
                   "parse_data": {"intent": {"name": "request_human", "confidence": 0.9}}})

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1366, "height": 800})
        page.goto(f"{base}/console")
        page.fill("#login-email", "ana@lumo.test")
        page.fill("#login-password", PASSWORD)
        page.keyboard.press("Enter")  # keyboard-only sign-in
        expect(page.locator("#me-name")).to_contain_text("Ana Souza")
        with page.expect_response("**/api/handoff/me/status") as status:
            page.select_option("#status-select", "online")
        assert status.value.status == 200, status.value.text()
        r = http.post("/api/handoff/escalations", headers={"X-Internal-Token": INTERNAL},
                      json={"conversation_id": cid, "reason": "frustration", "reason_detail": "words: que absurdo",
                            "events": events})
        assert r.status_code == 201 and r.json()["status"] == "queued", r.text
        item = page.locator("#queue-list li").first
        expect(item).to_contain_text("Cliente frustrado")
        item.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#claim-btn")).to_be_visible()
        page.click("#claim-btn")
        expect(page.locator("#composer")).to_be_visible()
        # The customer's HTML is text: same characters, no element created, no script run.
        expect(page.locator("#messages")).to_contain_text('<img src=x onerror="window.__pwned=1">')
        assert page.locator("#messages img, #messages script, #messages b").count() == 0
        # Customer → agent, live, with HTML again.
        r = http.post("/api/chat/messages", json={"token": token, "text": "<i>oi</i> alguem ai?",
                                                  "client_message_id": "c-1"})
        assert r.status_code == 200
        expect(page.locator("#messages")).to_contain_text("<i>oi</i> alguem ai?")
        assert page.locator("#messages i").count() == 0
        # Agent → customer through the composer (Enter sends).
        page.fill("#composer-text", "Olá! Sou a Ana, vou te ajudar.")
        page.keyboard.press("Enter")
        deadline = time.monotonic() + 10
        texts: list[str] = []
        while time.monotonic() < deadline:
            history = http.get("/api/chat/history", params={"token": token}).json()["messages"]
            texts = [m["text"] for m in history if m["role"] == "agent"]
            if texts:
                break
            time.sleep(0.2)
        assert texts == ["Olá! Sou a Ana, vou te ajudar."]
        assert page.evaluate("window.__pwned === undefined")
        # Resolve with a tag from the keyboard-reachable form.
        page.select_option("#resolve-tag", "resolvido")
        page.click("#resolve-form button")
        expect(page.locator("#chat-meta")).to_contain_text("resolvido")
        browser.close()
    history = http.get("/api/chat/history", params={"token": token}).json()["messages"]
    kinds = [m["payload"].get("kind") for m in history if m["role"] == "system"]
    assert "resolved" in kinds and "csat" in kinds, json.dumps(kinds)
