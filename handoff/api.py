"""HTTP API of the handoff module (prefix ``/api/handoff``) and the customer's CSAT fallback.

Three audiences, three kinds of credentials: the action server (``X-Internal-Token``, creates escalations),
agents and leads (session cookie from ``POST /api/handoff/auth/login``), customers (the chat gateway's signed
token, for their own conversation's queue status only).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from handoff import audit, auth
from handoff import transcript as transcripts
from handoff.deps import HandoffDep, LoginThrottleDep
from handoff.models import Agent
from handoff.service import EscalationRequest, HandoffError, TurnReport
from services.chat.service import AGENTS_CHANNEL, ChatError
from services.deps import MAX_ROW_ID, ChatTokensDep, DatabaseDep, RowId, SettingsDep
from services.internal_auth import require_internal_token

# Every state-changing call must come from this site (cookie-authenticated POSTs; see auth.require_same_origin).
router = APIRouter(prefix="/api/handoff", tags=["handoff"], dependencies=[Depends(auth.require_same_origin)])
CurrentAgent = Annotated[Agent, Depends(auth.current_agent)]


def _fail(error: HandoffError) -> HTTPException:
    return HTTPException(status_code=error.status, detail=str(error))


class EscalationIn(BaseModel):
    conversation_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=32)
    reason_detail: str = Field(default="", max_length=500)
    intent: str | None = Field(default=None, max_length=64)
    category: str | None = Field(default=None, max_length=32)
    language: str | None = Field(default=None, max_length=5)
    kb_categories: list[str] = Field(default_factory=list, max_length=50)
    events: list[dict[str, Any]] | None = Field(default=None, max_length=5000)


class TurnIn(BaseModel):
    conversation_id: str = Field(min_length=1, max_length=64)
    language: str | None = Field(default=None, max_length=5)
    events: list[dict[str, Any]] = Field(default_factory=list, max_length=5000)
    current_failed: bool = False
    immediate_only: bool = False
    requested: bool = False


class LoginIn(BaseModel):
    email: str = Field(min_length=3, max_length=200)
    password: str = Field(min_length=1, max_length=500)


class StatusIn(BaseModel):
    status: Literal["online", "away", "offline"]


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class TransferIn(BaseModel):
    team: str | None = Field(default=None, max_length=32)
    agent_id: int | None = None


class ResolveIn(BaseModel):
    tag: str = Field(min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=2000)


# -- action server -----------------------------------------------------------------------------------------
@router.post("/turns", dependencies=[Depends(require_internal_token)])
async def consider_turn(body: TurnIn, svc: HandoffDep) -> dict[str, Any]:
    """The action server reports the turn it answers; the policy decides here whether a person takes over.

    ``{"escalated": false}``: the bot answers. Otherwise the escalation's result with ``escalated: true``,
    ``bot_text`` (what the bot says now) and ``pause: true`` (Rasa stops answering until the person is done).
    """
    try:
        return await svc.consider(TurnReport(
            conversation_id=body.conversation_id, language=body.language, events=body.events,
            current_failed=body.current_failed, immediate_only=body.immediate_only, requested=body.requested))
    except HandoffError as error:
        raise _fail(error) from error


@router.post("/escalations", status_code=201, dependencies=[Depends(require_internal_token)])
async def create_escalation(body: EscalationIn, svc: HandoffDep, response: Response) -> dict[str, Any]:
    """Escalate a conversation (called by ``action_request_human``); returns what to tell the customer."""
    try:
        result = await svc.escalate(EscalationRequest(
            conversation_id=body.conversation_id, reason=body.reason, reason_detail=body.reason_detail,
            intent=body.intent, category=body.category, language=body.language,
            kb_categories=tuple(body.kb_categories), events=body.events))
    except HandoffError as error:
        raise _fail(error) from error
    if not result["created"]:
        response.status_code = 200
    return result


# -- sign-in -----------------------------------------------------------------------------------------------
def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/auth/login")
def login(body: LoginIn, request: Request, response: Response, svc: HandoffDep, throttle: LoginThrottleDep,
          db: DatabaseDep, settings: SettingsDep) -> dict[str, Any]:
    """Sign in; sets the HttpOnly session cookie.

    Too many failures for this account from this address, or for any account from this address, answer 429
    before the password is checked; the same account from another address still signs in.
    """
    email = body.email.strip().lower()
    client = _client(request)
    refused = throttle.refused(email, client)
    if refused is not None:
        audit.record(db, "sign_in_refused", auth.agent_id_for_email(db, email), limit=refused)
        raise HTTPException(status_code=429, detail="too many failed sign-ins; try again in 15 minutes")
    agent = auth.authenticate(db, email, body.password)
    if agent is None:
        throttle.failed(email, client)
        audit.record(db, "sign_in_failed", auth.agent_id_for_email(db, email))
        raise HTTPException(status_code=401, detail="wrong e-mail or password")
    throttle.succeeded(email, client)
    hours = float(svc.policy.section("agents").get("session_hours", 12))
    token = auth.create_session(db, agent.id, hours)
    audit.record(db, "sign_in", agent.id)
    secure = settings.public_url.startswith("https://")
    response.set_cookie(auth.COOKIE, token, max_age=int(hours * 3600), httponly=True, samesite="strict",
                        secure=secure, path="/")
    return {"agent": agent.to_dict()}


@router.post("/auth/logout")
async def logout(request: Request, response: Response, svc: HandoffDep, db: DatabaseDep) -> dict[str, bool]:
    """End this browser's session; its console sockets close at once (the hub tells every process)."""
    token = request.cookies.get(auth.COOKIE)
    agent = await asyncio.to_thread(auth.agent_for_token, db, token)
    if agent is not None:
        await asyncio.to_thread(svc.set_status, agent, "offline")
    await asyncio.to_thread(auth.end_session, db, token)
    if agent is not None:
        await asyncio.to_thread(audit.record, db, "sign_out", agent.id)
        # No team: consoles never show it (ws.AgentSocket takes it off the channel and re-checks its session).
        await svc.hub.publish(AGENTS_CHANNEL, {"type": "session_revoked", "agent_id": agent.id})
    response.delete_cookie(auth.COOKIE, path="/")
    return {"ok": True}


