"""The same hand-computed history on PostgreSQL (production mode): the report's SQL (a window function for the
backlog, JSON fields read by the database) must give the numbers SQLite gives."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.handoff.conftest import PG_ADMIN_URL
from tests.metrics.conftest import World, sp
from tests.metrics.test_history import PERIOD, write_history


@pytest.fixture(scope="module")
def pg_world(make_world: Callable[..., World]) -> Iterator[World]:
    schema = f"test_metrics_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # pragma: no cover - environment problem, reported clearly
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required: {error}")
    try:
        yield write_history(make_world(sp("2026-11-19 19:00"), f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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
