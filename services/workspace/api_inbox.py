"""Lead workspace: the inbox area's routes (``/api/lead/inbox``)."""

from __future__ import annotations

from fastapi import APIRouter

from services.workspace.deps import SAME_ORIGIN

router = APIRouter(prefix="/api/lead/inbox", tags=["lead workspace"], dependencies=SAME_ORIGIN)
