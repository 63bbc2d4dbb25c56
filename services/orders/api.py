"""HTTP endpoint of the demo order backend, called by the bot's ``action_check_order_status``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel

from services.deps import SessionDep
from services.internal_auth import require_internal_token
from services.orders.repository import find_order, latest_order_of, order_to_dict
from textnorm import normalise_order_number

router = APIRouter(prefix="/api/orders", tags=["orders"])


class OrderItem(BaseModel):
    name: str
    qty: int


class OrderOut(BaseModel):
    number: str
    status: str
    placed_at: str
    payment_method: str
    total_brl: float
    items: list[OrderItem]
    carrier: str | None
    tracking_code: str | None
    estimated_delivery: str | None
    delivered_at: str | None
    late: bool


@router.get(
    "/customers/{customer_id}/latest",
    response_model=OrderOut,
    dependencies=[Depends(require_internal_token)],
    responses={401: {"description": "Internal endpoint: X-Internal-Token missing or wrong"},
               404: {"description": "This customer has no order"}},
)
def get_latest_order(session: SessionDep,
                     customer_id: str = Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@:-]+$")
                     ) -> dict[str, Any]:
    """The signed-in customer's latest order, for the bot's order action (never callable from a browser:
    a customer id alone must not reveal someone's orders; the id comes from a signed identity, see
    services/chat/identity.py)."""
    order = latest_order_of(session, customer_id)
    if order is None:
        raise HTTPException(status_code=404, detail="this customer has no order")
    return order_to_dict(order)


@router.get(
    "/{order_number}",
    response_model=OrderOut,
    dependencies=[Depends(require_internal_token)],
    responses={401: {"description": "Internal endpoint: X-Internal-Token missing or wrong"},
               404: {"description": "No order with this number"}, 422: {"description": "Not an order number"}},
)
def get_order(order_number: str, session: SessionDep) -> dict[str, Any]:
    """Look up one order. Accepts the forms customers type (``#20481234``, ``PED-20481234``).

    Only the bot's action may call it (internal token): order numbers are 8 digits, so an open endpoint let
    anyone walk through every customer's items and tracking codes."""
    number = normalise_order_number(order_number[:40])
    if number is None:
        raise HTTPException(status_code=422, detail="order numbers have 8 digits, e.g. 20481234")
    order = find_order(session, number)
    if order is None:
        raise HTTPException(status_code=404, detail=f"no order {number}")
    return order_to_dict(order)