@router.get("/me")
def me(svc: HandoffDep, agent: CurrentAgent) -> dict[str, Any]:
    teams = [{"id": t, "name": svc.policy.team_name(t, "pt"), "open": svc.hours.is_open(t)}
             for t in svc.policy.teams]
    return {"agent": agent.to_dict(), "teams": teams, "resolution_tags": svc.policy.resolution_tags}


@router.post("/me/status")
async def set_status(body: StatusIn, svc: HandoffDep, agent: CurrentAgent, db: DatabaseDep) -> dict[str, Any]:
    """Availability: online agents receive chats and count in the customers' wait estimate.

    Coming online turns the team's waiting offline tickets into queued chats (the customers are told).
    """
    result = await asyncio.to_thread(svc.set_status, agent, body.status)
    await asyncio.to_thread(audit.record, db, "status", agent.id, status=body.status)
    if body.status == "online":
        await svc.promote_tickets(list(agent.teams or []))
    return {"agent": result}


@router.get("/agents")
def list_agents(svc: HandoffDep, agent: CurrentAgent) -> dict[str, Any]:
    return {"agents": svc.agents(agent)}


# -- queues and chats --------------------------------------------------------------------------------------
@router.get("/queue")
def queue(svc: HandoffDep, agent: CurrentAgent,
          team: str | None = Query(default=None, max_length=32)) -> dict[str, Any]:
    """Waiting chats of the agent's teams (a lead: every team), with wait time and escalation reason."""
    if team and not agent.can_see_team(team):
        raise HTTPException(status_code=403, detail="not your team")
    return {"waiting": svc.waiting(agent, team), "mine": svc.mine(agent), "active": svc.active_all(agent)}


@router.get("/handoffs/{handoff_id}")
def detail(handoff_id: RowId, svc: HandoffDep, agent: CurrentAgent, db: DatabaseDep) -> dict[str, Any]:
    """A chat as the console opens it: summary, transcript, live messages, notes, audit events."""
    try:
        result = svc.detail(agent, handoff_id)
    except HandoffError as error:
        raise _fail(error) from error
    audit.record(db, "transcript_view", agent.id, handoff_id)
    return result


