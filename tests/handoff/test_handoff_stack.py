"""The whole handoff journey in real browsers against the real product (Rasa + action server + services app).

A customer in the widget asks for a person; an agent signs in to the console, claims the chat, they talk both
ways; the bot stays silent meanwhile; the agent resolves; the customer answers CSAT in the widget; the bot
answers again afterwards, and Rasa's tracker knows a handoff happened. The transcript holds every message.
The policy used here opens the teams around the clock, so the test does not depend on the time it runs.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from handoff.policy import DEFAULT_POLICY_FILE, REPO_ROOT
from tests.web.browser import DESKTOP, Widget, launch_browser, wait_for_bot_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "senha-da-ana-123"


def always_open_policy(path: Path) -> Path:
    raw = yaml.safe_load(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    for team in raw["teams"].values():
        team["hours"] = {day: "00:00-23:59" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    raw["business_hours"]["holidays"] = []
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def handoff_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.stack import start_stack

    data_dir = tmp_path_factory.mktemp("handoff-stack")
    policy = always_open_policy(data_dir / "policy.yml")
    stack = start_stack(data_dir, extra_env={"HANDOFF_POLICY": str(policy)})
    try:
        subprocess.run([sys.executable, "-m", "handoff.users", "--database-url",
                        f"sqlite:///{data_dir / 'services.db'}", "create", "--email", "ana@lumo.test", "--name",
                        "Ana Lima", "--team", "atendimento", "--team", "suporte", "--password-stdin"],
                       input=PASSWORD + "\n", text=True, check=True, cwd=REPO_ROOT, capture_output=True,
                       env={"PYTHONPATH": str(REPO_ROOT), "HANDOFF_POLICY": str(policy), "PATH": "/usr/bin:/bin"})
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_browser() as chromium:
        yield chromium


def history(stack: Any, page: Any) -> dict[str, Any]:
    token = page.evaluate("() => Object.entries(localStorage).find(([k]) => k.endsWith(':token'))[1]")
    return httpx.get(f"{stack.services_url}/api/chat/history", headers={"Authorization": f"Bearer {token}"},
                     timeout=10).json()


def test_customer_to_agent_and_back_to_the_bot(handoff_stack: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    stack = handoff_stack
    agent_page = browser.new_context(viewport=DESKTOP).new_page()
    agent_page.goto(f"{stack.services_url}/console")
    agent_page.fill("#login-email", "ana@lumo.test")
    agent_page.fill("#login-password", PASSWORD)
    agent_page.click("#login-form button")
    expect(agent_page.locator("#me-name")).to_contain_text("Ana Lima")
    with agent_page.expect_response("**/api/handoff/me/status"):
        agent_page.select_option("#status-select", "online")

    page = browser.new_context(viewport=DESKTOP, locale="pt-BR").new_page()
    page.goto(stack.services_url + "/")
    widget = Widget(page).open()
    count = widget.bot_count()
    widget.send("oi, boa tarde")
    widget.wait_for_reply(count)
    widget.send("quero falar com um atendente humano")
    reply = wait_for_bot_text(page, r"fila|Atendimento")
    assert "Atendimento" in reply and "1º da fila" in reply
    cid = history(stack, page)["conversation"]["id"]

    # The agent sees the chat with its reason, claims it; the customer sees the agent join.
    item = agent_page.locator("#queue-list li").first
    expect(item).to_contain_text("Pediu atendente", timeout=20_000)
    item.click()
    agent_page.click("#claim-btn")
    expect(agent_page.locator("#composer")).to_be_visible()
    page.wait_for_function("() => window.LumoChat.state().status === 'assigned'", timeout=20_000)
    expect(agent_page.locator("#messages")).to_contain_text("quero falar com um atendente humano")

    agent_page.fill("#composer-text", "Oi! Aqui é a Ana, da Lumo. Como posso ajudar?")
    agent_page.keyboard.press("Enter")
    expect(page.locator("#lumo-chat .log .msg.agent").last).to_contain_text("Aqui é a Ana", timeout=20_000)
    widget.send("meu pedido 20481234 ainda nao chegou")
    expect(agent_page.locator("#messages")).to_contain_text("meu pedido 20481234 ainda nao chegou", timeout=20_000)
    time.sleep(4)  # give a (wrongly) awake bot time to answer
    messages = history(stack, page)["messages"]
    after = messages[[m["text"] for m in messages].index("meu pedido 20481234 ainda nao chegou"):]
    assert [m["role"] for m in after] == ["customer"], "the bot must stay silent while a person handles the chat"

    # Resolve; the widget asks for CSAT; the customer answers in the widget.
    agent_page.select_option("#resolve-tag", "pedido_atualizado")
    agent_page.click("#resolve-form button")
    csat = page.locator("#lumo-chat form.csat")
    expect(csat).to_be_visible(timeout=20_000)
    csat.locator("button.star").nth(4).click()
    csat.locator("textarea").fill("a Ana foi otima")
    csat.locator("button[type=submit]").click()
    expect(csat).to_have_count(0, timeout=20_000)
    assert history(stack, page)["conversation"]["csat_rating"] == 5

    # The bot answers again, and Rasa knows a person handled the conversation.
    count = widget.bot_count()
    widget.send("qual o status do pedido 20481234?")
    assert "20481234" in wait_for_bot_text(page, r"pedido\s+20481234")
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{cid}/tracker",
                        params={"token": stack.rasa_token, "include_events": "NONE"}, timeout=10).json()
    assert tracker["slots"].get("handoff_happened") is True and tracker.get("paused") is False

    # The transcript export holds every message of both parts.
    title = agent_page.locator("#chat-title").inner_text()
    hid = int(re.search(r"#(\d+)", title).group(1))
    response = agent_page.request.get(f"{stack.services_url}/api/handoff/handoffs/{hid}/transcript")
    assert response.ok, response.text()
    exported = response.json()
    bot_texts = [m["text"] for m in exported["bot_part"]["messages"]]
    assert "oi, boa tarde" in bot_texts and "quero falar com um atendente humano" in bot_texts
    bot_part = exported["bot_part"]["messages"]
    assert any(m["role"] == "customer" and m["intent"]["name"] == "request_human" for m in bot_part)
    live = [(m["role"], m["text"]) for m in exported["human_part"]]
    assert ("agent", "Oi! Aqui é a Ana, da Lumo. Como posso ajudar?") in live
    assert ("customer", "meu pedido 20481234 ainda nao chegou") in live
    assert exported["handoff"]["resolution_tag"] == "pedido_atualizado"
    assert exported["handoff"]["reason"] == "customer_request"



# -- escalation triggers end to end (real NLU, real actions, real services app) ----------------------------
class Chat:
    """A customer talking through the gateway's REST API (same path as the widget, without a browser)."""

    def __init__(self, stack: Any, lang: str) -> None:
        self.http = httpx.Client(base_url=stack.services_url, timeout=90)
        session = self.http.post("/api/chat/session", json={"lang": lang}).json()
        self.token, self.cid = session["token"], session["conversation"]["id"]
        self.n = 0

    def say(self, text: str) -> list[dict[str, Any]]:
        self.n += 1
        r = self.http.post("/api/chat/messages", json={"token": self.token, "text": text,
                                                       "client_message_id": f"m{self.n}"})
        assert r.status_code == 200, r.text
        return r.json()["messages"][1:]

    def say_payload(self, text: str, payload: str) -> list[dict[str, Any]]:
        """A message whose Rasa input is ``payload`` (as a quick-reply button sends it)."""
        self.n += 1
        r = self.http.post("/api/chat/messages", json={"token": self.token, "text": text, "payload": payload,
                                                       "client_message_id": f"m{self.n}"})
        assert r.status_code == 200, r.text
        return r.json()["messages"][1:]

    def status(self) -> str:
        return self.http.get("/api/chat/history", params={"token": self.token}).json()["conversation"]["status"]


