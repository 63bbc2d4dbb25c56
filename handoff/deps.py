"""Typed FastAPI dependencies of the handoff feature (see services/deps.py for why)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from handoff.auth import LoginThrottle
from handoff.service import HandoffService
from services.deps import state_of


def get_handoff(conn: HTTPConnection) -> HandoffService:
    return state_of(conn, "handoff")


def get_login_throttle(conn: HTTPConnection) -> LoginThrottle:
    return state_of(conn, "handoff_throttle")


HandoffDep = Annotated[HandoffService, Depends(get_handoff)]
LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]
