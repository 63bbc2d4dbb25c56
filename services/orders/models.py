"""Tables of the demo order backend: what a retailer's order system would answer the bot."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base


class Order(Base):
    """One customer order; ``items`` is a small JSON list because the bot only reads it."""

    __tablename__ = "orders"

    number: Mapped[str] = mapped_column(String(8), primary_key=True)
    # The shop's own customer id (what its site signs for the chat widget); orders placed as a guest have none.
    customer_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    customer_name: Mapped[str] = mapped_column(String(120))
    customer_email: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32))
    placed_at: Mapped[datetime] = mapped_column(DateTime)
    payment_method: Mapped[str] = mapped_column(String(32))
    total_brl: Mapped[float] = mapped_column(Numeric(10, 2))
    items: Mapped[list] = mapped_column(JSON)
    carrier: Mapped[str | None] = mapped_column(String(32), nullable=True)
    tracking_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    estimated_delivery: Mapped[date | None] = mapped_column(Date, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
