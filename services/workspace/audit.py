"""The lead's audit log (``workspace_audit``): every workspace action with who, when, what, before and after.

Why a table of its own beside ``handoff_audit``: a lead's actions change files and models that outlive any
conversation (a training example, an article, the model customers talk to), and "what was it before?" is the
question after a bad change; ``before``/``after`` hold exactly that (texts already stripped of personal data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base, Database, iso, utcnow

# What a lead can do; recording anything else is a programming error.
ACTIONS = (
    "conversation_tagged", "conversation_reviewed",
    "example_added", "example_ignored", "curation_committed",
    "retrain_started", "candidate_held_back", "model_promoted", "model_rolled_back", "override",
    "draft_created", "article_saved", "article_published", "article_unpublished",
    "customer_data_searched", "customer_data_exported", "customer_data_erased",
)


class WorkspaceAuditEntry(Base):
    """One lead action."""

    __tablename__ = "workspace_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    lead_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    lead_name: Mapped[str] = mapped_column(String(120), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(300), default="")
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "created_at": iso(self.created_at), "lead_id": self.lead_id,
                "lead_name": self.lead_name, "action": self.action, "target": self.target,
                "before": self.before, "after": self.after}


def record(db: Database, action: str, lead: Any, target: str, before: Any = None, after: Any = None) -> None:
    """Append one entry in its own transaction (use :func:`add` to join the caller's)."""
    with db.session() as s:
        add(s, action, lead, target, before, after)


def add(session: Any, action: str, lead: Any, target: str, before: Any = None, after: Any = None) -> None:
    """Append one entry in the caller's session, so the change and its record commit together."""
    if action not in ACTIONS:
        raise ValueError(f"unknown workspace audit action {action!r}; add it to services.workspace.audit.ACTIONS")
    session.add(WorkspaceAuditEntry(created_at=utcnow(), lead_id=getattr(lead, "id", None),
                                    lead_name=getattr(lead, "name", "") or "", action=action,
                                    target=target[:300], before=before, after=after))


def entries(db: Database, action: str | None = None, target_prefix: str | None = None,
            limit: int = 200) -> list[dict[str, Any]]:
    """Latest first, optionally of one action or of targets starting with a prefix (``article:``)."""
    query = select(WorkspaceAuditEntry)
    if action:
        query = query.where(WorkspaceAuditEntry.action == action)
    if target_prefix:
        query = query.where(WorkspaceAuditEntry.target.startswith(target_prefix))
    with db.session() as s:
        rows = s.scalars(query.order_by(WorkspaceAuditEntry.id.desc()).limit(max(1, min(limit, 1000)))).all()
        return [r.to_dict() for r in rows]
