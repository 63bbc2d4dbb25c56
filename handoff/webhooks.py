"""Outbound webhooks on handoff events, for teams that also run a helpdesk.

Each event becomes one row per target in ``handoff_webhook_deliveries`` inside the same transaction as the
change itself (an outbox), and :class:`WebhookWorker` sends due rows with an HMAC-SHA256 signature
(``X-Lumo-Signature: sha256=<hex of HMAC(secret, raw body)>``), retrying with exponential backoff. Rows are
leased with a conditional UPDATE, so several app processes never send the same delivery twice at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handoff.models import WebhookDelivery, iso, utcnow
from handoff.policy import Policy
from services.db import Database

log = logging.getLogger(__name__)
LEASE_SECONDS = 60


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does (documented here so helpdesk integrators can copy it)."""
    return hmac.compare_digest(sign(secret, body), signature or "")


def enqueue(session: Session, policy: Policy, event: str, data: dict[str, Any]) -> int:
    """Add one delivery per webhook subscribed to ``event``; the caller's transaction commits them."""
    count = 0
    for i, hook in enumerate(policy.webhooks):
        events = hook.get("events") or ["created", "claimed", "resolved"]
        if event not in events:
            continue
        body = json.dumps({"id": str(uuid.uuid4()), "event": f"handoff.{event}", "occurred_at": iso(utcnow()),
                           "data": data}, ensure_ascii=False, default=str)
        session.add(WebhookDelivery(target=str(hook.get("name") or f"webhook{i}")[:64], url=str(hook["url"])[:500],
                                    event=event, body=body, status="pending", attempts=0,
                                    next_attempt_at=utcnow(), created_at=utcnow()))
        count += 1
    return count


class WebhookWorker:
    """Background task: send due deliveries, retry failures with exponential backoff."""

    def __init__(self, db: Database, policy: Policy, poll_seconds: float = 0.5) -> None:
        self.db = db
        self.policy = policy
        self.poll_seconds = poll_seconds
        retry = policy.section("webhook_retry")
        self.max_attempts = int(retry.get("max_attempts", 6))
        self.backoff = float(retry.get("backoff_seconds", 2))
        self.max_backoff = float(retry.get("max_backoff_seconds", 300))
        self.timeout = float(retry.get("timeout_seconds", 5))
        self.secrets = {str(h.get("name") or f"webhook{i}"): str(h["secret"]) for i, h in enumerate(policy.webhooks)}
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        if self.policy.webhooks and self._task is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
            self._task = asyncio.create_task(self._run(), name="handoff-webhooks")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._client:
            await self._client.aclose()
        self._task = self._client = None

    def delay(self, attempts: int) -> float:
        return min(self.backoff * (2 ** max(attempts - 1, 0)), self.max_backoff)

    def _lease_due(self) -> list[WebhookDelivery]:
        now = utcnow()
        with self.db.session() as s:
            ids = s.scalars(select(WebhookDelivery.id).where(
                WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.id).limit(20)).all()
            leased = []
            for delivery_id in ids:
                result = s.execute(update(WebhookDelivery).where(
                    WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
                    (WebhookDelivery.locked_until.is_(None)) | (WebhookDelivery.locked_until < now))
                    .values(locked_until=now + timedelta(seconds=LEASE_SECONDS)))
                if result.rowcount == 1:
                    leased.append(s.get(WebhookDelivery, delivery_id))
            return [d for d in leased if d is not None]

    def _record(self, delivery_id: int, ok: bool, error: str | None) -> None:
        with self.db.session() as s:
            row = s.get(WebhookDelivery, delivery_id)
            if row is None:
                return
            row.attempts += 1
            row.locked_until = None
            if ok:
                row.status, row.delivered_at, row.last_error = "delivered", utcnow(), None
            else:
                row.last_error = (error or "")[:1000]
                if row.attempts >= self.max_attempts:
                    row.status = "failed"
                    log.error("webhook %s to %s failed for good after %d attempts: %s",
                              row.event, row.url, row.attempts, error)
                else:
                    row.next_attempt_at = utcnow() + timedelta(seconds=self.delay(row.attempts))

    async def send(self, delivery: WebhookDelivery) -> None:
        assert self._client is not None
        secret = self.secrets.get(delivery.target, "")
        body = delivery.body.encode()
        headers = {"Content-Type": "application/json", "X-Lumo-Event": f"handoff.{delivery.event}",
                   "X-Lumo-Delivery": str(delivery.id), "X-Lumo-Signature": sign(secret, body),
                   "User-Agent": "lumo-handoff-webhook/1"}
        error = None
        try:
            response = await self._client.post(delivery.url, content=body, headers=headers)
            ok = 200 <= response.status_code < 300
            if not ok:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            ok, error = False, f"{type(exc).__name__}: {exc}"
        await asyncio.to_thread(self._record, delivery.id, ok, error)

    async def run_once(self) -> int:
        due = await asyncio.to_thread(self._lease_due)
        for delivery in due:
            await self.send(delivery)
        return len(due)

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook worker round failed")
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
