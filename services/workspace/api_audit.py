"""``GET /api/lead/audit``: the workspace audit log, latest first."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from services.deps import DatabaseDep
from services.workspace import audit
from services.workspace.deps import SAME_ORIGIN, LeadDep

router = APIRouter(prefix="/api/lead/audit", tags=["lead workspace"], dependencies=SAME_ORIGIN)


@router.get("")
def audit_log(db: DatabaseDep, lead: LeadDep, action: str | None = None,
              target: str | None = Query(None, description="targets starting with this, e.g. article:"),
              limit: int = Query(200, ge=1, le=1000)) -> dict[str, Any]:
    return {"entries": audit.entries(db, action=action, target_prefix=target, limit=limit)}
