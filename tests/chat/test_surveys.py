"""Surveys without the bot: NPS after a CSAT answer, its per-customer cap, skipping, bad input, trouble; when CSAT
is due (services/chat/surveys.py). The bot-ended and idle-closed conversations with the real Rasa are in
test_surveys_with_rasa.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.chat import surveys
from services.configcheck.check import check_all
from services.conversations import kinds
from services.conversations.models import ConversationEvent
from tests.chat.test_service import to_people

T0 = datetime(2026, 11, 2, 15, 0, 0)


def start(client: TestClient, visitor: str | None = None, lang: str = "pt") -> dict[str, Any]:
    """A new conversation (no chat token) from a browser that has ``visitor`` (or none yet)."""
    response = client.post("/api/chat/session", json={"lang": lang, "visitor": visitor})
    assert response.status_code == 200, response.text
    return response.json()


def kinds_of(client: TestClient, token: str) -> list[str]:
    """The payload kinds of the conversation's messages, in order (system notices carry one)."""
    body = client.get("/api/chat/history", headers={"Authorization": f"Bearer {token}"}).json()
    return [m["payload"].get("kind", m["role"]) for m in body["messages"]]


def events(client: TestClient, cid: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in client.app.state.conversations.history(cid) if e["kind"] == kind]


def rate(client: TestClient, token: str, rating: int = 5) -> None:
    response = client.post("/api/chat/csat", json={"token": token, "rating": rating})
    assert response.status_code == 200, response.text


def at(client: TestClient, when: datetime) -> None:
    client.app.state.conversations.clock = lambda: when


def test_nps_at_most_once_per_visitor_per_period(client: TestClient) -> None:
    at(client, T0)
    first = start(client)
    rate(client, first["token"])
    assert kinds_of(client, first["token"])[-2:] == ["csat_thanks", "nps"]
    [asked] = events(client, first["conversation"]["id"], kinds.NPS_REQUESTED)
    body = client.get("/api/chat/history", headers={"Authorization": f"Bearer {first['token']}"}).json()
    question = body["messages"][-1]
    assert asked["data"]["seq"] == question["seq"] and question["text"].startswith("De 0 a 10, o quanto você")
    assert question["payload"] == {"kind": "nps", "scale": [0, 10]}
    answer = client.post("/api/chat/nps", json={"token": first["token"], "score": 9, "comment": "muito bom"})
    assert answer.status_code == 200 and answer.json()["score"] == 9
    [nps] = events(client, first["conversation"]["id"], kinds.NPS)
    assert nps["data"] == {"score": 9, "comment": "muito bom", "skipped": False}
    assert kinds_of(client, first["token"])[-1] == "nps_thanks"

    # The same browser (its visitor token) 29 days later: a new conversation, a CSAT answer, no NPS.
    at(client, T0 + timedelta(days=29))
    second = start(client, visitor=first["visitor"])
    assert second["conversation"]["id"] != first["conversation"]["id"]
    rate(client, second["token"])
    assert kinds_of(client, second["token"])[-1] == "csat_thanks"
    assert events(client, second["conversation"]["id"], kinds.NPS_REQUESTED) == []

    # Another person (another browser) is asked meanwhile: the cap is per customer, not for everyone.
    other = start(client)
    rate(client, other["token"])
    assert kinds_of(client, other["token"])[-1] == "nps"

    # After the 30 days of services/chat/chat.yml the first visitor may be asked again.
    at(client, T0 + timedelta(days=31))
    third = start(client, visitor=first["visitor"])
    rate(client, third["token"])
    assert kinds_of(client, third["token"])[-1] == "nps"


def test_a_forged_visitor_token_gets_a_new_visitor_not_the_victims_cap(client: TestClient) -> None:
    at(client, T0)
    first = start(client)
    forged = first["visitor"][:-3] + ("abc" if not first["visitor"].endswith("abc") else "xyz")
    second = start(client, visitor=forged)
    assert second["visitor"] != first["visitor"]
    rate(client, first["token"])
    rate(client, second["token"])
    assert kinds_of(client, second["token"])[-1] == "nps"  # a different person: asked too


