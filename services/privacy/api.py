"""``/api/lead/privacy``: a lead answers a customer's LGPD request — find their conversations, export them,
erase or anonymise them. Every step is in the workspace audit log (counts and the kind of identifier, never
the identifier itself)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, Field
from starlette.requests import HTTPConnection

from services.deps import DatabaseDep, state_of
from services.privacy.subject import Identifier, SubjectData
from services.workspace import audit
from services.workspace.deps import SAME_ORIGIN, LeadDep

router = APIRouter(prefix="/api/lead/privacy", tags=["privacy (LGPD)"], dependencies=SAME_ORIGIN)
MAX_CONVERSATIONS = 500


def get_subject_data(conn: HTTPConnection) -> SubjectData:
    return state_of(conn, "subject_data")


SubjectDep = Annotated[SubjectData, Depends(get_subject_data)]


class SearchIn(BaseModel):
    email: str = Field("", max_length=200)
    cpf: str = Field("", max_length=20)
    phone: str = Field("", max_length=30)
    conversation_id: str = Field("", max_length=64)
    customer_id: str = Field("", max_length=128)


class ConversationsIn(BaseModel):
    conversation_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_CONVERSATIONS)


class EraseIn(ConversationsIn):
    mode: Literal["erase", "anonymise"]
    confirm: bool = Field(description="must be true: erasing cannot be undone")


def _kinds(body: SearchIn) -> list[str]:
    return [name for name in ("email", "cpf", "phone", "conversation_id", "customer_id")
            if getattr(body, name).strip()]


@router.post("/search")
def search(body: SearchIn, subjects: SubjectDep, db: DatabaseDep, lead: LeadDep) -> dict[str, Any]:
    who = Identifier(email=body.email, cpf=body.cpf, phone=body.phone, conversation_id=body.conversation_id,
                     customer_id=body.customer_id)
    if who.empty():
        raise HTTPException(422, "give an e-mail, a CPF (11 digits), a phone number (with area code), a "
                                 "conversation id or the shop's customer id")
    ids = subjects.find(who)
    audit.record(db, "customer_data_searched", lead, f"by {', '.join(_kinds(body))}", after={"found": len(ids)})
    return {"conversations": subjects.summaries(ids)}


@router.post("/export")
def export(body: ConversationsIn, subjects: SubjectDep, db: DatabaseDep, lead: LeadDep) -> Response:
    data = subjects.export(body.conversation_ids)
    audit.record(db, "customer_data_exported", lead, f"{len(body.conversation_ids)} conversations",
                 after={"conversations": body.conversation_ids})
    return Response(json.dumps(data, ensure_ascii=False, indent=2), media_type="application/json", headers={
        "Content-Disposition": 'attachment; filename="dados-do-cliente.json"', "Cache-Control": "no-store"})


@router.post("/erase")
def erase(body: EraseIn, subjects: SubjectDep, db: DatabaseDep, lead: LeadDep) -> dict[str, Any]:
    if not body.confirm:
        raise HTTPException(422, "confirm must be true: erasing cannot be undone")
    outcome = (subjects.erase(body.conversation_ids) if body.mode == "erase"
               else subjects.anonymise(body.conversation_ids, reason="request"))
    audit.record(db, "customer_data_erased", lead, f"{body.mode}: {len(body.conversation_ids)} conversations",
                 after={"conversations": body.conversation_ids, "rows": outcome.rows})
    return {"mode": outcome.mode, "conversations": outcome.conversations, "rows": outcome.rows}
