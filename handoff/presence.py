"""Who is online to take chats: an agent's chosen status plus a recent sign of life (console ping)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handoff.models import AGENT_STATUSES, Agent


class Presence:
    """Presence rules: ``online`` counts only while the console pinged within ``timeout_seconds``."""

    def __init__(self, timeout_seconds: float, clock: Callable[[], datetime]) -> None:
        self.timeout = timeout_seconds
        self.clock = clock

    def _since(self) -> datetime:
        return self.clock() - timedelta(seconds=self.timeout)

    def online_agents(self, s: Session, team: str) -> list[Agent]:
        agents = s.scalars(select(Agent).where(Agent.active.is_(True), Agent.status == "online",
                                               Agent.last_seen_at >= self._since())).all()
        return [a for a in agents if team in (a.teams or [])]

    def is_online(self, agent: Agent) -> bool:
        return agent.status == "online" and agent.last_seen_at is not None and agent.last_seen_at >= self._since()

    def set_status(self, s: Session, agent_id: int, status: str) -> dict[str, Any]:
        if status not in AGENT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(AGENT_STATUSES)}")
        row = s.get(Agent, agent_id)
        if row is None:
            raise KeyError(agent_id)
        row.status, row.last_seen_at = status, self.clock()
        return row.to_dict()

    def touch(self, s: Session, agent_id: int) -> None:
        s.execute(update(Agent).where(Agent.id == agent_id).values(last_seen_at=self.clock()))

    def listing(self, s: Session, viewer: Agent) -> list[dict[str, Any]]:
        """Every active agent with their effective status (emails for leads only)."""
        out = []
        for a in s.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name)).all():
            d = a.to_dict()
            if a.status == "online" and not self.is_online(a):
                d["status"] = "offline"
            if not viewer.is_lead:
                d.pop("email", None)
            out.append(d)
        return out
