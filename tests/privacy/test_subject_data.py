"""A lead answers an LGPD request: find one customer's conversations by CPF, e-mail, phone or id, export them,
anonymise or erase them — and afterwards nothing of theirs is left anywhere in the services' database.

The real services app runs in-process on its own SQLite file; Rasa is a closed port (messages are stored, the
customer gets the offline notice), so Rasa's tracker store is covered by tests/e2e/test_privacy_erasure.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from handoff.auth import hash_password
from handoff.models import Agent
from services.app import create_app
from services.chat.identity import sign
from services.conversations.models import Conversation, ConversationEvent
from services.privacy.retention import RetentionJob
from services.settings import load_settings
from tests.chat.conftest import closed_port

CPF = "529.982.247-25"
EMAIL = "Maria.Souza+lumo@example.com"
PHONE = "(11) 98765-4321"
PASSWORD = "senha-do-lider-123"
IDENTITY_SECRET = "identity-secret-of-the-shop"


@pytest.fixture()
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'services.db'}", data_dir=tmp_path,
                             rasa_url=f"http://127.0.0.1:{closed_port()}", rasa_timeout_seconds=2.0,
                             secret_key="test-secret-key-for-privacy-tests", redis_url="",
                             identity_secret=IDENTITY_SECRET)
    with TestClient(create_app(settings)) as client:
        with client.app.state.db.session() as s:
            s.add(Agent(email="lider@lumo.test", name="Lia Lider", password_hash=hash_password(PASSWORD),
                        role="lead", teams=[]))
            s.add(Agent(email="ana@lumo.test", name="Ana", password_hash=hash_password(PASSWORD), role="agent",
                        teams=["atendimento"]))
        yield client


def sign_in(client: TestClient, email: str) -> None:
    client.cookies.clear()
    response = client.post("/api/handoff/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text


def customer_conversation(client: TestClient, *texts: str, contact: dict[str, str] | None = None) -> str:
    session = client.post("/api/chat/session", json={"lang": "pt"}).json()
    for n, text in enumerate(texts):
        response = client.post("/api/chat/messages", json={"token": session["token"], "text": text,
                                                           "client_message_id": f"m{n}"})
        assert response.status_code == 200, response.text
    if contact:
        assert client.post("/api/chat/contact", json={"token": session["token"], **contact}).status_code == 200
    return session["conversation"]["id"]


def database_text(db_file: Path) -> str:
    """Every value of every table, as one lower-case string: what a leak check searches."""
    connection = sqlite3.connect(db_file)
    try:
        parts = []
        for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            for row in connection.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from the schema
                parts.append(" ".join(str(v) for v in row))
        return "\n".join(parts).lower()
    finally:
        connection.close()


@pytest.fixture()
def customers(app_client: TestClient) -> dict[str, str]:
    maria = customer_conversation(app_client, f"oi meu cpf e {CPF}, cade meu pedido?",
                                  contact={"name": "Maria Souza", "email": EMAIL, "phone": PHONE,
                                           "message": "me liga pfv"})
    maria_again = customer_conversation(app_client, "vc pode me ajudar? meu email e maria.souza+lumo@example.com")
    other = customer_conversation(app_client, "qual o prazo de entrega pra sp?")
    return {"maria": maria, "maria_again": maria_again, "other": other}


def search(client: TestClient, **who: str) -> list[str]:
    response = client.post("/api/lead/privacy/search", json=who)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["conversations"]]


def test_finds_a_customer_by_each_identifier(app_client: TestClient, customers: dict[str, str]) -> None:
    sign_in(app_client, "lider@lumo.test")
    assert search(app_client, cpf="52998224725") == [customers["maria"]]
    assert search(app_client, cpf=CPF) == [customers["maria"]]
    assert set(search(app_client, email=EMAIL)) == {customers["maria"], customers["maria_again"]}
    assert search(app_client, phone="11987654321") == [customers["maria"]]
    assert search(app_client, conversation_id=customers["other"]) == [customers["other"]]
    assert search(app_client, email="ninguem@example.com") == []


def test_export_holds_everything_about_the_conversation(app_client: TestClient, customers: dict[str, str]) -> None:
    sign_in(app_client, "lider@lumo.test")
    response = app_client.post("/api/lead/privacy/export", json={"conversation_ids": [customers["maria"]]})
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    exported = response.json()["conversations"][0]
    assert exported["conversation"]["id"] == customers["maria"]
    texts = [m["text"] for m in exported["tables"]["chat_messages"]]
    assert any(CPF in t for t in texts)
    assert exported["tables"]["chat_contact_requests"][0]["email"] == EMAIL
    assert any(e["kind"] == "customer_message" for e in exported["tables"]["conversation_events"])


def test_anonymise_leaves_no_personal_data_and_keeps_the_counts(app_client: TestClient, customers: dict[str, str],
                                                                tmp_path: Path) -> None:
    sign_in(app_client, "lider@lumo.test")
    ids = search(app_client, email=EMAIL)
    db = app_client.app.state.db
    with db.session() as s:
        events_before = s.query(ConversationEvent).filter(ConversationEvent.conversation_id.in_(ids)).count()
    response = app_client.post("/api/lead/privacy/erase", json={"conversation_ids": ids, "mode": "anonymise",
                                                                "confirm": True})
    assert response.status_code == 200, response.text
    assert response.json()["rows"]["chat_messages"] >= 2
    text = database_text(tmp_path / "services.db")
    for needle in (CPF, "52998224725", EMAIL.lower(), "98765-4321", "maria souza", "me liga pfv"):
        assert needle not in text, f"{needle!r} is still stored"
    assert "qual o prazo de entrega" in text  # the other customer's conversation is untouched
    with db.session() as s:
        assert s.query(ConversationEvent).filter(ConversationEvent.conversation_id.in_(ids)).count() == events_before
        assert s.get(Conversation, customers["maria"]) is not None
    assert search(app_client, email=EMAIL) == []
    audit = app_client.get("/api/lead/audit", params={"action": "customer_data_erased"}).json()["entries"]
    assert audit and audit[0]["lead_name"] == "Lia Lider" and EMAIL.lower() not in str(audit).lower()


def test_erase_deletes_the_conversations(app_client: TestClient, customers: dict[str, str], tmp_path: Path) -> None:
    sign_in(app_client, "lider@lumo.test")
    response = app_client.post("/api/lead/privacy/erase", json={
        "conversation_ids": [customers["maria"]], "mode": "erase", "confirm": True})
    assert response.status_code == 200, response.text
    with app_client.app.state.db.session() as s:
        assert s.get(Conversation, customers["maria"]) is None
        assert s.query(ConversationEvent).filter_by(conversation_id=customers["maria"]).count() == 0
    assert CPF not in database_text(tmp_path / "services.db")


def test_retention_anonymises_old_finished_conversations_once(app_client: TestClient,
                                                              customers: dict[str, str], tmp_path: Path) -> None:
    subjects = app_client.app.state.subject_data
    db = app_client.app.state.db
    with db.session() as s:
        old = s.get(Conversation, customers["maria_again"])  # with the bot; Maria's first one waits for a team
        old.updated_at = old.updated_at - timedelta(days=400)
    job = RetentionJob(subjects, days=365)
    assert job.due() == [customers["maria_again"]]
    assert job.run_once() == 1
    assert job.due() == []
    text = database_text(tmp_path / "services.db")
    assert "vc pode me ajudar" not in text
    assert CPF in text  # the recent conversation of the same customer is kept
    assert RetentionJob(subjects, days=0).due() == []


@pytest.mark.parametrize("body, status", [
    ({}, 422),
    ({"cpf": "123"}, 422),
    ({"email": "x" * 500}, 422),
])
def test_bad_searches_are_refused(app_client: TestClient, body: dict, status: int) -> None:
    sign_in(app_client, "lider@lumo.test")
    assert app_client.post("/api/lead/privacy/search", json=body).status_code == status


def test_erase_needs_confirmation_and_a_lead(app_client: TestClient, customers: dict[str, str]) -> None:
    sign_in(app_client, "lider@lumo.test")
    body = {"conversation_ids": [customers["other"]], "mode": "erase", "confirm": False}
    assert app_client.post("/api/lead/privacy/erase", json=body).status_code == 422
    sign_in(app_client, "ana@lumo.test")
    assert app_client.post("/api/lead/privacy/search", json={"cpf": CPF}).status_code == 403
    body["confirm"] = True
    assert app_client.post("/api/lead/privacy/erase", json=body).status_code == 403
    app_client.cookies.clear()
    assert app_client.post("/api/lead/privacy/export", json={"conversation_ids": ["x"]}).status_code == 401


def test_a_signed_in_customer_is_found_by_the_shops_id_and_unlinked_when_anonymised(app_client: TestClient) -> None:
    identity = {"id": "cli-4242", "name": "Maria Souza", "email": EMAIL,
                "signature": sign(IDENTITY_SECRET, "cli-4242", "Maria Souza", EMAIL)}
    session = app_client.post("/api/chat/session", json={"lang": "pt", "identity": identity})
    assert session.status_code == 200, session.text
    cid = session.json()["conversation"]["id"]
    sign_in(app_client, "lider@lumo.test")
    assert search(app_client, customer_id="cli-4242") == [cid]
    erased = app_client.post("/api/lead/privacy/erase", json={"conversation_ids": [cid], "mode": "anonymise",
                                                              "confirm": True})
    assert erased.status_code == 200, erased.text
    with app_client.app.state.db.session() as s:
        row = s.get(Conversation, cid)
        assert row is not None and row.customer_id is None and row.customer_name is None
    assert search(app_client, customer_id="cli-4242") == []
