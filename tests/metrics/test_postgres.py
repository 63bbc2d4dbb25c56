"""The same hand-computed history on PostgreSQL (production mode): the report's SQL (a window function for the
backlog, JSON fields read by the database) must give the numbers SQLite gives."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.handoff.conftest import fresh_pg_schema
from tests.metrics.conftest import World, sp
from tests.metrics.test_history import PERIOD, write_history


@pytest.fixture(scope="module")
def pg_world(make_world: Callable[..., World]) -> Iterator[World]:
    with fresh_pg_schema("test_metrics") as url:
        yield write_history(make_world(sp("2026-11-19 19:00"), url))


def _report(w: World, **params: Any) -> dict[str, Any]:
    r = w.console("Lia").get("/api/metrics/report", params={**PERIOD, **params})
    assert r.status_code == 200, r.text
    return r.json()["figures"]


def test_postgres_gives_the_hand_computed_numbers(pg_world: World) -> None:
    f = _report(pg_world)
    assert f["contacts"] == 7
    assert (f["frt_bot"]["median_seconds"], f["frt_human"]["median_seconds"]) == (3.0, 210.0)
    assert f["resolution_time"]["median_seconds"] == 1200.0
    assert f["csat"]["satisfied_pct"] == 50.0 and f["csat"]["response_pct"] == 50.0
    assert f["bot_resolution"]["pct"] == 28.6 and f["handoff"]["pct"] == 71.4
    assert f["kb"]["helped_pct"] == 100.0 and f["repeat_contact"]["within_7d"] == 1
    assert f["backlog"] == {"waiting": 1, "offline_tickets": 0, "assigned": 0, "oldest_wait_seconds": 43140.0}
    business = _report(pg_world, business_hours="true")
    assert business["frt_human"]["p90_seconds"] == 46200.0 and business["queue_wait"]["p90_seconds"] == 45900.0
