"""The demo order backend over HTTP, as the bot's action calls it."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from services.app import create_app
from services.internal_auth import HEADER, internal_token
from services.settings import load_settings


@pytest.fixture()
def client(tmp_path) -> Iterator[TestClient]:
    """A client calling as the action server does: with the internal token."""
    settings = load_settings(database_url=f"sqlite:///{tmp_path}/orders.db", data_dir=tmp_path)
    app = create_app(settings)
    with TestClient(app, headers={HEADER: internal_token(settings.secret_key)}) as test_client:
        yield test_client


def test_strangers_cannot_look_orders_up(client: TestClient) -> None:
    """Order numbers are 8 digits: an open endpoint let anyone walk through customers' orders."""
    for headers in ({HEADER: ""}, {HEADER: "guess"}):
        response = client.get("/api/orders/20481234", headers=headers)
        assert response.status_code == 401
        assert "20481234" not in response.text


def test_known_order_has_status_items_and_tracking(client: TestClient) -> None:
    body = client.get("/api/orders/20481234").json()
    assert body["status"] == "shipped"
    assert body["carrier"] == "Correios" and body["tracking_code"]
    assert body["items"][0]["name"] == "Lumo Watch 2"
    assert body["late"] is False


@pytest.mark.parametrize("typed", ["#20481234", "PED-20481234", "2048 1234", "ped 2048-1234"])
def test_order_number_as_customers_type_it(client: TestClient, typed: str) -> None:
    assert client.get(f"/api/orders/{quote(typed, safe='')}").json()["number"] == "20481234"


def test_late_order_is_flagged(client: TestClient) -> None:
    assert client.get("/api/orders/20480002").json()["late"] is True


def test_unknown_order_is_404(client: TestClient) -> None:
    response = client.get("/api/orders/99999999")
    assert response.status_code == 404
    assert "99999999" in response.json()["detail"]


@pytest.mark.parametrize("bad", ["1234", "abc", "123456789", "<script>alert(1)", "9" * 5000])
def test_malformed_order_number_is_422(client: TestClient, bad: str) -> None:
    response = client.get(f"/api/orders/{quote(bad, safe='')}")
    assert response.status_code == 422
    assert "8 digits" in response.json()["detail"]


def test_demo_orders_reload_without_duplicates(client: TestClient) -> None:
    """Restarting the app re-applies demo_orders.yml; the seed must be idempotent."""
    from sqlalchemy import func, select

    from services.orders.models import Order
    from services.orders.repository import load_demo_orders

    with client.app.state.db.session() as session:
        before = session.scalar(select(func.count()).select_from(Order))
        load_demo_orders(session)
    with client.app.state.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == before
