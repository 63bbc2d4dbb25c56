"""The pieces of the metrics on their own: business-hours arithmetic, contact splitting, NPS, CSV, query rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handoff.hours import BusinessHours
from handoff.policy import load_policy
from services.metrics import aggregate
from services.metrics.calendar import Durations
from services.metrics.csv_export import to_csv
from services.metrics.definitions import BOT_RESOLUTION, NPS, Sample, contact_samples
from services.metrics.query import QueryError, build_query
from services.metrics.report import Table
from services.metrics.store import Ev
from services.metrics.timeline import split
from tests.metrics.conftest import sp

SP = ZoneInfo("America/Sao_Paulo")


@pytest.fixture(scope="module")
def hours() -> BusinessHours:
    return BusinessHours(load_policy())  # handoff/policy.yml: Mon-Sat 08:00-20:00, national holidays


def test_business_seconds_across_a_holiday_and_a_weekend(hours: BusinessHours) -> None:
    d = Durations(hours, business_hours=True)
    # Thu 19 Nov 19:30 -> Mon 23 Nov 08:20: 30 min Thursday, Friday 20 Nov is a holiday, 12 h Saturday,
    # Sunday closed, 20 min Monday
    assert d.seconds("atendimento", sp("2026-11-19 19:30"), sp("2026-11-23 08:20")) == 30 * 60 + 12 * 3600 + 20 * 60
    assert d.seconds("suporte", sp("2026-11-20 09:00"), sp("2026-11-20 18:00")) == 0  # the holiday
    assert d.seconds("suporte", sp("2026-11-22 00:00"), sp("2026-11-23 00:00")) == 0  # Sunday
    assert d.seconds("suporte", sp("2026-11-23 07:00"), sp("2026-11-23 09:00")) == 3600  # opens at 08:00
    assert d.seconds(None, sp("2026-11-22 00:00"), sp("2026-11-23 00:00")) == 86400  # no team: wall-clock
    assert Durations(hours, business_hours=False).seconds(
        "suporte", sp("2026-11-22 00:00"), sp("2026-11-23 00:00")) == 86400


def _ev(i: int, kind: str, at: datetime, status: str = "bot", **data: object) -> Ev:
    return Ev(i, "c1", kind, "customer", None, None, None, status, dict(data), at)


def test_contacts_split_on_reopen_and_on_a_long_silence() -> None:
    t = sp("2026-11-23 10:00")
    events = [_ev(1, "conversation_opened", t, language="pt"),
              _ev(2, "customer_message", t),
              _ev(3, "bot_reply", t + timedelta(seconds=2), seq=2, intent="order_status"),
              _ev(4, "customer_message", t + timedelta(hours=23)),  # within 24 h: the same contact
              _ev(5, "customer_message", t + timedelta(hours=48)),  # 25 h of silence: a new contact
              _ev(6, "language_changed", t + timedelta(hours=48), language="en"),
              _ev(7, "customer_message", t + timedelta(hours=50), status="resolved"),  # returned after the end
              _ev(8, "reopened", t + timedelta(hours=50))]
    contacts = split(events, timedelta(hours=24), frozenset({"order_status"}), lambda _i: "atendimento")
    assert [len(c.events) for c in contacts] == [3, 2, 2]
    assert [c.language for c in contacts] == ["pt", "en", "en"]
    assert contacts[0].intent == "order_status" and contacts[0].team == "atendimento"
    assert contacts[1].intent is None and contacts[1].team is None
    assert contacts[1].previous_end == t + timedelta(hours=23)
    assert contacts[0].next_start == t + timedelta(hours=48)


def _nps(*scores: int) -> dict[str, object]:
    return aggregate.figures([Sample(NPS, sp("2026-11-23 10:00"), "c", None, None, None, value=float(s))
                              for s in scores])["nps"]


def test_nps_is_promoters_minus_detractors() -> None:
    assert _nps(10, 9, 8, 6, 0) == {"responses": 5, "promoters_pct": 40.0, "detractors_pct": 40.0, "score": 0.0,
                                    "status": "ok"}
    assert _nps(10, 10, 7)["score"] == 66.7
    assert _nps()["status"] == "no data"


def test_csv_keeps_spreadsheet_formulas_inert() -> None:
    table = Table("kb_articles", ["article_id", "title", "helped_pct"], [["a", "=HYPERLINK(\"x\")", None],
                                                                       ["b", "Troca, devolução", 12.5]])
    assert to_csv(table) == ("article_id,title,helped_pct\r\na,\"'=HYPERLINK(\"\"x\"\")\",\r\n"
                             "b,\"Troca, devolução\",12.5\r\n")


def test_query_days_are_business_days_and_end_is_inclusive() -> None:
    q = build_query(start="2026-11-19", end="2026-11-23", today=date(2026, 12, 1), tz=SP, teams=("atendimento",))
    assert (q.start, q.end) == (datetime(2026, 11, 19, 3), datetime(2026, 11, 24, 3))
    assert (q.previous().start, q.previous().end) == (datetime(2026, 11, 14, 3), datetime(2026, 11, 19, 3))
    default = build_query(start=None, end=None, today=date(2026, 12, 1), tz=SP, teams=("atendimento",))
    assert default.span == timedelta(days=30) and default.end == datetime(2026, 12, 2, 3)
    with pytest.raises(QueryError, match="assumed_resolution_hours"):
        build_query(start=None, end=None, today=date(2026, 12, 1), tz=SP, teams=(), assumed_hours=0)


def test_the_idle_close_is_not_activity(hours: BusinessHours) -> None:
    """A bot contact closed by the product after 24 h idle is assumed resolved 24 h after its last reply."""
    t = sp("2026-11-23 10:00")
    events = [_ev(1, "conversation_opened", t, language="pt"), _ev(2, "customer_message", t),
              _ev(3, "bot_reply", t + timedelta(seconds=2), seq=2, intent="order_status"),
              Ev(4, "c1", "closed", "system", None, None, None, "closed", {"why": "idle"}, t + timedelta(hours=24))]
    window = timedelta(hours=24)
    (contact,) = split(events, window, frozenset({"order_status"}), lambda _i: "atendimento")
    samples = contact_samples(contact, Durations(hours, False), t + timedelta(hours=24, minutes=1), window)
    assert [s.outcome for s in samples if s.metric == BOT_RESOLUTION] == ["assumed"]
    # the customer comes back 6 h after the idle close (30 h after the reply): a new contact, not a quick return
    back = [*events, _ev(5, "customer_message", t + timedelta(hours=30), status="closed")]
    first, second = split(back, window, frozenset({"order_status"}), lambda _i: "atendimento")
    samples = contact_samples(first, Durations(hours, False), t + timedelta(hours=31), window)
    assert [s.outcome for s in samples if s.metric == BOT_RESOLUTION] == ["assumed"]
    assert second.previous_end == t + timedelta(seconds=2)
