"""Lead workspace: the models area's routes (``/api/lead/models``): versions, retrain jobs, promote, roll back.

The retrain job runs in this process (:class:`services.workspace.retrain.Retrainer` on ``app.state``); its
progress is in the database, so any app process answers ``GET jobs/current``.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import HTTPConnection

from services.deps import DatabaseDep, SettingsDep, state_of
from services.settings import REPO_ROOT
from services.workspace import model_store, promotion
from services.workspace.deps import SAME_ORIGIN, LeadDep, WorkspaceConfigDep
from services.workspace.retrain import Retrainer, data_counts

router = APIRouter(prefix="/api/lead/models", tags=["lead workspace"], dependencies=SAME_ORIGIN)
MAX_REASON = 1000
# An id beyond the database's integer is a 422 with the field's name, not an overflow inside the driver (500).
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class PromoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    override_reason: str | None = Field(None, max_length=MAX_REASON,
                                        description="required to promote a held-back candidate")


def served_model(models_dir: FilePath) -> FilePath | None:
    """The model Rasa serves now: the registry's pointer, else what ``make train`` produced last."""
    pointed = model_store.read_pointer(models_dir)
    if pointed is not None:
        return pointed
    latest = REPO_ROOT / ".cache" / "models" / "latest"
    if latest.is_file():
        path = latest.parent / latest.read_text().strip()
        return path if path.is_file() else None
    return None


async def on_startup(app: FastAPI) -> None:
    config, db = app.state.workspace_config, app.state.db
    model_store.fail_interrupted_jobs(db)
    model_store.ensure_initial_version(db, config.paths.models, served_model(config.paths.models),
                                       data_counts(config.paths.bot_data))
    app.state.retrainer = Retrainer(db, config)


async def on_shutdown(app: FastAPI) -> None:
    retrainer = getattr(app.state, "retrainer", None)
    if retrainer is not None:
        await retrainer.stop()


def retrainer_of(conn: HTTPConnection) -> Retrainer:
    return state_of(conn, "retrainer")


@router.get("")
def list_versions(db: DatabaseDep, lead: LeadDep) -> dict[str, Any]:
    versions = model_store.versions(db)
    promoted = next((v["id"] for v in versions if v["status"] == model_store.PROMOTED), None)
    return {"versions": versions, "promoted_id": promoted, "job": model_store.current_job(db)}


@router.post("/retrain", status_code=202)
async def retrain(conn: HTTPConnection, lead: LeadDep) -> Any:
    job, started = await retrainer_of(conn).start(lead)
    if not started:
        return JSONResponse(status_code=409, content={
            "detail": f"já há um treino em andamento (treino {job['id']}, iniciado por "
                      f"{job['started_by'] or 'outro líder'}); acompanhe-o nesta página", "job": job})
    return {"job": job}


@router.get("/jobs/current")
def current_job(db: DatabaseDep, lead: LeadDep) -> dict[str, Any]:
    return {"job": model_store.current_job(db)}


@router.get("/jobs/{job_id}")
def get_job(job_id: Id, db: DatabaseDep, lead: LeadDep) -> dict[str, Any]:
    job = model_store.get_job(db, job_id)
    if job is None:
        raise HTTPException(404, f"o treino {job_id} não existe")
    return {"job": job}


@router.post("/{version_id}/promote")
async def promote(version_id: Id, body: PromoteBody, db: DatabaseDep, settings: SettingsDep,
                  config: WorkspaceConfigDep, lead: LeadDep) -> dict[str, Any]:
    return await promotion.promote(db, settings, config, version_id, lead, body.override_reason, rollback=False)


@router.post("/{version_id}/rollback")
async def rollback(version_id: Id, body: PromoteBody, db: DatabaseDep, settings: SettingsDep,
                   config: WorkspaceConfigDep, lead: LeadDep) -> dict[str, Any]:
    return await promotion.promote(db, settings, config, version_id, lead, body.override_reason, rollback=True)
