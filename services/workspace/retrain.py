"""The retrain job: validate → train → evaluate → verdict, in the background, one at a time.

Why subprocesses of the Rasa environment: Rasa needs Python 3.10 and its own pins; the services app only runs
``rasa data validate``, ``scripts.train_model`` (cached by the data's fingerprint: unchanged data trains
nothing) and ``scripts.evaluate_model`` and reads their output. Progress goes to the database
(:mod:`services.workspace.model_store`) so every app process shows it and a restart marks the job failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import yaml

from services.db import Database
from services.settings import REPO_ROOT
from services.workspace import audit, model_store
from services.workspace.config import Retrain, WorkspaceConfig

RASA_PY = Path(os.environ.get("RASA_PYTHON") or REPO_ROOT / ".venv" / "rasa" / "bin" / "python")
# Share of the progress bar per stage; training's share advances with the time the last training took.
STAGES = {"validate": (0, 10), "train": (10, 65), "evaluate": (65, 98), "verdict": (98, 100)}
DEFAULT_TRAIN_SECONDS = 120.0


class StageFailed(RuntimeError):
    """A stage's command failed; the message is what the lead sees."""


# ---------------------------------------------------------------- verdict (pure)

def verdict(evaluation: dict[str, Any], tolerances: Retrain) -> dict[str, Any]:
    """``ready`` or ``held_back`` with the reasons, from the comparison and the workspace.yml tolerances."""
    current, candidate = evaluation.get("current"), evaluation["candidate"]
    reasons: list[str] = []
    warnings: list[str] = []
    stories = candidate.get("stories")
    if tolerances.stories_must_pass and stories and stories["failed"]:
        # A story the current model fails too is not this candidate's doing: it is shown, not held against it
        # (otherwise one broken story would block every retrain until someone fixes it).
        failing_before = set(((current or {}).get("stories") or {}).get("failed") or [])
        new = [s for s in stories["failed"] if s not in failing_before]
        old = [s for s in stories["failed"] if s in failing_before]
        if new:
            reasons.append(f"{len(new)} história(s) de teste passaram a falhar: {', '.join(new[:5])}")
        if old:
            warnings.append(f"{len(old)} história(s) de teste falham também com o modelo atual: {', '.join(old[:5])}")
    if current:
        drop = current["accuracy"] - candidate["accuracy"]
        if drop > tolerances.max_accuracy_drop + 1e-9:
            reasons.append(f"acurácia caiu {drop * 100:.1f} pontos (tolerância {tolerances.max_accuracy_drop * 100:.1f})")
        drop = current["macro_f1"] - candidate["macro_f1"]
        if drop > tolerances.max_macro_f1_drop + 1e-9:
            reasons.append(f"F1 macro caiu {drop * 100:.1f} pontos (tolerância {tolerances.max_macro_f1_drop * 100:.1f})")
        for intent, before in sorted(current["per_intent_f1"].items()):
            after = candidate["per_intent_f1"].get(intent, 0.0)
            if before - after > tolerances.max_intent_f1_drop + 1e-9:
                reasons.append(f"F1 de '{intent}' caiu de {before:.2f} para {after:.2f} "
                               f"(tolerância {tolerances.max_intent_f1_drop:.2f})")
    return {"status": model_store.HELD_BACK if reasons else "ready", "reasons": reasons, "warnings": warnings}


# ---------------------------------------------------------------- what changed

