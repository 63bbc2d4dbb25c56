"""Every stored customer message gets an outcome (issue #12): a message the gateway stored and acknowledged but
whose turn never ran (the services process was killed before asking Rasa) is answered after the restart, and a
re-send of its id is answered instead of being dropped as a duplicate. Real processes: the session's stack.

The "stored but not routed" state is produced by the gateway's own storing step (ChatService.
store_customer_message, what the socket and REST handlers run before routing) on the stack's database, i.e.
exactly what a process killed between the acknowledgement and the call to Rasa leaves behind.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.chat.config import load_chat_config
from services.chat.hub import Hub
from services.chat.rasa_client import RasaClient
from services.chat.service import ChatService
from services.conversations.lifecycle import Conversations
from services.db import Database

pytestmark = pytest.mark.slow


def store_without_routing(stack: Any, token_holder: httpx.Client, text: str, client_message_id: str) -> str:
    session = token_holder.post("/api/chat/session", json={"lang": "pt"}).json()
    cid = session["conversation"]["id"]
    db = Database(f"sqlite:///{Path(stack.data_dir) / 'services.db'}")
    try:
        chat = ChatService(db, Hub(), RasaClient(stack.rasa_url), load_chat_config(), stack.services_url,
                           Conversations(db))
        asyncio.run(chat.store_customer_message(cid, text, client_message_id))
    finally:
        db.dispose()
    return session["token"]


def replies_after(client: httpx.Client, token: str, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = client.get("/api/chat/history", params={"token": token}).json()["messages"]
        answered = [m for m in messages if m["role"] in ("bot", "system")]
        if answered:
            return answered
        time.sleep(0.5)
    return []


def test_a_message_left_unanswered_by_a_killed_process_is_answered_after_restart(stack: Any) -> None:
    customer = httpx.Client(base_url=stack.services_url, timeout=90)
    token = store_without_routing(stack, customer, "qual o status do pedido 20481234?", "m1")
    assert replies_after(customer, token, 1) == []  # stored, acknowledged, never routed
    stack.restart("services")
    answered = replies_after(customer, token, 90)
    assert answered and answered[0]["role"] == "bot", answered
    history = customer.get("/api/chat/history", params={"token": token}).json()["messages"]
    assert [m["text"] for m in history if m["role"] == "customer"] == ["qual o status do pedido 20481234?"]


def test_a_resent_id_of_an_unanswered_message_is_answered_once(stack: Any) -> None:
    customer = httpx.Client(base_url=stack.services_url, timeout=90)
    token = store_without_routing(stack, customer, "oi, boa tarde", "m1")
    resent = customer.post("/api/chat/messages", json={"token": token, "text": "oi, boa tarde",
                                                       "client_message_id": "m1"})
    assert resent.status_code == 200, resent.text
    bot = [m for m in resent.json()["messages"] if m["role"] == "bot"]
    assert bot, resent.json()  # answered, not dropped as a duplicate
    again = customer.post("/api/chat/messages", json={"token": token, "text": "oi, boa tarde",
                                                      "client_message_id": "m1"})
    assert [m["role"] for m in again.json()["messages"]] == ["customer"]  # answered once: no second turn
    history = customer.get("/api/chat/history", params={"token": token}).json()["messages"]
    assert len([m for m in history if m["role"] == "customer"]) == 1
    assert len([m for m in history if m["role"] == "bot"]) == len(bot)
