"""The model registry (``workspace_model_versions``) and the retrain jobs (``workspace_model_jobs``).

Why in the database: every app process (and a restarted one) must show the same versions and the same live
progress of the one retrain job, and a job whose process died must read "failed", not "running" forever. The
promoted version is also written to a pointer file under ``paths.models`` (``promoted``) so ``make run``
(scripts/stack.py) starts Rasa with it after a restart, without reading the database.
"""

from __future__ import annotations

import os
import re
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.db import Base, Database, iso, utcnow

CANDIDATE, HELD_BACK, PROMOTED, RETIRED = "candidate", "held_back", "promoted", "retired"
RUNNING, FINISHED, FAILED = "running", "finished", "failed"
POINTER = "promoted"  # file under paths.models naming the promoted model archive
STALE_AFTER = timedelta(seconds=60)  # a running job without a heartbeat this long is dead
LOG_LINES = 30  # last log lines kept per job (the page shows them live)


class ModelVersion(Base):
    """One trained model a lead can promote: its file, what changed, how it scored, who promoted it."""

    __tablename__ = "workspace_model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file: Mapped[str] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by_name: Mapped[str] = mapped_column(String(120), default="")
    changes: Mapped[Any] = mapped_column(JSON, nullable=True)
    data_counts: Mapped[Any] = mapped_column(JSON, nullable=True)  # examples per intent at training time
    evaluation: Mapped[Any] = mapped_column(JSON, nullable=True)
    verdict: Mapped[Any] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=CANDIDATE, index=True)
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    promoted_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    promoted_by_name: Mapped[str] = mapped_column(String(120), default="")
    override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "file": Path(self.file).name, "fingerprint": self.fingerprint,
                "created_at": iso(self.created_at), "created_by": self.created_by_name,
                "changes": self.changes, "evaluation": self.evaluation, "verdict": self.verdict,
                "status": self.status, "promoted_at": iso(self.promoted_at), "promoted_by": self.promoted_by_name,
                "override_reason": self.override_reason, "job_id": self.job_id}


class RetrainJob(Base):
    """One retrain: its stage and percent, the last log lines, and how it ended."""

    __tablename__ = "workspace_model_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_by_name: Mapped[str] = mapped_column(String(120), default="")
    state: Mapped[str] = mapped_column(String(16), default=RUNNING, index=True)
    stage: Mapped[str] = mapped_column(String(16), default="validate")
    percent: Mapped[int] = mapped_column(Integer, default=0)
    log: Mapped[Any] = mapped_column(JSON, default=list)
    stage_seconds: Mapped[Any] = mapped_column(JSON, default=dict)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    owner: Mapped[str] = mapped_column(String(120), default="")  # host:pid of the process running it
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        end = self.finished_at or now or utcnow()
        return {"id": self.id, "created_at": iso(self.created_at), "started_by": self.started_by_name,
                "state": self.state, "stage": self.stage, "percent": self.percent, "log": self.log or [],
                "stage_seconds": self.stage_seconds or {}, "finished_at": iso(self.finished_at),
                "elapsed_seconds": round((end - self.created_at).total_seconds(), 1), "error": self.error,
                "version_id": self.version_id}


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def fingerprint_of(file: str | Path) -> str:
    """``model-<fingerprint>.tar.gz`` (scripts/train_model.py's cache name) → the fingerprint."""
    match = re.match(r"^(?:model|nlu)-([0-9a-f]+)\.tar\.gz$", Path(file).name)
    return match.group(1) if match else ""


# ---------------------------------------------------------------- versions

def versions(db: Database) -> list[dict[str, Any]]:
    """Newest first."""
    with db.session() as s:
        return [v.to_dict() for v in s.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()))]


def get_version(session: Session, version_id: int) -> ModelVersion | None:
    return session.get(ModelVersion, version_id)


def promoted(session: Session) -> ModelVersion | None:
    return session.scalars(select(ModelVersion).where(ModelVersion.status == PROMOTED)
                           .order_by(ModelVersion.promoted_at.desc())).first()


def latest(session: Session) -> ModelVersion | None:
    return session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())).first()


def add_version(session: Session, file: Path, *, lead: Any = None, status: str = CANDIDATE,
                changes: Any = None, data_counts: Any = None, evaluation: Any = None, verdict: Any = None,
                job_id: int | None = None) -> ModelVersion:
    version = ModelVersion(file=str(file), fingerprint=fingerprint_of(file), created_at=utcnow(),
                           created_by_id=getattr(lead, "id", None), created_by_name=getattr(lead, "name", "") or "",
                           changes=changes, data_counts=data_counts, evaluation=evaluation, verdict=verdict,
                           status=status, job_id=job_id)
    if status == PROMOTED:
        version.promoted_at = version.created_at
    session.add(version)
    session.flush()
    return version