def data_counts(bot_data: Path) -> dict[str, int]:
    """Examples per intent in the NLU files (the "what changed" of a version when no curation record says it)."""
    counts: dict[str, int] = {}
    for path in sorted(bot_data.rglob("*.yml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        for block in raw.get("nlu") or [] if isinstance(raw, dict) else []:
            if isinstance(block, dict) and "intent" in block and isinstance(block.get("examples"), str):
                n = sum(1 for line in block["examples"].splitlines() if line.strip().startswith("- "))
                counts[block["intent"]] = counts.get(block["intent"], 0) + n
    return counts


def changes_since(db: Database, previous: model_store.ModelVersion | None, counts: dict[str, int]) -> dict[str, Any]:
    """The curation records since the previous version (helper A's table) and the per-intent count diff."""
    diff: dict[str, int] = {}
    before = (previous.data_counts or {}) if previous else {}
    for intent in sorted(set(before) | set(counts)) if before else ():  # no baseline: no diff to show
        delta = counts.get(intent, 0) - before.get(intent, 0)
        if delta:
            diff[intent] = delta
    records: list[dict[str, Any]] = []
    try:
        from sqlalchemy import select

        from services.workspace.curation_store import ADDED, CurationRecord
    except ImportError:  # the NLU inbox is not installed: the data diff alone says what changed
        CurationRecord = None  # noqa: N806
    if CurationRecord is not None:
        with db.session() as s:
            query = select(CurationRecord).where(CurationRecord.action == ADDED)
            if previous is not None:
                query = query.where(CurationRecord.created_at > previous.created_at)
            records = [{"text": r.text, "intent": r.intent, "language": r.language, "by": r.lead_name}
                       for r in s.scalars(query.order_by(CurationRecord.id).limit(200))]
    parts = [f"{'+' if d > 0 else ''}{d} {intent}" for intent, d in diff.items()]
    summary = ("exemplos: " + ", ".join(parts)) if parts else "nenhuma mudança nos exemplos de NLU"
    return {"summary": summary, "intent_counts": diff, "curation": records}


# ---------------------------------------------------------------- the job

def subprocess_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONHOME", "VIRTUAL_ENV"}}
    env.update({"PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1", "OMP_WAIT_POLICY": "PASSIVE",
                "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "TOKENIZERS_PARALLELISM": "false",
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                "PYTHONWARNINGS": "ignore"})  # the live log shows progress; library deprecations are noise there
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


class Retrainer:
    """Runs at most one job per app; the database refuses a second one across processes."""

    def __init__(self, db: Database, config: WorkspaceConfig) -> None:
        self.db, self.config = db, config
        self.task: asyncio.Task[None] | None = None
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, lead: Any) -> tuple[dict[str, Any], bool]:
        job, created = model_store.start_job(self.db, lead)
        if created:
            audit.record(self.db, "retrain_started", lead, f"job:{job.id}")
            self.task = asyncio.create_task(self.run(job.id, lead), name=f"retrain-{job.id}")
        return model_store.get_job(self.db, job.id) or {}, created

    async def stop(self) -> None:
        """App shutdown: stop the subprocess; the job is marked failed (the next start says so too)."""
        if self.task is None or self.task.done():
            return
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task

    async def warm_current(self, current: Path) -> None:
        """Judge the promoted model while validate and train run, into the evaluation cache.

        Why: training is single-threaded (the encoder runs with one thread), so on two cores the second one is
        mostly idle; the evaluate stage then only judges the candidate (the current model's result is cached).
        """
        paths = self.config.paths
        command = [str(RASA_PY), "-m", "scripts.evaluate_model", "--candidate", str(current), "--held-out",
                   str(paths.held_out), "--out", str(paths.models / f".warm-{os.getpid()}.json"),
                   "--cache", str(paths.models / "evaluation-cache")]
        if paths.test_stories.exists():
            command += ["--stories", str(paths.test_stories)]
        paths.models.mkdir(parents=True, exist_ok=True)
        process = await asyncio.create_subprocess_exec(
            *command, cwd=REPO_ROOT, env=subprocess_env(), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
        try:
            await process.wait()
        except asyncio.CancelledError:
            kill_group(process)
            raise

    async def run(self, job_id: int, lead: Any) -> None:
        paths, stage_seconds = self.config.paths, {}
        with self.db.session() as s:
            current = model_store.promoted(s)
            current_file = Path(current.file) if current and Path(current.file).is_file() else None
        warm = asyncio.create_task(self.warm_current(current_file)) if current_file is not None else None
        try:
            started = time.monotonic()
            await self.stage(job_id, "validate", [str(RASA_PY), "-m", "rasa", "data", "validate", "--domain",
                                                  str(paths.domain), "--data", str(paths.bot_data), "--config",
                                                  str(paths.rasa_config)])
            stage_seconds["validate"] = round(time.monotonic() - started, 1)
            started = time.monotonic()
            output = await self.stage(job_id, "train", [
                str(RASA_PY), "-m", "scripts.train_model", "--config", str(paths.rasa_config), "--domain",
                str(paths.domain), "--data", str(paths.bot_data), "--out-dir", str(paths.models)],
                expected_seconds=self.last_train_seconds())
            candidate = Path(output[-1].strip()) if output else Path()
            if not candidate.is_file():
                raise StageFailed("o treino terminou sem gerar um modelo")
            stage_seconds["train"] = round(time.monotonic() - started, 1)
            model_store.update_job(self.db, job_id, stage_seconds=dict(stage_seconds))
            started = time.monotonic()
            if warm is not None and not warm.done():
                model_store.update_job(self.db, job_id, stage="evaluate", lines=[
                    "aguardando a avaliação do modelo atual (feita durante o treino)"])
                await warm
            with self.db.session() as s:
                current = model_store.promoted(s)  # a lead may have promoted another version meanwhile
                current_file = Path(current.file) if current and Path(current.file).is_file() else None
            result_file = paths.models / f"evaluation-job{job_id}.json"
            command = [str(RASA_PY), "-m", "scripts.evaluate_model", "--candidate", str(candidate),
                       "--held-out", str(paths.held_out), "--out", str(result_file),
                       "--cache", str(paths.models / "evaluation-cache")]
            if current_file is not None:
                command += ["--current", str(current_file)]
            if paths.test_stories.exists():
                command += ["--stories", str(paths.test_stories)]
            await self.stage(job_id, "evaluate", command)
            evaluation = json.loads(result_file.read_text())
            stage_seconds["evaluate"] = round(time.monotonic() - started, 1)
            version_id = self.record_version(job_id, lead, candidate, evaluation)
            model_store.update_job(self.db, job_id, stage="verdict", stage_seconds=dict(stage_seconds))
            model_store.finish_job(self.db, job_id, model_store.FINISHED, version_id=version_id)
        except asyncio.CancelledError:
            model_store.finish_job(self.db, job_id, model_store.FAILED, "interrompido: o serviço foi parado")
            raise
        except StageFailed as error:
            model_store.finish_job(self.db, job_id, model_store.FAILED, str(error))
        except Exception as error:  # the lead must see a failed job, never a job that hangs
            model_store.finish_job(self.db, job_id, model_store.FAILED, f"erro inesperado: {error!r}"[:2000])
        finally:
            if warm is not None and not warm.done():
                warm.cancel()

    def last_train_seconds(self) -> float:
        from sqlalchemy import select

        with self.db.session() as s:
            for job in s.scalars(select(model_store.RetrainJob).where(model_store.RetrainJob.state ==
                                                                     model_store.FINISHED)
                                 .order_by(model_store.RetrainJob.id.desc()).limit(5)):
                seconds = (job.stage_seconds or {}).get("train")
                if seconds and seconds > 20:
                    return float(seconds)
        return DEFAULT_TRAIN_SECONDS

    def record_version(self, job_id: int, lead: Any, candidate: Path, evaluation: dict[str, Any]) -> int:
        """The candidate as a version (or the existing version of the same file: cached, nothing changed)."""
        from sqlalchemy import select

        judged = verdict(evaluation, self.config.file.retrain)
        counts = data_counts(self.config.paths.bot_data)
        with self.db.session() as s:
            same = s.scalars(select(model_store.ModelVersion).where(
                model_store.ModelVersion.file == str(candidate))).first()
            if same is not None:
                same.evaluation, same.verdict = evaluation, {**judged, "unchanged": True}
                return same.id
            changes = changes_since(self.db, model_store.latest(s), counts)
            status = model_store.HELD_BACK if judged["status"] == model_store.HELD_BACK else model_store.CANDIDATE
            version = model_store.add_version(s, candidate, lead=lead, status=status, changes=changes,
                                              data_counts=counts, evaluation=evaluation, verdict=judged,
                                              job_id=job_id)
            if status == model_store.HELD_BACK:
                audit.add(s, "candidate_held_back", lead, f"model:{version.id}", None,
                          {"reasons": judged["reasons"]})
            return version.id

    async def stage(self, job_id: int, name: str, command: list[str],
                    expected_seconds: float | None = None) -> list[str]:
        """Run one stage's command, streaming its lines into the job; its stdout lines are returned."""
        from services.privacy import redact_log_text

        low, high = STAGES[name]
        model_store.update_job(self.db, job_id, stage=name, percent=low, lines=[f"== {stage_label(name)}"])
        process = await asyncio.create_subprocess_exec(
            *command, cwd=REPO_ROOT, env=subprocess_env(), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True, limit=4 * 1024 * 1024)
        self.process = process
        started = time.monotonic()
        pending: list[str] = []
        stdout: list[str] = []
        percent = low
        last_flush = 0.0
        assert process.stdout is not None
        try:
            while True:
                try:
                    raw = await asyncio.wait_for(process.stdout.readline(), timeout=2.0)
                except TimeoutError:
                    raw = None
                except ValueError:  # a line longer than the limit (a progress bar without newlines)
                    raw = await process.stdout.read(64 * 1024)
                if raw == b"":
                    break
                if raw:
                    for part in raw.decode("utf-8", "replace").replace("\r", "\n").split("\n"):
                        line = redact_log_text(part.rstrip())[:300]
                        if not line.strip():
                            continue
                        if line.startswith("PROGRESS "):
                            number, _, what = line[9:].partition(" ")
                            if number.isdigit():
                                percent = low + (high - low) * int(number) // 100
                            line = what
                        stdout.append(line)
                        pending.append(line)
                if expected_seconds:
                    share = min(0.95, (time.monotonic() - started) / expected_seconds)
                    percent = max(percent, low + int((high - low) * share))
                if time.monotonic() - last_flush >= 1.0:
                    model_store.update_job(self.db, job_id, percent=percent, lines=pending)
                    pending, last_flush = [], time.monotonic()
            code = await process.wait()
        except asyncio.CancelledError:
            kill_group(process)
            raise
        finally:
            self.process = None
        model_store.update_job(self.db, job_id, percent=high if code == 0 else percent, lines=pending)
        if code != 0:
            tail = "\n".join(stdout[-8:])
            raise StageFailed(f"{stage_label(name)} falhou (código {code}):\n{tail}")
        return stdout_lines(stdout)


def stdout_lines(lines: list[str]) -> list[str]:
    """The non-empty lines (train_model prints the model path last)."""
    return [line for line in lines if line.strip()]


def stage_label(name: str) -> str:
    return {"validate": "validação dos dados", "train": "treino", "evaluate": "avaliação",
            "verdict": "veredito"}.get(name, name)


def kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
