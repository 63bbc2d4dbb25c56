"""Tables of the precomputed metrics: one row per sample, and the cursor of the event log they cover.

Why precomputed: computing a 30-day report from the raw log reads every event of the period and cuts it into
contacts on each request (26-30 s at 100k conversations, docs/benchmarks.md). The samples of a conversation
depend only on that conversation's events (plus two things resolved when reading: whether a bot answer's
24 h window has passed, and where the backlog stood at a given instant), so they are written once per change of
the conversation and a panel becomes a ``GROUP BY`` over indexed rows. :mod:`services.metrics.precompute` keeps
them; :mod:`services.metrics.sql` reads them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base, utcnow


class MetricSample(Base):
    """One :class:`services.metrics.definitions.Sample` as stored (``held``: an interval the chat was waiting or
    held by an agent, from ``at`` to ``until``; the backlog at an instant is the intervals that contain it)."""

    __tablename__ = "metric_samples"
    __table_args__ = (
        Index("ix_metric_samples_at", "at", "metric"),
        Index("ix_metric_samples_conv", "conversation_id"),
        # Bot answers whose 24 h window is still running at read time (few: the last day's), found by ``due``.
        Index("ix_metric_samples_pending", "metric", "outcome", "due"),
        # Medians and p90 read only these columns: on PostgreSQL an index-only scan instead of the wide rows.
        Index("ix_metric_samples_values", "metric", "at",
              postgresql_include=["value", "value_bh", "team", "language", "intent", "agent_id", "channel"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("chat_conversations.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(DateTime)
    day: Mapped[date] = mapped_column(Date)  # ``at`` as a business-timezone day (the time series' x axis)
    team: Mapped[str | None] = mapped_column(String(32), nullable=True)
    language: Mapped[str | None] = mapped_column(String(5), nullable=True)
    intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)  # wall-clock seconds, a rating, a score
    value_bh: Mapped[float | None] = mapped_column(Float, nullable=True)  # the same in business hours
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    label: Mapped[str | None] = mapped_column(Text, nullable=True)  # KB title; survey comment
    due: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # a pending bot answer is assumed then
    until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # held: end of the interval
    origin: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # held: the age counts from here


class MetricDaily(Base):
    """Sample counts per business day and per every attribute a report filters or groups by (the rollup).

    Why: a 30-day panel at 100k conversations counts ~750k samples; summed per day they are a few thousand rows.
    Kept by :mod:`services.metrics.precompute` for the days a catch-up touched (recounted from
    ``metric_samples``, so it cannot drift from them). Bot answers stored as "pending" are counted here as
    pending; the reader turns into "assumed" all but those whose ``due`` is still ahead (read from the samples).
    """

    __tablename__ = "metric_daily"
    __table_args__ = (Index("ix_metric_daily_day", "day", "metric"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    metric: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    team: Mapped[str | None] = mapped_column(String(32), nullable=True)
    language: Mapped[str | None] = mapped_column(String(5), nullable=True)
    intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n: Mapped[int] = mapped_column(Integer)


class MetricCursor(Base):
    """How far into the event log the samples are up to date (one row, ``name="samples"``)."""

    __tablename__ = "metric_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
