"""Lead workspace: the review area's routes (``/api/lead/review``)."""

from __future__ import annotations

from fastapi import APIRouter

from services.workspace.deps import SAME_ORIGIN

router = APIRouter(prefix="/api/lead/review", tags=["lead workspace"], dependencies=SAME_ORIGIN)
