"""Which knowledge-base article answered which message, and whether it helped: the raw data of deflection."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base


class KbEvent(Base):
    """One event of the knowledge-base path: ``answer``, ``no_answer``, ``link`` or ``feedback``."""

    __tablename__ = "kb_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    query: Mapped[str | None] = mapped_column(String(500), nullable=True)
    article_id: Mapped[str | None] = mapped_column(String(120), nullable=True, index=True)
    intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    language: Mapped[str | None] = mapped_column(String(2), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    helped: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
