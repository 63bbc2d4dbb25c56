"""Loading the demo orders and reading them back: the order system the bot's action calls over HTTP."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.orders.models import Order

DEMO_ORDERS_FILE = Path(__file__).with_name("demo_orders.yml")


def _order_from_spec(spec: dict[str, Any], today: date) -> Order:
    def day(offset_key: str) -> date | None:
        offset = spec.get(offset_key)
        return None if offset is None else today + timedelta(days=int(offset))

    placed = day("placed_days") or today
    delivered = day("delivered_days")
    return Order(
        number=str(spec["number"]),
        customer_id=spec.get("customer_id"),
        customer_name=spec["customer_name"],
        customer_email=spec["customer_email"],
        status=spec["status"],
        placed_at=datetime.combine(placed, time(10, 30)),
        payment_method=spec["payment_method"],
        total_brl=spec["total_brl"],
        items=spec["items"],
        carrier=spec.get("carrier"),
        tracking_code=spec.get("tracking_code"),
        estimated_delivery=day("estimated_delivery_days"),
        delivered_at=datetime.combine(delivered, time(14, 0)) if delivered else None,
    )


def load_demo_orders(session: Session, path: Path = DEMO_ORDERS_FILE, today: date | None = None) -> int:
    """Insert or update the demo orders; returns how many were loaded."""
    specs = (yaml.safe_load(path.read_text()) or {}).get("orders", [])
    today = today or date.today()
    for spec in specs:
        session.merge(_order_from_spec(spec, today))
    return len(specs)


def find_order(session: Session, number: str) -> Order | None:
    return session.get(Order, number)


def latest_order_of(session: Session, customer_id: str) -> Order | None:
    """The customer's most recently placed order: what "where is my order?" means for a signed-in customer."""
    return session.scalars(select(Order).where(Order.customer_id == customer_id)
                           .order_by(Order.placed_at.desc(), Order.number.desc()).limit(1)).first()


def order_to_dict(order: Order, today: date | None = None) -> dict[str, Any]:
    """The JSON the API returns; ``late`` saves every client from redoing the date arithmetic."""
    today = today or date.today()
    late = bool(
        order.status in {"payment_approved", "in_separation", "shipped"}
        and order.estimated_delivery
        and order.estimated_delivery < today
    )
    return {
        "number": order.number,
        "status": order.status,
        "placed_at": order.placed_at.isoformat(),
        "payment_method": order.payment_method,
        "total_brl": float(order.total_brl),
        "items": order.items,
        "carrier": order.carrier,
        "tracking_code": order.tracking_code,
        "estimated_delivery": order.estimated_delivery.isoformat() if order.estimated_delivery else None,
        "delivered_at": order.delivered_at.isoformat() if order.delivered_at else None,
        "late": late,
    }
