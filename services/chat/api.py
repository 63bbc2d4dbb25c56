"""REST side of the chat gateway: session, messages, history, CSAT, NPS and contact details.

The widget uses the WebSocket for messages and these endpoints for CSAT and contact details; tests and
clients without WebSockets can do everything here with the same signed token
(``Authorization: Bearer <token>`` or a ``token`` field in the JSON body).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from services.chat.identity import IdentityRefused, who_is
from services.chat.models import Conversation
from services.chat.service import ChatError, ChatService
from services.chat.texts import text as t
from services.chat.tokens import TokenSigner
from services.deps import ChatDep, ChatTokensDep, SettingsDep

CORS_HEADERS = {
    # The widget may be embedded on another site. Authentication is the bearer token, never a cookie,
    # so allowing any origin does not let other sites act for a customer.
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}


class CorsRoute(APIRoute):
    """Adds the CORS headers to every answer of this router, errors included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except HTTPException as error:
                response = JSONResponse({"detail": error.detail}, status_code=error.status_code)
            response.headers.update(CORS_HEADERS)
            return response

        return handler


router = APIRouter(prefix="/api/chat", tags=["chat"], route_class=CorsRoute)


class IdentityIn(BaseModel):
    """A signed-in customer, as the shop's site signed it (services/chat/identity.py)."""

    id: Any = None
    name: Any = ""
    email: Any = ""
    signature: Any = None


class SessionIn(BaseModel):
    token: str | None = Field(default=None, max_length=512)
    lang: str | None = Field(default=None, max_length=8)
    visitor: str | None = Field(default=None, max_length=256, description="the browser's visitor token")
    identity: IdentityIn | None = None


class MessageIn(BaseModel):
    token: str | None = Field(default=None, max_length=512)
    # Length is checked by ChatService so the customer gets the friendly, translated refusal.
    text: Any = None
    client_message_id: str | None = Field(default=None, max_length=64)
    payload: str | None = Field(default=None, max_length=500, description="Rasa payload of a quick-reply button")


class CsatIn(BaseModel):
    token: str | None = Field(default=None, max_length=512)
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


class NpsIn(BaseModel):
    token: str | None = Field(default=None, max_length=512)
    # Checked by ChatService (0-10 unless skipped) so the refusal names the rule.
    score: Any = None
    comment: str = Field(default="", max_length=2000)
    skipped: bool = False


class ContactIn(BaseModel):
    token: str | None = Field(default=None, max_length=512)
    name: str = Field(default="", max_length=120)
    email: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)
    message: str = Field(default="", max_length=2000)


def _token(request: Request, body_token: str | None) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return body_token or request.query_params.get("token")


async def _conversation(request: Request, chat: ChatService, tokens: TokenSigner,
                        body_token: str | None) -> Conversation:
    cid = tokens.verify(_token(request, body_token))
    conv = await chat.get_conversation(cid) if cid else None
    if conv is None:
        raise HTTPException(status_code=401, detail={"code": "bad_token", "message": "invalid or expired chat token"})
    return conv


def _error(error: ChatError) -> JSONResponse:
    return JSONResponse(status_code=error.status, content={"detail": {"code": error.code, "message": error.message}})


@router.post("/session", responses={403: {"description": "The identity's signature is wrong (nothing stored)"}})
async def open_session(body: SessionIn, request: Request, chat: ChatDep, tokens: ChatTokensDep,
                       settings: SettingsDep) -> Any:
    """Resume the conversation of a valid token, or start a new one (closed conversations start anew).

    ``identity`` (optional): the signed-in customer from the shop's site; a wrong signature is refused with 403
    before anything is stored. ``visitor``: the browser's visitor token from an earlier answer.
    """
    lang = body.lang if body.lang in chat.config.languages else chat.config.default_language
    try:
        who = who_is(settings.identity_secret, request.app.state.visitor_tokens, body.visitor,
                     body.identity.model_dump() if body.identity is not None else None)
    except IdentityRefused as refused:
        return JSONResponse(status_code=403, content={"detail": {"code": refused.code, "message": refused.message,
                                                                 "customer_message": t("bad_identity", lang)}})
    conv, _, _ = await chat.open_for(tokens.verify(_token(request, body.token)), who, body.lang)
    return {"token": tokens.issue(conv.id), "conversation": conv.to_dict(), "visitor": who.visitor_token,
            "signed_in": conv.customer_id is not None,
            "limits": {"max_message_chars": chat.config.max_message_chars,
                       "rate_limit_per_minute": chat.config.rate_limit_per_minute}}


@router.post("/messages", responses={401: {}, 413: {}, 422: {}, 429: {}})
async def post_message(body: MessageIn, request: Request, chat: ChatDep, tokens: ChatTokensDep) -> Any:
    """Store a customer message (idempotent on ``client_message_id``) and return it with the bot's replies."""
    conv = await _conversation(request, chat, tokens, body.token)
    metadata = {"rasa_payload": body.payload} if body.payload else None
    try:
        messages = await chat.post_customer_message(conv.id, body.text, body.client_message_id, metadata)
    except ChatError as error:
        return _error(error)
    return {"messages": [m.to_dict() for m in messages]}


@router.get("/history")
async def get_history(request: Request, chat: ChatDep, tokens: ChatTokensDep, after_seq: int = Query(default=0, ge=0),
                      token: str | None = Query(default=None, max_length=512)) -> dict[str, Any]:
    """Messages after ``after_seq`` (what a reloaded widget shows)."""
    conv = await _conversation(request, chat, tokens, token)
    messages = await chat.history(conv.id, after_seq)
    return {"conversation": conv.to_dict(), "messages": [m.to_dict() for m in messages]}


@router.post("/csat", responses={401: {}, 422: {}})
async def post_csat(body: CsatIn, request: Request, chat: ChatDep, tokens: ChatTokensDep) -> Any:
    """The customer's satisfaction rating (1–5) and optional comment, stored on the conversation."""
    conv = await _conversation(request, chat, tokens, body.token)
    try:
        updated = await chat.record_csat(conv.id, body.rating, body.comment)
    except ChatError as error:
        return _error(error)
    return {"ok": True, "csat_rating": updated.csat_rating}


@router.post("/nps", responses={401: {}, 409: {}, 422: {}})
async def post_nps(body: NpsIn, request: Request, chat: ChatDep, tokens: ChatTokensDep) -> Any:
    """The customer's answer to the NPS question (0-10 and an optional comment), or ``skipped: true``."""
    conv = await _conversation(request, chat, tokens, body.token)
    try:
        score = await chat.record_nps(conv.id, body.score, body.comment, body.skipped)
    except ChatError as error:
        return _error(error)
    return {"ok": True, "score": score, "skipped": body.skipped}


@router.post("/contact", responses={401: {}, 422: {}})
async def post_contact(body: ContactIn, request: Request, chat: ChatDep, tokens: ChatTokensDep) -> Any:
    """Contact details left when the assistant or the team was unavailable."""
    conv = await _conversation(request, chat, tokens, body.token)
    try:
        row = await chat.save_contact(conv.id, body.name, body.email, body.phone, body.message)
    except ChatError as error:
        return _error(error)
    return {"ok": True, "id": row.id}


@router.options("/{path:path}", include_in_schema=False)
async def preflight(path: str) -> Response:
    """CORS preflight for the widget on another origin."""
    return Response(status_code=204)