def test_skipping_nps_is_recorded_and_closes_the_question(client: TestClient) -> None:
    at(client, T0)
    s = start(client, lang="en")
    cid = s["conversation"]["id"]
    rate(client, s["token"], 3)
    skipped = client.post("/api/chat/nps", json={"token": s["token"], "skipped": True, "score": 10})
    assert skipped.status_code == 200 and skipped.json() == {"ok": True, "score": None, "skipped": True}
    [nps] = events(client, cid, kinds.NPS)
    assert nps["data"] == {"score": None, "comment": None, "skipped": True}
    assert kinds_of(client, s["token"])[-1] == "nps_skipped"
    again = client.post("/api/chat/nps", json={"token": s["token"], "score": 7})
    assert again.status_code == 409 and again.json()["detail"]["code"] == "no_nps_question"
    # A skip counts as asked: the same visitor is not asked again within the period.
    at(client, T0 + timedelta(days=3))
    later = start(client, visitor=s["visitor"])
    rate(client, later["token"])
    assert events(client, later["conversation"]["id"], kinds.NPS_REQUESTED) == []


@pytest.mark.parametrize("body", [{"score": 11}, {"score": -1}, {"score": "7"}, {"score": True}, {"score": 7.5},
                                  {}, {"score": None}, {"score": 8, "comment": "x" * 5000},
                                  {"score": 8, "skipped": "talvez"}])
def test_bad_nps_answers_are_refused_and_the_question_stays_open(client: TestClient, body: dict) -> None:
    at(client, T0)
    s = start(client)
    rate(client, s["token"])
    response = client.post("/api/chat/nps", json={"token": s["token"], **body})
    assert response.status_code == 422, response.text
    assert events(client, s["conversation"]["id"], kinds.NPS) == []
    ok = client.post("/api/chat/nps", json={"token": s["token"], "score": 0})
    assert ok.status_code == 200  # nothing lost: the customer can still answer


def test_nps_without_a_question_malformed_or_unauthenticated(client: TestClient) -> None:
    s = start(client)
    early = client.post("/api/chat/nps", json={"token": s["token"], "score": 8})
    assert early.status_code == 409
    malformed = client.post("/api/chat/nps", content=b"{score: 8", headers={"Content-Type": "application/json",
                                                                              "Authorization": f"Bearer {s['token']}"})
    assert malformed.status_code == 422
    binary = client.post("/api/chat/nps", content=b"\xff\xfe\x00", headers={"Content-Type": "application/json"})
    assert binary.status_code in (400, 422)  # a clear refusal, never a 500
    assert client.post("/api/chat/nps", json={"token": "forged", "score": 8}).status_code == 401


def test_no_nps_while_a_person_is_needed_or_right_after_a_fallback(client: TestClient) -> None:
    at(client, T0)
    chat = client.app.state.chat
    queued = start(client)
    client.portal.call(lambda: to_people(chat, queued["conversation"]["id"]))
    rate(client, queued["token"])
    assert events(client, queued["conversation"]["id"], kinds.NPS_REQUESTED) == []

    confused = start(client)
    cid = confused["conversation"]["id"]
    client.portal.call(lambda: chat.conversations.run(
        lambda tx: tx.append(cid, kinds.FALLBACK, "bot", customer_seq=1, ranking=[])))
    rate(client, confused["token"])
    assert events(client, cid, kinds.NPS_REQUESTED) == []
    # The control: the same kind of conversation without the fallback is asked (the test can fail).
    calm = start(client)
    rate(client, calm["token"])
    assert len(events(client, calm["conversation"]["id"], kinds.NPS_REQUESTED)) == 1


def e(kind: str, **data: Any) -> dict[str, Any]:
    return {"kind": kind, "data": data}


