"""Chat gateway over REST: sessions, idempotency, limits, Rasa-down behaviour, CSAT and contact details."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from services.chat.config import load_chat_config
from services.chat.models import ChatMessage, ContactRequest, Conversation
from tests.chat.conftest import open_session


def history(client: TestClient, token: str, after: int = 0) -> list[dict]:
    response = client.get("/api/chat/history", params={"after_seq": after},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()["messages"]


def test_session_token_resumes_the_same_conversation(client: TestClient) -> None:
    first = client.post("/api/chat/session", json={"lang": "en"}).json()
    again = client.post("/api/chat/session", json={"token": first["token"], "lang": "pt"}).json()
    assert again["conversation"]["id"] == first["conversation"]["id"]
    assert again["conversation"]["language"] == "en"
    # The conversation id is random and long; the token is signed, not the bare id.
    assert len(first["conversation"]["id"]) >= 20
    assert first["token"] != first["conversation"]["id"]


def test_forged_or_tampered_tokens_are_refused(client: TestClient) -> None:
    token = open_session(client)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, "not-a-token", "", "x" * 600):
        response = client.get("/api/chat/history", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code in (401, 422), bad
    fresh = client.post("/api/chat/session", json={"token": tampered}).json()
    assert fresh["conversation"]["last_seq"] == 0


def test_message_is_stored_before_rasa_and_rasa_down_gives_a_friendly_notice(client: TestClient) -> None:
    token = open_session(client, "pt")
    response = client.post("/api/chat/messages", json={"token": token, "text": "cade meu pedido 20481234??",
                                                       "client_message_id": "m-1"})
    assert response.status_code == 200, response.text
    customer, notice = response.json()["messages"]
    assert customer["role"] == "customer" and customer["text"] == "cade meu pedido 20481234??"
    assert notice["role"] == "system" and notice["payload"]["kind"] == "offline"
    assert notice["payload"]["contact_form"] is True
    assert "fora do ar" in notice["text"] and "0800 555 0123" in notice["text"]
    stored = history(client, token)
    assert [m["role"] for m in stored] == ["customer", "system"]
    assert [m["seq"] for m in stored] == [1, 2]


def test_rasa_down_notice_follows_the_conversation_language(client: TestClient) -> None:
    token = open_session(client, "en")
    messages = client.post("/api/chat/messages", json={"token": token, "text": "where is my order"}).json()["messages"]
    assert "unavailable" in messages[-1]["text"]


def test_same_client_message_id_is_stored_once(client: TestClient) -> None:
    token = open_session(client)
    body = {"token": token, "text": "oi", "client_message_id": "dup-1"}
    first = client.post("/api/chat/messages", json=body).json()["messages"]
    second = client.post("/api/chat/messages", json=body).json()["messages"]
    assert len(second) == 1 and second[0]["seq"] == first[0]["seq"]
    customer = [m for m in history(client, token) if m["role"] == "customer"]
    assert len(customer) == 1
    with client.app.state.db.session() as s:
        rows = s.scalars(select(ChatMessage).where(ChatMessage.client_message_id == "dup-1")).all()
        assert len(rows) == 1


def test_message_limits_and_bad_input(client: TestClient) -> None:
    token = open_session(client, "pt")
    too_long = client.post("/api/chat/messages", json={"token": token, "text": "a" * 2001})
    assert too_long.status_code == 413
    assert too_long.json()["detail"]["code"] == "too_long" and "2000" in too_long.json()["detail"]["message"]
    at_limit = client.post("/api/chat/messages", json={"token": token, "text": "b" * 2000})
    assert at_limit.status_code == 200
    for empty in ("", "   \n\t ", "\x00\x01\x02", None, 12345, ["oi"], {"text": "oi"}):
        response = client.post("/api/chat/messages", json={"token": token, "text": empty})
        assert response.status_code == 400, empty
        assert response.json()["detail"]["code"] == "empty"
    bad_id = client.post("/api/chat/messages", json={"token": token, "text": "oi", "client_message_id": "<script>"})
    assert bad_id.status_code == 400
    malformed = client.post("/api/chat/messages", content=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 422


def test_html_and_binary_are_stored_as_plain_text(client: TestClient) -> None:
    token = open_session(client)
    html = '<script>alert(1)</script><img src=x onerror="alert(2)"> oi'
    messages = client.post("/api/chat/messages", json={"token": token, "text": html}).json()["messages"]
    assert messages[0]["text"] == html  # stored verbatim; the widget renders it with textContent
    mixed = client.post("/api/chat/messages", json={"token": token, "text": "oi\x00\x07 tudo\ufffe bem"}).json()
    assert mixed["messages"][0]["text"] == "oi tudo bem"


def test_rate_limit_per_conversation(client: TestClient) -> None:
    chat = client.app.state.chat
    chat.config = load_chat_config(rate_limit_per_minute=3)
    token = open_session(client, "en")
    codes = [client.post("/api/chat/messages", json={"token": token, "text": f"msg {i}"}).status_code
             for i in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.post("/api/chat/messages", json={"token": token, "text": "again"})
    assert refused.json()["detail"]["code"] == "rate_limited" and "wait" in refused.json()["detail"]["message"]
    # Another conversation is not affected.
    other = open_session(client)
    assert client.post("/api/chat/messages", json={"token": other, "text": "oi"}).status_code == 200


def test_history_after_seq(client: TestClient) -> None:
    token = open_session(client)
    for i in range(3):
        client.post("/api/chat/messages", json={"token": token, "text": f"m{i}", "client_message_id": f"h{i}"})
    everything = history(client, token)
    later = history(client, token, after=everything[2]["seq"])
    assert [m["seq"] for m in later] == [m["seq"] for m in everything[3:]]
    assert [m["seq"] for m in everything] == list(range(1, len(everything) + 1))


def test_csat_is_stored_with_the_conversation(client: TestClient) -> None:
    token = open_session(client, "pt")
    cid = client.post("/api/chat/session", json={"token": token}).json()["conversation"]["id"]
    assert client.post("/api/chat/csat", json={"token": token, "rating": 6}).status_code == 422
    assert client.post("/api/chat/csat", json={"token": token, "rating": 0}).status_code == 422
    assert client.post("/api/chat/csat", json={"token": "forged", "rating": 5}).status_code == 401
    ok = client.post("/api/chat/csat", json={"token": token, "rating": 4, "comment": "rapido, valeu <b>!</b>"})
    assert ok.status_code == 200 and ok.json()["csat_rating"] == 4
    with client.app.state.db.session() as s:
        conv = s.get(Conversation, cid)
        assert conv.csat_rating == 4 and conv.csat_comment == "rapido, valeu <b>!</b>"
    # The thanks, then (a calm moment, this visitor never asked before) the NPS question (tests/chat/test_surveys.py).
    assert [m["payload"]["kind"] for m in history(client, token)[-2:]] == ["csat_thanks", "nps"]


def test_contact_details_are_stored(client: TestClient) -> None:
    token = open_session(client, "pt")
    missing = client.post("/api/chat/contact", json={"token": token, "name": "Ana"})
    assert missing.status_code == 422
    bad_email = client.post("/api/chat/contact", json={"token": token, "email": "ana@"})
    assert bad_email.status_code == 422
    ok = client.post("/api/chat/contact", json={"token": token, "name": "Ana Souza", "email": "ana@example.com",
                                                "phone": "(11) 98765-4321"})
    assert ok.status_code == 200
    with client.app.state.db.session() as s:
        row = s.get(ContactRequest, ok.json()["id"])
        assert (row.name, row.email, row.phone) == ("Ana Souza", "ana@example.com", "(11) 98765-4321")
    assert history(client, token)[-1]["payload"]["kind"] == "contact_saved"


def test_cors_lets_the_widget_run_on_another_site(client: TestClient) -> None:
    preflight = client.options("/api/chat/csat", headers={"Origin": "https://loja.example",
                                                          "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    refused = client.post("/api/chat/csat", json={"token": "forged", "rating": 5})
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == "*"
