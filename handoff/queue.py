"""Queue arithmetic: a waiting chat's position and the estimated wait, written once.

The estimate is ``ceil(position / agents online) × average handling minutes`` (at least one minute): with two
agents online the 3rd and 4th chats wait for one round of handling. The average comes from the team's last
``history_size`` closed chats, or ``default_handle_minutes`` while there are fewer than three.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handoff.models import Handoff
from handoff.presence import Presence


def estimate_minutes(position: int, online: int, handle_minutes: float) -> int | None:
    """Minutes until a person answers the chat at ``position``; ``None`` with nobody online."""
    if online <= 0:
        return None
    return max(1, math.ceil(math.ceil(position / online) * handle_minutes))


class Queue:
    """Positions and estimates of a team's waiting chats (priority first, then first come, first served)."""

    def __init__(self, presence: Presence, default_handle_minutes: float, history_size: int) -> None:
        self.presence = presence
        self.default_handle_minutes = default_handle_minutes
        self.history_size = history_size

    def handle_minutes(self, s: Session, team: str) -> float:
        rows = s.execute(select(Handoff.claimed_at, Handoff.closed_at).where(
            Handoff.team == team, Handoff.status.in_(("resolved", "handed_back")),
            Handoff.claimed_at.is_not(None), Handoff.closed_at.is_not(None))
            .order_by(Handoff.closed_at.desc()).limit(self.history_size)).all()
        durations = [(closed - claimed).total_seconds() / 60 for claimed, closed in rows if closed >= claimed]
        if len(durations) < 3:
            return self.default_handle_minutes
        return max(1.0, sum(durations) / len(durations))

    def position(self, s: Session, h: Handoff) -> int:
        ahead = s.scalar(select(func.count()).select_from(Handoff).where(
            Handoff.team == h.team, Handoff.status == "queued",
            (Handoff.priority < h.priority)
            | ((Handoff.priority == h.priority) & (Handoff.queued_at < h.queued_at))
            | ((Handoff.priority == h.priority) & (Handoff.queued_at == h.queued_at) & (Handoff.id < h.id))))
        return int(ahead or 0) + 1

    def estimate(self, s: Session, team: str, position: int) -> int | None:
        return estimate_minutes(position, len(self.presence.online_agents(s, team)), self.handle_minutes(s, team))

    def snapshot(self, s: Session, team: str) -> list[dict[str, Any]]:
        """Every queued chat of ``team`` in serving order, with position and estimate."""
        rows = s.scalars(select(Handoff).where(Handoff.team == team, Handoff.status == "queued")
                         .order_by(Handoff.priority, Handoff.queued_at, Handoff.id)).all()
        online = len(self.presence.online_agents(s, team))
        minutes = self.handle_minutes(s, team)
        return [{"handoff_id": h.id, "conversation_id": h.conversation_id, "language": h.language,
                 "position": position, "estimated_wait_minutes": estimate_minutes(position, online, minutes)}
                for position, h in enumerate(rows, start=1)]