@router.get("/handoffs/{handoff_id}/transcript", response_model=None)
def transcript(handoff_id: RowId, svc: HandoffDep, agent: CurrentAgent, db: DatabaseDep,
               format: Literal["json", "text"] = "json") -> Any:
    """Export the full transcript (bot part, human part, notes) as JSON or readable text."""
    try:
        record = svc.export(agent, handoff_id)
    except HandoffError as error:
        raise _fail(error) from error
    audit.record(db, "export", agent.id, handoff_id, format=format)
    disposition = {"Content-Disposition": f'attachment; filename="handoff-{handoff_id}.{"txt" if format == "text" else "json"}"'}
    if format == "text":
        return PlainTextResponse(transcripts.to_text(record), headers=disposition)
    return JSONResponse(record, headers=disposition)


async def _act(coro: Any) -> Any:
    try:
        return await coro
    except HandoffError as error:
        raise _fail(error) from error
    except ChatError as error:  # e.g. a message over the one length limit (chat.yml)
        raise HTTPException(status_code=error.status, detail=error.message) from error


@router.post("/handoffs/{handoff_id}/claim")
async def claim(handoff_id: RowId, svc: HandoffDep, agent: CurrentAgent) -> dict[str, Any]:
    """Take a waiting chat. 409 when another agent was faster."""
    return {"handoff": await _act(svc.claim(agent, handoff_id))}


@router.post("/handoffs/{handoff_id}/messages", status_code=201)
async def send_message(handoff_id: RowId, body: TextIn, svc: HandoffDep,
                       agent: CurrentAgent) -> dict[str, Any]:
    """An agent message to the customer (the console normally uses the WebSocket)."""
    message = await _act(svc.send_message(agent, handoff_id, body.text))
    return {"message": message.to_dict()}


@router.post("/handoffs/{handoff_id}/notes", status_code=201)
async def add_note(handoff_id: RowId, body: TextIn, svc: HandoffDep,
                   agent: CurrentAgent) -> dict[str, Any]:
    """An internal note; never shown to the customer."""
    return {"note": await _act(svc.add_note(agent, handoff_id, body.text))}


@router.post("/handoffs/{handoff_id}/transfer")
async def transfer(handoff_id: RowId, body: TransferIn, svc: HandoffDep,
                   agent: CurrentAgent) -> dict[str, Any]:
    return {"handoff": await _act(svc.transfer(agent, handoff_id, body.team, body.agent_id))}


@router.post("/handoffs/{handoff_id}/resolve")
async def resolve(handoff_id: RowId, body: ResolveIn, svc: HandoffDep,
                  agent: CurrentAgent) -> dict[str, Any]:
    """Close with a resolution tag; the bot resumes and the customer is asked for CSAT."""
    return {"handoff": await _act(svc.close(agent, handoff_id, "resolved", body.tag, body.note))}


@router.post("/handoffs/{handoff_id}/handback")
async def handback(handoff_id: RowId, svc: HandoffDep, agent: CurrentAgent) -> dict[str, Any]:
    """Give the conversation back to the bot (no CSAT)."""
    return {"handoff": await _act(svc.close(agent, handoff_id, "handed_back"))}


@router.get("/audit")
def audit_log(db: DatabaseDep, lead: Annotated[Agent, Depends(auth.require_lead)],
              agent_id: int | None = Query(default=None, ge=1, le=MAX_ROW_ID),
              handoff_id: int | None = Query(default=None, ge=1, le=MAX_ROW_ID),
              limit: int = Query(default=200, ge=1, le=1000)) -> dict[str, Any]:
    """Leads only, latest first: ``entries`` (sign-ins, sign-outs, availability, transcript views, exports) and
    ``conversation_actions`` (claims, transfers, resolutions, hand-backs, notes, from the event log)."""
    return {"entries": audit.entries(db, agent_id, handoff_id, limit),
            "conversation_actions": audit.conversation_actions(db, agent_id, handoff_id, limit)}


# -- customer ------------------------------------------------------------------------------------------------
@router.get("/conversation/status")
def customer_status(request: Request, svc: HandoffDep, tokens: ChatTokensDep,
                    token: str | None = Query(default=None, max_length=512)) -> dict[str, Any]:
    """The customer's own queue status (chat token in ``Authorization: Bearer`` or ``?token=``)."""
    header = request.headers.get("authorization", "")
    raw = header[7:].strip() if header.lower().startswith("bearer ") else token
    cid = tokens.verify(raw)
    if not cid:
        raise HTTPException(status_code=401, detail="invalid or expired chat token")
    return svc.customer_status(cid)
