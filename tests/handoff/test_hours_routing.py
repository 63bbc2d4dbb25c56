"""Business hours (frozen clock, timezone, holidays), routing, queue order/estimates and the offline ticket."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from handoff.hours import BusinessHours
from handoff.policy import load_policy
from handoff.routing import Router
from tests.handoff.conftest import OPEN_TIME, Env, tracker_events, user

POLICY = load_policy()
HOURS = BusinessHours(POLICY)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_business_hours_in_sao_paulo_time() -> None:
    # Monday 23 Nov 2026: 07:59 and 20:00 in São Paulo are closed, 08:00 and 19:59 open (UTC-3).
    assert not HOURS.is_open("atendimento", utc(2026, 11, 23, 10, 59))
    assert HOURS.is_open("atendimento", utc(2026, 11, 23, 11, 0))
    assert HOURS.is_open("atendimento", utc(2026, 11, 23, 22, 59))
    assert not HOURS.is_open("atendimento", utc(2026, 11, 23, 23, 0))
    # 00:30 UTC Tuesday is still Monday 21:30 in São Paulo: closed.
    assert not HOURS.is_open("suporte", utc(2026, 11, 24, 0, 30))
    # Saturday open, Sunday closed.
    assert HOURS.is_open("suporte", utc(2026, 11, 28, 15, 0))
    assert not HOURS.is_open("suporte", utc(2026, 11, 29, 15, 0))


def test_holidays_close_every_team() -> None:
    # Friday 20 Nov 2026 (Consciência Negra) and Friday 25 Dec 2026 at noon.
    for moment in (utc(2026, 11, 20, 15, 0), utc(2026, 12, 25, 15, 0), utc(2027, 3, 26, 15, 0)):
        assert not HOURS.is_open("atendimento", moment)
        assert not HOURS.is_open("suporte", moment)
    # Next opening after Christmas Eve closing: Saturday 26 Dec 08:00 local.
    opening = HOURS.next_opening("atendimento", utc(2026, 12, 24, 23, 30))
    assert opening is not None and opening.isoformat() == "2026-12-26T08:00:00-03:00"


def test_routing_by_intent_topics_override_and_default() -> None:
    router = Router(POLICY)
    assert router.route(["request_human", "order_status"]).team == "atendimento"
    assert router.route(["request_human", "device_pairing", "order_status"]).team == "suporte"
    assert router.route(["greet", "request_human"]).source == "default"
    assert router.route(["greet"], category="support").team == "suporte"
    assert router.route(["greet"], kb_categories=["support"]).team == "suporte"
    override = Router(load_policy(POLICY.path), topics=router.topics)
    override.intent_teams["warranty"] = "suporte"
    assert override.route(["warranty"]).team == "suporte"
    assert router.route(["warranty"]).team == "atendimento"


def test_priority_then_fifo_and_estimates(env: Env) -> None:
    env.agent("a@lumo.test", "A", ["atendimento"])
    env.agent("b@lumo.test", "B", ["atendimento"])
    ids = []
    for reason in ("repeated_fallback", "customer_request", "frustration", "customer_request"):
        cid, _ = env.conversation()
        ids.append((env.escalate(cid, reason).json(), cid))
    # Later frustration (priority 1) goes first, then the two customer requests in arrival order.
    positions = {body["reason"] + str(i): body["position"] for i, (body, _) in enumerate(ids)}
    assert positions == {"repeated_fallback0": 1, "customer_request1": 1, "frustration2": 1, "customer_request3": 3}
    with env.app.state.db.session() as s:
        snapshot = env.svc.queue.snapshot(s, "atendimento")
    order = [entry["conversation_id"] for entry in snapshot]
    assert order == [ids[2][1], ids[1][1], ids[3][1], ids[0][1]]
    # Two agents online, 6 min per chat: positions 1-2 wait 6 min, 3-4 wait 12 min.
    assert [e["estimated_wait_minutes"] for e in snapshot] == [6, 6, 12, 12]
    ana = env.login("a@lumo.test")
    first = ana.get("/api/handoff/queue").json()["waiting"][0]
    assert first["reason"] == "frustration" and first["wait_seconds"] == 0


def test_offline_ticket_outside_hours_with_contact(make_env: Callable[..., Env]) -> None:
    env = make_env()
    env.agent("a@lumo.test", "A", ["atendimento"])
    sunday = datetime(2026, 11, 22, 15, 0)  # Sunday noon in São Paulo
    env.svc.clock = lambda: sunday
    cid, token = env.conversation()
    body = env.escalate(cid, events=[user("preciso falar com alguem sobre meu pedido", "request_human")]).json()
    assert body["status"] == "offline" and body["position"] is None
    assert "de segunda a sábado" in body["bot_text"] and "e-mail ou telefone" in body["bot_text"]
    history = env.client.get("/api/chat/history", params={"token": token}).json()["messages"]
    notice = history[-1]
    assert notice["payload"]["kind"] == "offline" and notice["payload"]["contact_form"] is True
    assert notice["payload"]["next_opening"].startswith("2026-11-23T08:00")
    r = env.client.post("/api/chat/contact", json={"token": token, "name": "Joao", "email": "joao@example.com",
                                                    "message": "me liguem"})
    assert r.status_code == 200
    # Monday morning an agent sees the ticket with the contact and the transcript, and picks it up.
    env.svc.clock = lambda: OPEN_TIME
    ana = env.login("a@lumo.test")
    waiting = ana.get("/api/handoff/queue").json()["waiting"]
    assert waiting[0]["status"] == "offline" and waiting[0]["contact"]["email"] == "joao@example.com"
    hid = waiting[0]["id"]
    detail = ana.get(f"/api/handoff/handoffs/{hid}").json()
    assert detail["transcript"]["messages"][0]["text"] == "preciso falar com alguem sobre meu pedido"
    assert ana.post(f"/api/handoff/handoffs/{hid}/claim").status_code == 200


def test_no_agent_online_makes_an_offline_ticket_in_english(env: Env) -> None:
    env.agent("a@lumo.test", "A", ["atendimento"], online=False)
    cid, _ = env.conversation("en")
    body = env.escalate(cid, events=tracker_events(), language="en").json()
    assert body["status"] == "offline"
    assert "Nobody from our Customer Service team is available right now" in body["bot_text"]


def test_away_agent_does_not_count_and_stale_presence_expires(env: Env) -> None:
    env.agent("a@lumo.test", "A", ["atendimento"])
    ana = env.login("a@lumo.test")
    assert ana.post("/api/handoff/me/status", json={"status": "away"}).status_code == 200
    cid, _ = env.conversation()
    assert env.escalate(cid).json()["status"] == "offline"
    ana.post("/api/handoff/me/status", json={"status": "online"})
    later = datetime(2026, 11, 23, 13, 5)  # five minutes without a console ping
    env.svc.clock = lambda: later
    cid2, _ = env.conversation()
    assert env.escalate(cid2).json()["status"] == "offline"