def mark_promoted(session: Session, version: ModelVersion, lead: Any, override_reason: str | None) -> None:
    """``version`` becomes the one promoted version; the one before it is retired."""
    for other in session.scalars(select(ModelVersion).where(ModelVersion.status == PROMOTED)):
        if other.id != version.id:
            other.status = RETIRED
    version.status = PROMOTED
    version.promoted_at = utcnow()
    version.promoted_by_id = getattr(lead, "id", None)
    version.promoted_by_name = getattr(lead, "name", "") or ""
    version.override_reason = override_reason


def write_pointer(models_dir: Path, file: Path) -> None:
    """Name the promoted model for the next start of ``make run`` (atomic: a crash leaves the old pointer)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = models_dir / f".{POINTER}.tmp"
    tmp.write_text(str(file.resolve()) + "\n")
    tmp.replace(models_dir / POINTER)


def read_pointer(models_dir: Path) -> Path | None:
    pointer = models_dir / POINTER
    if not pointer.is_file():
        return None
    path = Path(pointer.read_text().strip())
    return path if path.is_file() else None


def ensure_initial_version(db: Database, models_dir: Path, served: Path | None,
                           data_counts: dict[str, int] | None = None) -> None:
    """An empty registry gets the model Rasa serves now as version 1 (promoted), so there is a baseline;
    ``data_counts`` (examples per intent now) is what the next version's "what changed" is compared with."""
    with db.session() as s:
        if latest(s) is not None:
            return
        file = read_pointer(models_dir) or served
        if file is None or not file.is_file():
            return
        add_version(s, file, status=PROMOTED, changes={"summary": "modelo inicial (o que o Rasa já servia)"},
                    data_counts=data_counts)


# ---------------------------------------------------------------- jobs

def running_job(session: Session) -> RetrainJob | None:
    return session.scalars(select(RetrainJob).where(RetrainJob.state == RUNNING).order_by(RetrainJob.id)).first()


def start_job(db: Database, lead: Any) -> tuple[RetrainJob, bool]:
    """A new running job, or (the running one, False): one retrain at a time across every app process."""
    with db.session() as s:
        fail_stale_jobs(s)
        current = running_job(s)
        if current is not None:
            return current, False
        job = RetrainJob(created_at=utcnow(), heartbeat_at=utcnow(), started_by_id=getattr(lead, "id", None),
                         started_by_name=getattr(lead, "name", "") or "", state=RUNNING, stage="validate",
                         percent=0, log=[], stage_seconds={}, owner=owner_id())
        s.add(job)
        s.flush()
        return job, True


def update_job(db: Database, job_id: int, *, lines: list[str] | None = None, **values: Any) -> None:
    """Progress of a running job (also its heartbeat); ``lines`` are appended to the kept tail of the log."""
    with db.session() as s:
        job = s.get(RetrainJob, job_id)
        if job is None:
            return
        for key, value in values.items():
            setattr(job, key, value)
        if lines:
            job.log = [*(job.log or []), *lines][-LOG_LINES:]
        job.heartbeat_at = utcnow()


def finish_job(db: Database, job_id: int, state: str, error: str | None = None,
               version_id: int | None = None) -> None:
    with db.session() as s:
        job = s.get(RetrainJob, job_id)
        if job is None:
            return
        job.state, job.error, job.finished_at = state, error, utcnow()
        if version_id is not None:
            job.version_id = version_id
        if state == FINISHED:
            job.percent, job.stage = 100, "done"


def get_job(db: Database, job_id: int) -> dict[str, Any] | None:
    with db.session() as s:
        fail_stale_jobs(s)
        job = s.get(RetrainJob, job_id)
        return job.to_dict() if job else None


def current_job(db: Database) -> dict[str, Any] | None:
    """The running job, else the latest one (the page shows how the last retrain ended)."""
    with db.session() as s:
        fail_stale_jobs(s)
        job = running_job(s) or s.scalars(select(RetrainJob).order_by(RetrainJob.id.desc())).first()
        return job.to_dict() if job else None


def fail_stale_jobs(session: Session, restarted_owner: str | None = None) -> None:
    """Running jobs whose process is gone become failed: no heartbeat for a minute, or (at start-up) jobs of
    this host whose process id no longer runs."""
    now = utcnow()
    for job in session.scalars(select(RetrainJob).where(RetrainJob.state == RUNNING)):
        dead = now - job.heartbeat_at > STALE_AFTER or (restarted_owner is not None and _owner_gone(job.owner))
        if dead:
            job.state, job.finished_at = FAILED, now
            job.error = "interrompido: o serviço reiniciou ou parou durante o treino; inicie o treino de novo"


def _owner_gone(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True  # this process just started: any job it "owns" belongs to an earlier life of this pid
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def fail_interrupted_jobs(db: Database) -> None:
    """At start-up: a job left running by a process that is gone is marked failed, not left hanging."""
    with db.session() as s:
        fail_stale_jobs(s, restarted_owner=owner_id())
