"""JSON API and CSV export of the support metrics, for the dashboard and for BI tools.

Who sees what: the console's sign-in (``handoff.auth.current_agent``) decides. Leads see every team and may filter
by any agent; an agent sees only their own figures (every query is pinned to their agent id; asking for another
agent's figures is refused with 403), so the bot-only figures and the waiting queue, which no agent owns, are
empty for them.

    GET /api/metrics/report?start=2026-11-01&end=2026-11-30&team=suporte&business_hours=true
    GET /api/metrics/tables                      -> the table names
    GET /api/metrics/tables/by_team?...          -> {"table", "columns", "rows", "query"}
    GET /api/metrics/tables/by_team.csv?...      -> the same rows as CSV
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from handoff.auth import current_agent
from handoff.models import Agent
from services.metrics.csv_export import to_csv
from services.metrics.deps import MetricsDep
from services.metrics.query import MetricQuery, QueryError, build_query
from services.metrics.report import TABLES

router = APIRouter(prefix="/api/metrics", tags=["metrics"])
Viewer = Annotated[Agent, Depends(current_agent)]


def metric_query(metrics: MetricsDep, viewer: Viewer,
                 start: Annotated[str | None, Query(max_length=10, description="first day, YYYY-MM-DD")] = None,
                 end: Annotated[str | None, Query(max_length=10, description="last day (inclusive)")] = None,
                 team: Annotated[str | None, Query(max_length=32)] = None,
                 language: Annotated[str | None, Query(max_length=5)] = None,
                 intent: Annotated[str | None, Query(max_length=64)] = None,
                 agent: Annotated[int | None, Query(ge=1, lt=2 ** 31)] = None,
                 channel: Annotated[str | None, Query(max_length=16)] = None,
                 business_hours: bool = False,
                 assumed_resolution_hours: Annotated[float | None, Query(gt=0)] = None) -> MetricQuery:
    """The report's parameters, validated (422 with the reason) and pinned to the viewer for agents."""
    if not viewer.is_lead:
        if agent is not None and agent != viewer.id:
            raise HTTPException(status_code=403, detail="agents see only their own figures")
        agent = viewer.id
    try:
        return build_query(start=start, end=end, today=metrics.hours.local(metrics.clock()).date(),
                           tz=metrics.hours.tz, teams=tuple(metrics.hours.weekly), team=team, language=language,
                           intent=intent, agent_id=agent, channel=channel, business_hours=business_hours,
                           assumed_hours=assumed_resolution_hours)
    except QueryError as error:
        raise HTTPException(status_code=422, detail=str(error)) from error


QueryDep = Annotated[MetricQuery, Depends(metric_query)]


def _table_name(name: str) -> str:
    if name not in TABLES:
        raise HTTPException(status_code=404, detail=f"no table {name!r}; tables: {', '.join(TABLES)}")
    return name


@router.get("/report")
def report(metrics: MetricsDep, query: QueryDep, compare: bool = True) -> dict[str, Any]:
    """Every figure of the period, and of the previous period of the same length when ``compare``."""
    return metrics.report(query, compare)


@router.get("/tables")
def tables(_viewer: Viewer) -> dict[str, Any]:
    return {"tables": list(TABLES)}


@router.get("/tables/{name}.csv", response_class=Response)
def table_csv(name: str, metrics: MetricsDep, query: QueryDep) -> Response:
    """One table as CSV (UTF-8, comma-separated, a header row)."""
    table = metrics.tables(query, [_table_name(name)])[name]
    first, last = query.start.date().isoformat(), query.end.date().isoformat()
    return Response(to_csv(table), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="lumo-{name}-{first}-{last}.csv"',
        "Cache-Control": "no-store"})


@router.get("/tables/{name}")
def table_json(name: str, metrics: MetricsDep, query: QueryDep) -> dict[str, Any]:
    """One table as JSON: ``columns`` and ``rows``, exactly what the CSV holds."""
    table = metrics.tables(query, [_table_name(name)])[name]
    return {**table.to_dict(), "query": query.describe()}
