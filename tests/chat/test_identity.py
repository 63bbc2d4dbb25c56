"""Signed customer identity and the visitor id (services/chat/identity.py), over REST and the widget's socket,
and the internal "latest order of a customer" endpoint the bot uses. The bot's side (greeting by name, the order
without a number) is in test_identity_with_rasa.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.websockets import WebSocketDisconnect

from services.app import create_app
from services.chat.identity import sign
from services.conversations import kinds
from services.conversations.models import Conversation, ConversationEvent
from services.internal_auth import internal_token
from services.settings import load_settings
from tests.chat.conftest import closed_port

SECRET = "identity-secret-of-the-shop"
SECRET_KEY = "test-secret-key-for-identity-tests"
ANA = {"id": "cli-1001", "name": "Ana Souza", "email": "ana.souza@example.com"}
BRUNO = {"id": "cli-1002", "name": "Bruno Lima", "email": "bruno.lima@example.com"}


def signed(person: dict[str, str], secret: str = SECRET) -> dict[str, str]:
    return {**person, "signature": sign(secret, person["id"], person["name"], person["email"])}


def make_client(tmp_path: Path, identity_secret: str) -> TestClient:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'services.db'}", data_dir=tmp_path,
                             rasa_url=f"http://127.0.0.1:{closed_port()}", rasa_timeout_seconds=3.0,
                             secret_key=SECRET_KEY, identity_secret=identity_secret, redis_url="")
    return TestClient(create_app(settings))


@pytest.fixture()
def shop(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path, SECRET) as client:
        yield client


def conversations(client: TestClient) -> int:
    with client.app.state.db.session() as s:
        return s.scalar(select(func.count()).select_from(Conversation)) or 0


def row(client: TestClient, cid: str) -> Conversation:
    with client.app.state.db.session() as s:
        conv = s.get(Conversation, cid)
        assert conv is not None
        s.expunge(conv)
        return conv


def session(client: TestClient, **body: Any) -> Any:
    return client.post("/api/chat/session", json={"lang": "pt", **body})


def test_signed_customer_is_stored_on_the_conversation(shop: TestClient) -> None:
    response = session(shop, identity=signed(ANA))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["signed_in"] is True
    conv = row(shop, body["conversation"]["id"])
    assert (conv.customer_id, conv.customer_name) == ("cli-1001", "Ana Souza")
    assert conv.visitor_id and conv.customer_key == "c:cli-1001"
    # The e-mail is only checked (it is part of the signature): not stored, not sent back.
    assert "ana.souza@example.com" not in response.text
    assert "customer_id" not in body["conversation"]


@pytest.mark.parametrize("change", [
    {"id": "cli-1002"},                      # someone else's id with Ana's signature
    {"name": "Ana Souza "},                  # any field changed
    {"email": "outra@example.com"},
    {"signature": "0" * 64},
    {"signature": "zz"},
    {"signature": None},
    {"id": "<script>alert(1)</script>"},
    {"id": ""},
    {"name": "Ana\nSouza"},
    {"name": "x" * 5000},
    {"email": 42},
])
def test_a_forged_or_malformed_identity_is_refused_and_nothing_is_stored(shop: TestClient, change: dict) -> None:
    before = conversations(shop)
    response = session(shop, identity={**signed(ANA), **change})
    assert response.status_code in (403, 422), response.text
    if response.status_code == 403:
        detail = response.json()["detail"]
        assert detail["code"] == "bad_identity" and detail["message"]
        assert detail["customer_message"].startswith("Não foi possível confirmar sua identidade")
    assert conversations(shop) == before


def test_a_signature_made_with_another_secret_is_refused(shop: TestClient) -> None:
    response = session(shop, identity=signed(ANA, secret="a-guess"))
    assert response.status_code == 403 and conversations(shop) == 0


def test_without_an_identity_secret_every_identity_is_refused(tmp_path: Path) -> None:
    with make_client(tmp_path, "") as client:
        response = session(client, identity=signed(ANA, secret=""))
        assert response.status_code == 403 and response.json()["detail"]["code"] == "identity_disabled"
        assert conversations(client) == 0
        assert session(client).status_code == 200  # anonymous visitors are served as always


def test_the_socket_refuses_a_forged_identity_before_storing_anything(shop: TestClient) -> None:
    with shop.websocket_connect("/ws/chat") as ws:
        ws.send_text(json.dumps({"type": "hello", "lang": "en", "identity": {**signed(ANA), "id": "cli-1002"}}))
        frame = json.loads(ws.receive_text())
        assert frame["type"] == "error" and frame["code"] == "bad_identity"
        assert frame["message"].startswith("We could not confirm your identity")
        with pytest.raises(WebSocketDisconnect):
            ws.receive_text()
    assert conversations(shop) == 0
    with shop.websocket_connect("/ws/chat") as ws:
        ws.send_text(json.dumps({"type": "hello", "lang": "pt", "identity": signed(ANA)}))
        welcome = json.loads(ws.receive_text())
        assert welcome["type"] == "welcome" and welcome["signed_in"] is True and welcome["visitor"]
    assert row(shop, welcome["conversation"]["id"]).customer_id == "cli-1001"


def test_visitor_id_is_stable_across_conversations_and_cannot_be_forged(shop: TestClient) -> None:
    first = session(shop).json()
    second = session(shop, visitor=first["visitor"]).json()  # no chat token: a new conversation
    assert second["conversation"]["id"] != first["conversation"]["id"]
    v1, v2 = row(shop, first["conversation"]["id"]).visitor_id, row(shop, second["conversation"]["id"]).visitor_id
    assert v1 and v1 == v2
    forged = session(shop, visitor=first["visitor"] + "x").json()
    assert row(shop, forged["conversation"]["id"]).visitor_id not in (None, v1)


def test_a_conversation_is_never_resumed_by_someone_else(shop: TestClient) -> None:
    ana = session(shop, identity=signed(ANA)).json()
    # Bruno signs in on the same browser (same chat token, same visitor): he gets his own conversation.
    bruno = session(shop, token=ana["token"], visitor=ana["visitor"], identity=signed(BRUNO)).json()
    assert bruno["conversation"]["id"] != ana["conversation"]["id"]
    # Nobody signed in on the page any more (shared computer): Ana's conversation is not shown.
    anonymous = session(shop, token=ana["token"], visitor=ana["visitor"]).json()
    assert anonymous["conversation"]["id"] != ana["conversation"]["id"] and anonymous["signed_in"] is False
    # Ana herself comes back: her conversation continues.
    again = session(shop, token=ana["token"], identity=signed(ANA)).json()
    assert again["conversation"]["id"] == ana["conversation"]["id"]


def test_signing_in_mid_conversation_keeps_the_conversation(shop: TestClient) -> None:
    visitor = session(shop).json()
    signed_in = session(shop, token=visitor["token"], visitor=visitor["visitor"], identity=signed(ANA)).json()
    assert signed_in["conversation"]["id"] == visitor["conversation"]["id"] and signed_in["signed_in"] is True
    assert row(shop, visitor["conversation"]["id"]).customer_id == "cli-1001"


def test_nps_cap_follows_the_signed_customer_across_browsers(shop: TestClient) -> None:
    """The second conversation within 30 days gets no NPS, even from another browser (another visitor id)."""
    t0 = datetime(2026, 11, 2, 15, 0)
    shop.app.state.conversations.clock = lambda: t0
    home = session(shop, identity=signed(ANA)).json()
    assert shop.post("/api/chat/csat", json={"token": home["token"], "rating": 5}).status_code == 200
    work = session(shop, identity=signed(ANA)).json()  # another browser: no visitor token, no chat token
    assert row(shop, work["conversation"]["id"]).visitor_id != row(shop, home["conversation"]["id"]).visitor_id
    shop.app.state.conversations.clock = lambda: t0 + timedelta(days=10)
    assert shop.post("/api/chat/csat", json={"token": work["token"], "rating": 4}).status_code == 200
    with shop.app.state.db.session() as s:
        asked = s.scalars(select(ConversationEvent.conversation_id)
                          .where(ConversationEvent.kind == kinds.NPS_REQUESTED)).all()
    assert asked == [home["conversation"]["id"]]


def test_latest_order_endpoint_is_internal(shop: TestClient) -> None:
    token = {"X-Internal-Token": internal_token(SECRET_KEY)}
    assert shop.get("/api/orders/customers/cli-1001/latest").status_code == 401
    assert shop.get("/api/orders/customers/cli-1001/latest", headers={"X-Internal-Token": "nope"}).status_code == 401
    latest = shop.get("/api/orders/customers/cli-1001/latest", headers=token)
    assert latest.status_code == 200 and latest.json()["number"] == "20481234"  # not her older 20470099
    assert shop.get("/api/orders/customers/cli-9999/latest", headers=token).status_code == 404
    assert shop.get("/api/orders/customers/a%20b/latest", headers=token).status_code == 422
    assert shop.get(f"/api/orders/customers/{'9' * 200}/latest", headers=token).status_code == 422
