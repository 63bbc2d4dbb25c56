"""Lead workspace: the articles area's routes (``/api/lead/articles``)."""

from __future__ import annotations

from fastapi import APIRouter

from services.workspace.deps import SAME_ORIGIN

router = APIRouter(prefix="/api/lead/articles", tags=["lead workspace"], dependencies=SAME_ORIGIN)
