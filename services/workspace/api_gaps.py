"""Lead workspace: the gaps area's routes (``/api/lead/gaps``)."""

from __future__ import annotations

from fastapi import APIRouter

from services.workspace.deps import SAME_ORIGIN

router = APIRouter(prefix="/api/lead/gaps", tags=["lead workspace"], dependencies=SAME_ORIGIN)
