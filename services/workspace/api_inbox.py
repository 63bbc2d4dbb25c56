"""Lead workspace: the NLU inbox's routes (``/api/lead/inbox``).

``GET ""`` the groups worst first; ``POST /label`` a decision on messages; ``GET /intents`` what can be picked;
``GET /changes`` recent decisions; ``POST /commit`` the lead's curation round as a git commit on a branch.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import HTTPConnection

from services.db import Database
from services.deps import DatabaseDep
from services.workspace import curation, curation_store, git_round
from services.workspace.config import WorkspaceConfig
from services.workspace.deps import SAME_ORIGIN, LeadDep, WorkspaceConfigDep
from services.workspace.example_text import BotVocabulary, RefusedText, clean, deidentify
from services.workspace.inbox import (
    REASONS,
    InboxMessage,
    VectorCache,
    build_groups,
    candidates,
    grouping_form,
    read_messages,
)
from services.workspace.training_data import known_examples

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/lead/inbox", tags=["lead workspace"], dependencies=SAME_ORIGIN)

IntentName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class LabelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_ids: list[Annotated[int, Field(ge=1)]] = Field(min_length=1, max_length=500)
    action: Literal["confirm", "intent", "out_of_scope", "ignore"]
    intent: IntentName | None = None


def _vector_cache(app: Any) -> VectorCache | None:
    """One cache per app over the search's multilingual encoder (no second copy of the model is loaded)."""
    cache = getattr(app.state, "inbox_vectors", None)
    if cache is None:
        search = getattr(app.state, "search", None)
        encoder = search.encoders.get("default") if search is not None else None
        if encoder is None:
            return None
        cache = app.state.inbox_vectors = VectorCache(encoder.encode_queries)
    return cache


def pending(db: Database, config: WorkspaceConfig) -> tuple[list[InboxMessage], list[str]]:
    """The inbox's messages worst first, and the text each is grouped by (de-identified)."""
    settings = config.file.inbox
    vocabulary = BotVocabulary.load(config.paths.domain, config.paths.bot_data)

    def example_form(text: str) -> str:
        try:
            return deidentify(clean(text, settings.max_example_chars), vocabulary)[0]
        except RefusedText as error:
            raise ValueError(str(error)) from error

    with db.session() as s:
        messages = read_messages(s, low_confidence=settings.low_confidence, limit=settings.max_messages)
        decided = curation_store.decided_event_ids(s, [m.event_id for m in messages])
    items = candidates(messages, known_examples(config.paths.bot_data), decided, example_form)
    return items, [grouping_form(m.text, example_form) for m in items]


@router.get("")
def inbox(conn: HTTPConnection, db: DatabaseDep, config: WorkspaceConfigDep, lead: LeadDep,
          language: Literal["pt", "en"] | None = None,
          reason: Annotated[str | None, Query(pattern="^(" + "|".join(REASONS) + ")$")] = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
    cache = _vector_cache(conn.app)
    if cache is None:
        raise HTTPException(503, "o codificador de textos (busca) não está carregado; grupos indisponíveis")
    items, forms = pending(db, config)
    kept = [(m, f) for m, f in zip(items, forms, strict=True)
            if (language is None or m.language == language) and (reason is None or reason in m.reasons)]
    vectors = cache.vectors([f for _, f in kept])
    threshold = config.file.inbox.group_similarity
    groups = build_groups([m for m, _ in kept], vectors, threshold)
    return {"groups": groups[:limit], "total_groups": len(groups), "total_messages": len(kept),
            "threshold": threshold}


@router.post("/label")
def label(body: LabelBody, db: DatabaseDep, config: WorkspaceConfigDep, lead: LeadDep) -> dict[str, Any]:
    try:
        result = curation.label(db, config, lead, list(dict.fromkeys(body.event_ids)), body.action, body.intent)
    except curation.LabelError as error:
        raise HTTPException(422, str(error)) from error
    return result.to_dict()


@router.get("/intents")
def intents(config: WorkspaceConfigDep, lead: LeadDep) -> dict[str, Any]:
    return {"intents": curation.domain_intents(config.paths.domain), "out_of_scope": curation.OUT_OF_SCOPE}


@router.get("/changes")
def changes(db: DatabaseDep, lead: LeadDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    return {"changes": curation_store.recent(db, limit)}


@router.post("/commit")
def commit(db: DatabaseDep, config: WorkspaceConfigDep, lead: LeadDep) -> dict[str, Any]:
    try:
        return git_round.commit_round(db, config, lead)
    except git_round.RoundError as error:
        raise HTTPException(409, str(error)) from error


def _warm_up(app: FastAPI, stop: threading.Event) -> None:
    """Embed the inbox's messages in the background after start-up: the first load would otherwise wait for
    every message to be embedded (22 s for 1,000 messages on 2 cores; 0.5 s once they are cached)."""
    try:
        cache = _vector_cache(app)
        if cache is None:
            return
        _, forms = pending(app.state.db, app.state.workspace_config)
        for start in range(0, len(forms), 32):
            if stop.is_set():
                return
            cache.vectors(forms[start:start + 32])
    except Exception:  # noqa: BLE001 - a warm-up failure only means the first load is slower
        log.warning("NLU inbox warm-up failed; the first inbox load will embed its messages", exc_info=True)


async def on_startup(app: FastAPI) -> None:
    app.state.inbox_vectors = None  # built from app.state.search's encoder
    stop = threading.Event()
    app.state.inbox_warm_up = (stop, asyncio.get_running_loop().run_in_executor(None, _warm_up, app, stop))


async def on_shutdown(app: FastAPI) -> None:
    stop, task = getattr(app.state, "inbox_warm_up", (None, None))
    if stop is not None:
        stop.set()
        await asyncio.wait_for(task, timeout=60)
