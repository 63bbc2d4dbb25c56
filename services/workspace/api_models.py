"""Lead workspace: the models area's routes (``/api/lead/models``)."""

from __future__ import annotations

from fastapi import APIRouter

from services.workspace.deps import SAME_ORIGIN

router = APIRouter(prefix="/api/lead/models", tags=["lead workspace"], dependencies=SAME_ORIGIN)
