"""CSAT for bot-only conversations with the real bot: ended by the customer's thanks/goodbye after an answer, or
closed idle after one; "oi" then "tchau" is not a resolved conversation and gets no question.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.chat.models import utcnow
from services.conversations import kinds
from tests.chat.test_identity_with_rasa import bot_text, gateway_with_rasa, open_chat, say

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def with_rasa(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with gateway_with_rasa(stack, tmp_path_factory.mktemp("surveys-rasa")) as client:
        yield client


def conversation_id(client: TestClient, token: str) -> str:
    return client.app.state.chat_tokens.verify(token)


def logged(client: TestClient, token: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in client.app.state.conversations.history(conversation_id(client, token)) if e["kind"] == kind]


def notices(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in messages if m["role"] == "system" and m["payload"].get("kind") == kind]


def test_bot_only_conversation_ended_by_thanks_gets_the_csat_question(with_rasa: TestClient) -> None:
    token = open_chat(with_rasa)
    answer = say(with_rasa, token, "quanto custa o frete?")
    assert bot_text(answer) and not notices(answer, "csat")
    end = say(with_rasa, token, "valeu, era isso")
    reading = [e["data"]["intent"] for e in logged(with_rasa, token, kinds.BOT_REPLY)][-1]
    assert reading in ("thanks", "goodbye")
    [question] = notices(end, "csat")
    assert question["text"] == "Como foi seu atendimento? Dê uma nota de 1 a 5."
    [requested] = logged(with_rasa, token, kinds.CSAT_REQUESTED)
    assert requested["data"]["seq"] == question["seq"]
    # Once per conversation: another goodbye does not ask again.
    assert not notices(say(with_rasa, token, "tchau"), "csat")
    assert len(logged(with_rasa, token, kinds.CSAT_REQUESTED)) == 1
    rated = with_rasa.post("/api/chat/csat", json={"token": token, "rating": 5, "comment": "resolveu"})
    assert rated.status_code == 200
    assert [e["data"]["rating"] for e in logged(with_rasa, token, kinds.CSAT)] == [5]


def test_greeting_then_goodbye_is_not_asked(with_rasa: TestClient) -> None:
    token = open_chat(with_rasa)
    say(with_rasa, token, "oi")
    bye = say(with_rasa, token, "tchau")
    assert bot_text(bye) and not notices(bye, "csat")
    assert logged(with_rasa, token, kinds.CSAT_REQUESTED) == []


def test_idle_closed_bot_conversation_gets_the_csat_question(with_rasa: TestClient) -> None:
    token = open_chat(with_rasa, lang="en")
    assert bot_text(say(with_rasa, token, "how do I return a product?"))
    conversations = with_rasa.app.state.conversations
    closer = with_rasa.app.state.idle_closer
    later = utcnow() + closer.idle_after + timedelta(hours=1)
    conversations.clock = lambda: later
    try:
        closed = with_rasa.portal.call(closer.run_once)
    finally:
        conversations.clock = utcnow
    assert closed >= 1
    [closing] = logged(with_rasa, token, kinds.CLOSED)
    assert closing["data"]["why"] == "idle"
    history = with_rasa.get("/api/chat/history", headers={"Authorization": f"Bearer {token}"}).json()
    assert history["conversation"]["status"] == "closed"
    [question] = notices(history["messages"], "csat")
    assert question["text"] == "How was your experience? Please rate it from 1 to 5."
    assert len(logged(with_rasa, token, kinds.CSAT_REQUESTED)) == 1
    # The customer can still answer it, and the answer is stored with the (closed) conversation.
    assert with_rasa.post("/api/chat/csat", json={"token": token, "rating": 4}).status_code == 200
    assert [e["data"]["rating"] for e in logged(with_rasa, token, kinds.CSAT)] == [4]