def escalation_reason(stack: Any, cid: str) -> str | None:
    import sqlite3

    with sqlite3.connect(stack.data_dir / "services.db") as db:
        row = db.execute("SELECT reason FROM handoff_handoffs WHERE conversation_id = ?", (cid,)).fetchone()
    return row[0] if row else None


@pytest.mark.parametrize("lang, first, ask, expected", [
    ("pt", "oi", "quero falar com um atendente", "fila"),
    ("en", "hello there", "I want to talk to a human agent please", "queue"),
])
def test_customer_request_end_to_end(handoff_stack: Any, lang: str, first: str, ask: str, expected: str) -> None:
    agent = httpx.Client(base_url=handoff_stack.services_url, timeout=30)
    agent.post("/api/handoff/auth/login", json={"email": "ana@lumo.test", "password": PASSWORD}).raise_for_status()
    agent.post("/api/handoff/me/status", json={"status": "online"}).raise_for_status()
    chat = Chat(handoff_stack, lang)
    chat.say(first)
    replies = chat.say(ask)
    assert any(expected in m["text"] for m in replies), replies
    assert chat.status() == "queued"
    assert escalation_reason(handoff_stack, chat.cid) == "customer_request"


@pytest.mark.parametrize("lang, texts", [("pt", ["oi", "blorft wiggle snarp", "zzkj qwpe de novo"]),
                                         ("en", ["hello", "blorft wiggle snarp", "zzkj qwpe again"])])
def test_repeated_fallback_end_to_end(handoff_stack: Any, lang: str, texts: list[str]) -> None:
    # The customer's words are sent with the /nlu_fallback payload: which gibberish the provisional NLU threshold
    # calls out_of_scope varies with training, while this test is about what follows a fallback (rules,
    # action_fallback, the policy's decision, the escalation), which is all real.
    chat = Chat(handoff_stack, lang)
    chat.say(texts[0])
    first = chat.say_payload(texts[1], "/nlu_fallback")
    assert chat.status() == "bot" and first, "one fallback is not enough to escalate"
    replies = chat.say_payload(texts[2], "/nlu_fallback")
    assert chat.status() == "queued", replies
    assert escalation_reason(handoff_stack, chat.cid) == "repeated_fallback"
    intro = "Desculpe, não estou conseguindo te ajudar com isso." if lang == "pt" else \
        "Sorry, I'm not managing to help you with this."
    assert any(m["text"].startswith(intro) for m in replies), replies


def test_complaint_escalates_end_to_end(handoff_stack: Any) -> None:
    chat = Chat(handoff_stack, "pt")
    chat.say("vcs sao uns incompetentes, pessimo atendimento")
    assert escalation_reason(handoff_stack, chat.cid) == "frustration"
