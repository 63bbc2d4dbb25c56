"""Every metric on a small history written through the product's code paths, against hand-computed numbers.

The history (São Paulo times; teams open Mon-Sat 08:00-20:00; Friday 20 Nov 2026 is a national holiday):

| contact | what happens |
|---|---|
| D  | Thu 19 Nov 19:29 asks about an order, bot replies in 5 s; 19:30 escalated (nobody online: offline ticket); Ana claims Mon 23 08:15, replies 08:20, resolves 08:40; never answers the survey |
| A  | Mon 10:00 order question, KB answer in 2 s, 10:01 "it helped" |
| B  | Mon 10:00 (English) password question, KB answer in 4 s, no feedback, never back |
| C  | Mon 10:00 order question, bot 3 s; 10:02 escalated to Atendimento; Ana claims 10:05, replies 10:06, transfers to Suporte 10:10; Bruno claims 10:20, replies 10:25, resolves 10:30; CSAT 5 at 10:31 |
| E0 | Mon 11:00 payment failed, bot 2 s; 11:01 escalated (frustration); Ana claims 11:02, replies 11:03, resolves 11:05 |
| E1 | the same conversation, 11:30 "still failing" (reopened), bot 1 s; 11:31 escalated (repeated_fallback); Ana claims 11:33, replies 11:34, resolves 11:40; CSAT 2 at 11:41 |
| F  | Mon 12:00 app login problem, bot 6 s; 12:01 escalated to Suporte; nobody takes it |

The report covers 19-23 Nov and is read on Wed 25 Nov 11:00. docs/metrics.md works through the same numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest

from tests.metrics.conftest import World, sp

PERIOD = {"start": "2026-11-19", "end": "2026-11-23"}
KB_TRACK = {"asked": "helped", "article_id": "rastrear-pedido", "title": "Como rastrear meu pedido",
            "url": "/ajuda/rastrear-pedido", "score": 0.82}
KB_PASSWORD = {"asked": "helped", "article_id": "redefinir-senha", "title": "Reset your password",
               "url": "/help/reset-password", "score": 0.77}


@pytest.fixture(scope="module")
def world(make_world: Callable[..., World]) -> World:
    return write_history(make_world(sp("2026-11-19 19:00")))


def write_history(w: World) -> World:
    """The history of the module docstring, through the chat and handoff APIs; the clock ends on Wed 25 11:00."""
    w.agent("Ana", ["atendimento"])
    w.agent("Bruno", ["suporte"])
    w.agent("Lia", ["atendimento", "suporte"], role="lead")

    # D: Thursday evening, before a holiday and a weekend; nobody online -> offline ticket.
    w.at(sp("2026-11-19 19:29"))
    d_cid, d_tok = w.customer("pt")
    w.rasa.expect(d_cid, "Vou verificar seu pedido.", "order_status", 5)
    w.say(d_tok, "meu pedido nao chegou")
    w.at(sp("2026-11-19 19:30"))
    d_h = w.escalate(d_cid, "customer_request", "order_status")
    w.at(sp("2026-11-23 08:15")).online("Ana")
    w.act("Ana", f"{d_h}/claim")
    w.at(sp("2026-11-23 08:20")).act("Ana", f"{d_h}/messages", {"text": "Oi, sou a Ana. Vou ver seu pedido."})
    w.at(sp("2026-11-23 08:40")).act("Ana", f"{d_h}/resolve", {"tag": "pedido_atualizado"})

    # A: the knowledge base answers and the customer says it helped.
    w.at(sp("2026-11-23 10:00"))
    a_cid, a_tok = w.customer("pt")
    w.rasa.expect(a_cid, "Veja como rastrear seu pedido.", "order_status", 2, kb=KB_TRACK)
    w.say(a_tok, "como rastreio meu pedido")
    w.at(sp("2026-11-23 10:01"))
    w.rasa.expect(a_cid, "Que bom que ajudou!", "affirm", 1,
                  kb={"feedback": "helped", "article_id": "rastrear-pedido"})
    w.say(a_tok, "sim, ajudou")

    # B: an answer, no feedback, never back (assumed resolution).
    w.at(sp("2026-11-23 10:00"))
    b_cid, b_tok = w.customer("en")
    w.rasa.expect(b_cid, "Here is how to reset your password.", "password_reset", 4, language="en", kb=KB_PASSWORD)
    w.say(b_tok, "how do I reset my password")

    # C: escalated, transferred to the other team, resolved, rated 5.
    w.at(sp("2026-11-23 10:00"))
    c_cid, c_tok = w.customer("pt")
    w.rasa.expect(c_cid, "Seu pedido está em separação.", "order_status", 3)
    w.say(c_tok, "cade meu pedido 20481234")
    w.at(sp("2026-11-23 10:02")).online("Ana", "Bruno")
    c_h = w.escalate(c_cid, "customer_request", "order_status")
    w.at(sp("2026-11-23 10:05")).online("Ana")
    w.act("Ana", f"{c_h}/claim")
    w.at(sp("2026-11-23 10:06")).act("Ana", f"{c_h}/messages", {"text": "Oi! Sou a Ana."})
    w.at(sp("2026-11-23 10:10")).online("Ana", "Bruno")
    w.act("Ana", f"{c_h}/transfer", {"team": "suporte"})
    w.at(sp("2026-11-23 10:20")).online("Bruno")
    w.act("Bruno", f"{c_h}/claim")
    w.at(sp("2026-11-23 10:25")).act("Bruno", f"{c_h}/messages", {"text": "Oi, aqui é o Bruno do suporte."})
    w.at(sp("2026-11-23 10:30")).act("Bruno", f"{c_h}/resolve", {"tag": "problema_tecnico_resolvido"})
    w.at(sp("2026-11-23 10:31")).rate(c_tok, 5)

    # E: resolved, reopened by the customer, escalated again, resolved, rated 2 (for the second time).
    w.at(sp("2026-11-23 11:00"))
    e_cid, e_tok = w.customer("pt")
    w.rasa.expect(e_cid, "Sinto muito. Vamos ver o pagamento.", "payment_failed", 2)
    w.say(e_tok, "meu pagamento falhou")
    w.at(sp("2026-11-23 11:01")).online("Ana")
    e_h1 = w.escalate(e_cid, "frustration", "payment_failed")
    w.at(sp("2026-11-23 11:02")).online("Ana")
    w.act("Ana", f"{e_h1}/claim")
    w.at(sp("2026-11-23 11:03")).act("Ana", f"{e_h1}/messages", {"text": "Vou verificar o pagamento."})
    w.at(sp("2026-11-23 11:05")).act("Ana", f"{e_h1}/resolve", {"tag": "resolvido"})
    w.at(sp("2026-11-23 11:30"))
    w.rasa.expect(e_cid, "Vamos tentar de novo.", "payment_failed", 1)
    w.say(e_tok, "continua falhando")
    w.at(sp("2026-11-23 11:31")).online("Ana")
    e_h2 = w.escalate(e_cid, "repeated_fallback", "payment_failed")
    w.at(sp("2026-11-23 11:33")).online("Ana")
    w.act("Ana", f"{e_h2}/claim")
    w.at(sp("2026-11-23 11:34")).act("Ana", f"{e_h2}/messages", {"text": "Estou aqui de novo."})
    w.at(sp("2026-11-23 11:40")).act("Ana", f"{e_h2}/resolve", {"tag": "resolvido"})
    w.at(sp("2026-11-23 11:41")).rate(e_tok, 2, "Demorou e o pagamento ainda falha")

    # F: still waiting in Suporte's queue when the period ends.
    w.at(sp("2026-11-23 12:00"))
    f_cid, f_tok = w.customer("pt")
    w.rasa.expect(f_cid, "Vamos resolver seu acesso.", "app_login_problem", 6)
    w.say(f_tok, "nao consigo entrar no app")
    w.unanswered(f_cid, "Nao consigo entrar no app ")
    w.unanswered(f_cid, "nao consigo entrar no app")
    w.at(sp("2026-11-23 12:01")).online("Bruno")
    w.escalate(f_cid, "customer_request", "app_login_problem")

    w.at(sp("2026-11-25 11:00"))
    return w


def report(w: World, who: str = "Lia", **params: Any) -> dict[str, Any]:
    r = w.console(who).get("/api/metrics/report", params={**PERIOD, **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_first_response_times_bot_and_human(world: World) -> None:
    f = report(world)["figures"]
    assert f["contacts"] == 7
    # bot: 5, 2, 4, 3, 2, 1, 6 seconds
    assert f["frt_bot"] | {"buckets": None} == {"count": 7, "pending": 0, "mean_seconds": 3.3, "median_seconds": 3.0,
                                                "p90_seconds": 6.0, "buckets": None}
    assert f["frt_bot"]["buckets"]["0-1 min"] == 7
    # human: C 240 s, D 305,400 s (Thursday 19:30 to Monday 08:20), E0 120 s, E1 180 s; F still waiting
    assert f["frt_human"]["count"] == 4 and f["frt_human"]["pending"] == 1
    assert f["frt_human"]["median_seconds"] == 210.0
    assert f["frt_human"]["mean_seconds"] == 76485.0
    assert f["frt_human"]["p90_seconds"] == 305400.0
    assert f["frt_human"]["buckets"] == {"0-1 min": 0, "1-5 min": 3, "5-15 min": 0, "15-60 min": 0, "1 h+": 1}


def test_business_hours_skip_the_holiday_and_the_weekend(world: World) -> None:
    f = report(world, business_hours="true")["figures"]
    # D in business hours: Thu 19:30-20:00 + Sat 08:00-20:00 + Mon 08:00-08:20 (Fri holiday, Sun closed)
    assert f["frt_human"]["p90_seconds"] == 46200.0
    assert f["frt_human"]["mean_seconds"] == (240 + 46200 + 120 + 180) / 4
    # D's wait in the queue: to Monday 08:15; its resolution time from the customer's first message (19:29)
    assert f["queue_wait"]["p90_seconds"] == 45900.0
    assert f["resolution_time"]["p90_seconds"] == 47460.0
    # F waits from Monday 12:01 to the end of the period (midnight): open until 20:00
    assert report(world, business_hours="true")["figures"]["backlog"]["oldest_wait_seconds"] == 28740.0
    # the bot works at every hour: its first responses do not change
    assert f["frt_bot"]["median_seconds"] == 3.0
    wall = report(world)["figures"]
    assert wall["queue_wait"]["p90_seconds"] == 305100.0
    assert wall["resolution_time"]["p90_seconds"] == 306660.0
    assert wall["backlog"]["oldest_wait_seconds"] == 43140.0


def test_resolution_reopen_transfer_handling_and_queue(world: World) -> None:
    f = report(world)["figures"]
    # C 1800 s (from 10:00), D 306,660 s, E0 300 s, E1 600 s (from the reopening message at 11:30)
    assert f["resolution_time"] == {"count": 4, "pending": 0, "mean_seconds": 77340.0, "median_seconds": 1200.0,
                                    "p90_seconds": 306660.0}
    # queue: C 180 s at Atendimento and 600 s at Suporte after the transfer, D 305,100 s (offline ticket),
    # E0 60 s, E1 120 s; F still waiting
    q = f["queue_wait"]
    assert (q["count"], q["pending"], q["median_seconds"], q["offline_tickets"], q["abandoned"]) == (5, 1, 180.0, 1, 0)
    # handling: Ana C 300 s (until the transfer), Bruno C 600 s, Ana D 1500 s, E0 180 s, E1 420 s
    h = f["handling_time"]
    assert (h["count"], h["median_seconds"], h["total_seconds"], h["resolved"]) == (5, 420.0, 3000.0, 4)
    assert f["backlog"] == {"waiting": 1, "offline_tickets": 0, "assigned": 0, "oldest_wait_seconds": 43140.0}
    assert f["repeat_contact"] == {"contacts": 7, "within_7d": 1, "within_30d": 1, "pct_7d": 14.3, "pct_30d": 14.3,
                                   "same_topic_7d": 1}


def test_csat_nps_containment_handoffs_kb(world: World) -> None:
    f = report(world)["figures"]
    # ratings 5 (C) and 2 (E1); four resolutions asked, D and E0 never answered
    assert f["csat"] == {"responses": 2, "satisfied": 1, "satisfied_pct": 50.0, "average": 3.5, "surveys": 4,
                         "answered": 2, "response_pct": 50.0}
    assert f["nps"] == {"responses": 0, "score": None, "status": "no data"}
    assert f["containment"] == {"contacts": 7, "contained": 2, "pct": 28.6}
    assert f["bot_resolution"] == {"confirmed": 1, "assumed": 1, "unresolved": 5, "pending": 0,
                                   "confirmed_pct": 14.3, "assumed_pct": 14.3, "pct": 28.6}
    assert f["handoff"] == {"contacts": 7, "escalated": 5, "pct": 71.4, "escalations_by_reason": {
        "customer_request": 3, "frustration": 1, "repeated_fallback": 1}}
    assert f["kb"] == {"answers": 2, "feedback": 1, "helped": 1, "helped_pct": 100.0, "feedback_pct": 50.0}


def test_assumed_resolution_window_is_configurable(world: World) -> None:
    # B ended Monday 10:00; with 72 hours it is not assumed resolved yet on Wednesday 11:00
    f = report(world, assumed_resolution_hours=72)["figures"]
    assert f["bot_resolution"]["assumed"] == 0 and f["bot_resolution"]["pending"] == 1
    assert f["bot_resolution"]["pct"] == round(100 / 6, 1)


def test_filters_and_previous_period(world: World) -> None:
    r = report(world, team="suporte")
    # Suporte's contacts: B (password intent), C (ended in Suporte), F
    assert r["figures"]["contacts"] == 3
    # C's first human reply was Ana's, at Atendimento; F (Suporte) has not been answered yet
    assert (r["figures"]["frt_human"]["count"], r["figures"]["frt_human"]["pending"]) == (0, 1)
    en = report(world, language="en")["figures"]
    assert en["contacts"] == 1 and en["kb"]["answers"] == 1
    intent = report(world, intent="payment_failed")["figures"]
    assert intent["contacts"] == 2 and intent["resolution_time"]["count"] == 2
    prev = r["previous"]
    assert prev["start"] == "2026-11-14T03:00:00Z" and prev["end"] == "2026-11-19T03:00:00Z"
    assert prev["figures"]["contacts"] == 0


def test_agents_see_only_their_own_figures(world: World) -> None:
    f = report(world, who="Ana")["figures"]
    assert f["frt_human"]["count"] == 4  # C, D, E0, E1 were first answered by Ana
    assert f["handling_time"]["count"] == 4 and f["handling_time"]["total_seconds"] == 300 + 1500 + 180 + 420
    assert f["resolution_time"]["count"] == 3  # Bruno resolved C
    assert f["csat"]["responses"] == 1 and f["csat"]["average"] == 2.0  # E1's rating; C's 5 is Bruno's
    assert f["csat"]["surveys"] == 3 and f["csat"]["response_pct"] == 33.3
    assert f["contacts"] == 0 and f["backlog"]["waiting"] == 0  # bot figures and the queue belong to no agent
    ana_id = world.agents["Ana"][0]
    bruno_id = world.agents["Bruno"][0]
    assert world.console("Bruno").get("/api/metrics/report", params={**PERIOD, "agent": ana_id}).status_code == 403
    assert world.console("Ana").get("/api/metrics/report", params={**PERIOD, "agent": ana_id}).status_code == 200
    own = _csv(world.console("Ana").get("/api/metrics/tables/by_agent.csv", params=PERIOD).text)
    assert [row[:2] for row in own[1:]] == [[str(ana_id), "Ana"]]  # the CSV export is pinned to her too
    lead = report(world, agent=bruno_id)["figures"]
    assert lead["resolution_time"]["count"] == 1 and lead["csat"]["average"] == 5.0


def test_bad_requests_are_refused_clearly(world: World) -> None:
    lead = world.console("Lia")
    assert world.client.get("/api/metrics/report").status_code == 401
    cases = {"start=2026-11-30&end=2026-11-01": "is after end", "team=vendas": "team must be one of",
             "start=30/11/2026": "must be a date", "language=es": "language must be one of",
             "start=2025-01-01&end=2026-11-01": "at most 366 days"}
    for params, message in cases.items():
        r = lead.get(f"/api/metrics/report?{params}")
        assert r.status_code == 422 and message in r.text, (params, r.text)
    assert lead.get("/api/metrics/tables/nope", params=PERIOD).status_code == 404


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _as_csv_cell(value: Any) -> str:
    return "" if value is None else ("true" if value is True else "false" if value is False else str(value))


def test_json_and_csv_tables_give_the_same_numbers(world: World) -> None:
    lead = world.console("Lia")
    names = lead.get("/api/metrics/tables").json()["tables"]
    assert {"summary", "by_team", "by_agent", "handoff_reasons", "kb_articles", "backlog"} <= set(names)
    for name in names:
        js = lead.get(f"/api/metrics/tables/{name}", params=PERIOD)
        cs = lead.get(f"/api/metrics/tables/{name}.csv", params=PERIOD)
        assert js.status_code == 200 and cs.status_code == 200, name
        assert cs.headers["content-type"].startswith("text/csv")
        rows = _csv(cs.text)
        body = js.json()
        assert rows[0] == body["columns"], name
        assert rows[1:] == [[_as_csv_cell(v) for v in row] for row in body["rows"]], name
        assert len(rows) > 1, f"table {name} is empty in this history"
    summary = {row[0]: row for row in lead.get("/api/metrics/tables/summary", params=PERIOD).json()["rows"]}
    figures = report(world)["figures"]
    assert summary["frt_human.median_seconds"][1] == figures["frt_human"]["median_seconds"]
    assert summary["csat.satisfied_pct"][1] == 50.0 and summary["contacts"][3] == 7  # change vs previous: +7
    agents = lead.get("/api/metrics/tables/by_agent", params=PERIOD).json()
    bruno = next(row for row in agents["rows"] if row[1] == "Bruno")
    assert bruno[agents["columns"].index("resolution_time.count")] == 1
    reasons = lead.get("/api/metrics/tables/handoff_reasons", params=PERIOD).json()["rows"]
    assert reasons == [["customer_request", 3, 60.0, 0], ["frustration", 1, 20.0, 0],
                       ["repeated_fallback", 1, 20.0, 0]]
    kb = lead.get("/api/metrics/tables/kb_articles", params=PERIOD).json()["rows"]
    assert kb == [["rastrear-pedido", "Como rastrear meu pedido", 1, 1, 1, 100.0, 100.0],
                  ["redefinir-senha", "Reset your password", 1, 0, 0, None, 0.0]]
