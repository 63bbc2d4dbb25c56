"""Which conversations were anonymised, and when: the retention job's memory and the lead's proof."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base, utcnow


class AnonymisedConversation(Base):
    """A conversation whose personal data was removed (by the retention job or a lead's request)."""

    __tablename__ = "privacy_anonymised"

    conversation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    anonymised_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(16), default="retention")  # retention | request
