"""An LGPD erasure reaches Rasa's copy too: a customer who gave their CPF to the real bot is found, exported
(with Rasa's tracker events) and erased, and afterwards neither the services' database nor Rasa's tracker
store holds the CPF. Runs against the real product (Rasa server, action server, services app)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.stack import REPO_ROOT

pytestmark = pytest.mark.slow
CPF = "390.533.447-05"
PASSWORD = "senha-do-lider-123"


def tracker_rows(stack: Any, conversation_id: str) -> list[str]:
    connection = sqlite3.connect(Path(stack.data_dir) / "rasa_tracker.db")
    try:
        return [r[0] for r in connection.execute("SELECT data FROM events WHERE sender_id = ?", (conversation_id,))]
    finally:
        connection.close()


def test_erasure_reaches_rasas_tracker_store(stack: Any) -> None:
    subprocess.run([sys.executable, "-m", "handoff.users", "--database-url",
                    f"sqlite:///{Path(stack.data_dir) / 'services.db'}", "create", "--email", "lgpd-lead@lumo.test",
                    "--name", "Lia Lider", "--role", "lead", "--password-stdin"],
                   input=PASSWORD + "\n", text=True, check=True, cwd=REPO_ROOT, capture_output=True,
                   env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    customer = httpx.Client(base_url=stack.services_url, timeout=90)
    session = customer.post("/api/chat/session", json={"lang": "pt"}).json()
    cid = session["conversation"]["id"]
    reply = customer.post("/api/chat/messages", json={"token": session["token"], "client_message_id": "m1",
                                                      "text": f"oi, meu cpf e {CPF} e queria saber do meu pedido"})
    assert reply.status_code == 200, reply.text
    assert any(CPF in row for row in tracker_rows(stack, cid)), "Rasa should have stored the message"

    lead = httpx.Client(base_url=stack.services_url, timeout=60)
    lead.post("/api/handoff/auth/login", json={"email": "lgpd-lead@lumo.test", "password": PASSWORD}
              ).raise_for_status()
    found = lead.post("/api/lead/privacy/search", json={"cpf": CPF.replace(".", "").replace("-", "")})
    assert [c["id"] for c in found.json()["conversations"]] == [cid], found.text
    exported = lead.post("/api/lead/privacy/export", json={"conversation_ids": [cid]}).json()
    assert any(CPF in str(e.get("data")) for e in exported["conversations"][0]["rasa_tracker_events"])

    erased = lead.post("/api/lead/privacy/erase", json={"conversation_ids": [cid], "mode": "erase", "confirm": True})
    assert erased.status_code == 200, erased.text
    assert erased.json()["rows"]["rasa_tracker_events"] > 0
    assert tracker_rows(stack, cid) == []
    assert lead.post("/api/lead/privacy/search", json={"cpf": CPF}).json()["conversations"] == []
