"""Typed FastAPI dependency of the metrics feature (see services/deps.py for why)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from services.deps import state_of
from services.metrics.report import MetricsService


def get_metrics(conn: HTTPConnection) -> MetricsService:
    return state_of(conn, "metrics")


MetricsDep = Annotated[MetricsService, Depends(get_metrics)]
