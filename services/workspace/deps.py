"""Typed dependencies of the workspace's routes: the signed-in lead (401/403 otherwise)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from handoff import auth
from handoff.models import Agent
from services.deps import state_of
from services.workspace.config import WorkspaceConfig

# The signed-in lead: agents get 403, strangers 401 (handoff.auth.require_lead).
LeadDep = Annotated[Agent, Depends(auth.require_lead)]
# Every workspace router carries this: writes from another site are refused (CSRF), as in the agent console.
SAME_ORIGIN = [Depends(auth.require_same_origin)]


def get_workspace_config(conn: HTTPConnection) -> WorkspaceConfig:
    return state_of(conn, "workspace_config")


WorkspaceConfigDep = Annotated[WorkspaceConfig, Depends(get_workspace_config)]


def articles_dir(conn: HTTPConnection) -> Path:
    """The knowledge-base articles: the folder the search indexes (retrieval/retrieval.yml ``articles_dir``), the
    one setting the Articles page, the gap drafts, the help center and the bot all follow."""
    return Path(state_of(conn, "search").settings.articles_dir)
