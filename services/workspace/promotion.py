"""Promote a model version (or roll back to an earlier one): every Rasa server loads it, nothing is dropped.

How no conversation is dropped: Rasa's ``PUT /model`` (rasa/server.py ``load_model``, Rasa 3.6) builds a new
agent with the server's own endpoints, so the new agent opens the same SQL tracker store, keeps the lock store,
and swaps ``app.ctx.agent`` only once the model is loaded; a message in flight finishes on the old agent, the
next one continues the same tracker on the new model. Several replicas: each URL of ``retrain.rasa_urls`` is
told in turn and every failure is reported; the registry changes when at least one server took the model.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from fastapi import HTTPException

from services.db import Database
from services.settings import Settings
from services.workspace import audit, model_store
from services.workspace.config import WorkspaceConfig

LOAD_TIMEOUT = 180.0  # loading a model (and the e5 encoder) takes seconds to a minute on two cores
_lock = asyncio.Lock()  # one promotion at a time in this process: two leads clicking do not interleave loads


def rasa_urls(settings: Settings, config: WorkspaceConfig) -> list[str]:
    return [u.rstrip("/") for u in config.file.retrain.rasa_urls] or [settings.rasa_url.rstrip("/")]


async def load_into(url: str, token: str, file: Path) -> dict[str, Any]:
    """Ask one Rasa server to load ``file``; what happened, in words a lead understands."""
    params = {"token": token} if token else None
    try:
        async with httpx.AsyncClient(timeout=LOAD_TIMEOUT) as client:
            response = await client.put(f"{url}/model", params=params, json={"model_file": str(file)})
    except httpx.HTTPError as error:
        return {"url": url, "ok": False, "error": f"servidor Rasa inacessível ({type(error).__name__})"}
    if response.status_code in (200, 204):
        return {"url": url, "ok": True, "error": None}
    return {"url": url, "ok": False, "error": f"o Rasa respondeu {response.status_code}: {response.text[:300]}"}


async def promote(db: Database, settings: Settings, config: WorkspaceConfig, version_id: int, lead: Any,
                  override_reason: str | None, rollback: bool) -> dict[str, Any]:
    """Load version ``version_id`` into every Rasa server and make it the promoted one (audited)."""
    reason = (override_reason or "").strip() or None
    async with _lock:
        with db.session() as s:
            version = model_store.get_version(s, version_id)
            if version is None:
                raise HTTPException(404, f"a versão {version_id} não existe")
            current = model_store.promoted(s)
            if version.status == model_store.PROMOTED:
                raise HTTPException(409, f"a versão {version_id} já é a que atende os clientes")
            if rollback and current is not None and version.id > current.id:
                raise HTTPException(409, f"a versão {version_id} é mais nova que a atual ({current.id}): "
                                         "use Promover, não Voltar")
            if version.status == model_store.HELD_BACK and not reason:
                raise HTTPException(409, "este candidato foi retido por ser pior que o modelo atual; para "
                                         "liberá-lo mesmo assim, escreva o motivo")
            file = Path(version.file)
            before = {"version": current.id if current else None}
        if not file.is_file():
            raise HTTPException(409, f"o arquivo do modelo da versão {version_id} não existe mais ({file.name})")
        results = await asyncio.gather(*(load_into(url, settings.rasa_token, file)
                                         for url in rasa_urls(settings, config)))
        if not any(r["ok"] for r in results):
            raise HTTPException(502, "nenhum servidor Rasa carregou o modelo; nada mudou: " +
                                "; ".join(f"{r['url']}: {r['error']}" for r in results))
        with db.session() as s:
            version = model_store.get_version(s, version_id)
            assert version is not None
            held_back = version.status == model_store.HELD_BACK
            model_store.mark_promoted(s, version, lead, reason if held_back else None)
            after = {"version": version_id, "file": file.name, "servers": results}
            audit.add(s, "model_rolled_back" if rollback else "model_promoted", lead, f"model:{version_id}",
                      before, after)
            if held_back:
                audit.add(s, "override", lead, f"model:{version_id}", {"verdict": version.verdict},
                          {"reason": reason})
        model_store.write_pointer(config.paths.models, file)
        return {"version": version_id, "servers": results,
                "failed": [r for r in results if not r["ok"]]}