def test_when_csat_is_due_for_a_bot_conversation() -> None:
    greeted = [e(kinds.OPENED), e(kinds.CUSTOMER_MESSAGE), e(kinds.BOT_REPLY, intent="greet"),
               e(kinds.CUSTOMER_MESSAGE), e(kinds.BOT_REPLY, intent="goodbye")]
    assert not surveys.bot_ending_due(greeted)  # "oi" then "tchau": nothing was resolved
    answered = greeted[:3] + [e(kinds.CUSTOMER_MESSAGE), e(kinds.BOT_REPLY, intent="shipping_cost"),
                              e(kinds.CUSTOMER_MESSAGE), e(kinds.BOT_REPLY, intent="thanks")]
    assert surveys.bot_ending_due(answered)
    assert surveys.bot_ending_due(greeted[:3] + [e(kinds.KB_ANSWER, article_id="a")])
    asked = answered + [e(kinds.CSAT_REQUESTED, seq=9)]
    assert not surveys.bot_ending_due(asked)  # once per conversation
    # Back after the end: a new contact needs its own answer before another question.
    reopened = asked + [e(kinds.REOPENED), e(kinds.CUSTOMER_MESSAGE), e(kinds.BOT_REPLY, intent="thanks")]
    assert not surveys.bot_ending_due(reopened)
    assert surveys.bot_ending_due(reopened + [e(kinds.BOT_REPLY, intent="warranty")])


def test_what_counts_as_trouble_for_nps() -> None:
    assert surveys.in_trouble([e(kinds.BOT_REPLY, intent="warranty"), e(kinds.ESCALATED)])
    assert surveys.in_trouble([e(kinds.BOT_REPLY, intent="nlu_fallback"), e(kinds.CSAT, rating=4)])
    assert surveys.in_trouble([e(kinds.FALLBACK), e(kinds.CSAT_REQUESTED), e(kinds.CSAT, rating=2)])
    assert not surveys.in_trouble([e(kinds.ESCALATED), e(kinds.AGENT_JOINED), e(kinds.RESOLVED),
                                   e(kinds.CSAT_REQUESTED), e(kinds.CSAT, rating=5)])
    assert not surveys.in_trouble([e(kinds.BOT_REPLY, intent="thanks"), e(kinds.CSAT, rating=5)])


def test_survey_settings_are_validated(tmp_path: Path) -> None:
    chat = tmp_path / "chat.yml"
    chat.write_text("nps_every_days: 0\nsurvey_end_intents: []\n")
    found = {p.key for p in check_all(chat=chat)}
    assert {"nps_every_days", "survey_end_intents"} <= found
    chat.write_text("nps_every_days: trinta\n")
    assert "nps_every_days" in {p.key for p in check_all(chat=chat)}
    chat.write_text("survey_end_intents: [goodbye, tchau]\n")  # a typo would silently never ask
    assert [p.problem for p in check_all(chat=chat) if p.key == "survey_end_intents"] == \
        ["'tchau' is not an intent of domain.yml"]
    chat.write_text("nps_every_days: 45\nsurvey_end_intents: [goodbye]\n")
    assert not [p for p in check_all(chat=chat) if p.file == str(chat)]


def test_nps_events_are_ordinary_log_rows(client: TestClient) -> None:
    """Metrics read kind ``nps`` with data.score (services/metrics/definitions.py NPS_KIND)."""
    from services.metrics.definitions import NPS_KIND

    at(client, T0)
    s = start(client)
    rate(client, s["token"])
    client.post("/api/chat/nps", json={"token": s["token"], "score": 6})
    with client.app.state.db.session() as session:
        rows = session.scalars(select(ConversationEvent).where(ConversationEvent.kind == NPS_KIND)).all()
        assert [(r.conversation_id, r.data["score"], r.actor) for r in rows] == [(s["conversation"]["id"], 6,
                                                                                  "customer")]
