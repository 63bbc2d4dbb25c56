"""HandoffService (on ``app.state.handoff``): escalations, queues, claiming, transfers, resolution.

Every state change is one conditional UPDATE committed before anyone is told (the customer's notice, the
consoles' refresh, the webhook), so a crash never announces something the database does not hold, and two
agents claiming the same chat at the same moment cannot both win (``WHERE status IN ('queued','offline')``,
then ``rowcount``). Talking to the customer goes only through the chat gateway (``app.state.chat``).
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from handoff import transcript as transcripts
from handoff import webhooks
from handoff.hours import BusinessHours
from handoff.models import (
    OPEN_STATUSES,
    WAITING_STATUSES,
    Agent,
    Handoff,
    HandoffEvent,
    HandoffNote,
    utcnow,
)
from handoff.policy import REASONS, Policy
from handoff.routing import Router
from services.chat.hub import Hub
from services.chat.models import ChatMessage, ContactRequest, Conversation
from services.chat.service import AGENTS_CHANNEL, ChatService, conversation_channel
from services.db import Database

log = logging.getLogger(__name__)


class HandoffError(Exception):
    """A refused operation; ``status`` is the HTTP status the API answers with."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class EscalationRequest:
    conversation_id: str
    reason: str
    reason_detail: str = ""
    intent: str | None = None
    category: str | None = None
    language: str | None = None
    kb_categories: tuple[str, ...] = ()
    events: list[dict[str, Any]] | None = None


def intents_latest_first(events: list[dict[str, Any]] | None) -> list[str]:
    names = []
    for event in reversed(events or []):
        if event.get("event") == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if name:
                names.append(str(name))
    return names


class HandoffService:
    """The handoff workflow; one per app process, all state in the database."""

    def __init__(self, db: Database, chat: ChatService, hub: Hub, policy: Policy, rasa_url: str,
                 rasa_timeout: float = 10.0, router: Router | None = None, rasa_token: str = "") -> None:
        self.db = db
        self.chat = chat
        self.hub = hub
        self.policy = policy
        self.router = router or Router(policy)
        self.hours = BusinessHours(policy)
        self.rasa_url = rasa_url.rstrip("/")
        self.rasa_token = rasa_token
        self.http = httpx.AsyncClient(timeout=rasa_timeout)
        self.webhooks = webhooks.WebhookWorker(db, policy)
        queue = policy.section("queue")
        self.default_handle_minutes = float(queue.get("default_handle_minutes", 6))
        self.history_size = int(queue.get("history_size", 20))
        self.presence_timeout = float(queue.get("presence_timeout_seconds", 90))
        self.clock = utcnow  # tests replace it to freeze time
        self._tasks: set[asyncio.Task[Any]] = set()

    async def aclose(self) -> None:
        await self.webhooks.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.http.aclose()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- Rasa ------------------------------------------------------------------------------------------
    def _rasa_params(self) -> dict[str, str]:
        return {"token": self.rasa_token} if self.rasa_token else {}

    async def fetch_tracker_events(self, conversation_id: str) -> list[dict[str, Any]]:
        """``GET {RASA_URL}/conversations/{id}/tracker`` (all events); raises on failure."""
        response = await self.http.get(f"{self.rasa_url}/conversations/{conversation_id}/tracker",
                                       params={"include_events": "ALL", **self._rasa_params()})
        response.raise_for_status()
        events = response.json().get("events")
        if not isinstance(events, list):
            raise ValueError("tracker without events")
        return [e for e in events if isinstance(e, dict)]

    async def resume_bot(self, conversation_id: str, attempts: int = 4) -> bool:
        """Append ``resume``, ``handoff_happened=true`` and ``action_listen`` to Rasa's tracker: the bot answers again."""
        # action_listen: the pause cut Rasa's turn short before it listened; without it the next message follows
        # action_request_human instead of action_listen and no rule matches it.
        events = [{"event": "resume"}, {"event": "slot", "name": "handoff_happened", "value": True},
                  {"event": "action", "name": "action_listen"}]
        for attempt in range(attempts):
            try:
                response = await self.http.post(
                    f"{self.rasa_url}/conversations/{conversation_id}/tracker/events",
                    params={"include_events": "NONE", **self._rasa_params()}, json=events)
                if response.status_code < 300:
                    return True
                error = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            log.warning("resuming Rasa for %s failed (attempt %d): %s", conversation_id, attempt + 1, error)
            if attempt + 1 < attempts:
                await asyncio.sleep(0.5 * 2 ** attempt)
        return False

    # -- presence and queue maths ---------------------------------------------------------------------
    def online_agents(self, s: Any, team: str) -> list[Agent]:
        since = self.clock() - timedelta(seconds=self.presence_timeout)
        agents = s.scalars(select(Agent).where(Agent.active.is_(True), Agent.status == "online",
                                               Agent.last_seen_at >= since)).all()
        return [a for a in agents if team in (a.teams or [])]

    def handle_minutes(self, s: Any, team: str) -> float:
        rows = s.execute(select(Handoff.claimed_at, Handoff.closed_at).where(
            Handoff.team == team, Handoff.status.in_(("resolved", "handed_back")),
            Handoff.claimed_at.is_not(None), Handoff.closed_at.is_not(None))
            .order_by(Handoff.closed_at.desc()).limit(self.history_size)).all()
        durations = [(closed - claimed).total_seconds() / 60 for claimed, closed in rows if closed >= claimed]
        if len(durations) < 3:
            return self.default_handle_minutes
        return max(1.0, sum(durations) / len(durations))

    def queue_position(self, s: Any, h: Handoff) -> int:
        ahead = s.scalar(select(func.count()).select_from(Handoff).where(
            Handoff.team == h.team, Handoff.status == "queued",
            (Handoff.priority < h.priority)
            | ((Handoff.priority == h.priority) & (Handoff.queued_at < h.queued_at))
            | ((Handoff.priority == h.priority) & (Handoff.queued_at == h.queued_at) & (Handoff.id < h.id))))
        return int(ahead or 0) + 1

    def estimate_minutes(self, s: Any, team: str, position: int) -> int | None:
        online = len(self.online_agents(s, team))
        if online == 0:
            return None
        return max(1, math.ceil(math.ceil(position / online) * self.handle_minutes(s, team)))

    def queue_snapshot(self, s: Any, team: str) -> list[dict[str, Any]]:
        """Positions and estimates of every queued chat of a team, in serving order."""
        rows = s.scalars(select(Handoff).where(Handoff.team == team, Handoff.status == "queued")
                         .order_by(Handoff.priority, Handoff.queued_at, Handoff.id)).all()
        online = len(self.online_agents(s, team))
        minutes = self.handle_minutes(s, team)
        out = []
        for position, h in enumerate(rows, start=1):
            wait = max(1, math.ceil(math.ceil(position / online) * minutes)) if online else None
            out.append({"handoff_id": h.id, "conversation_id": h.conversation_id, "language": h.language,
                        "position": position, "estimated_wait_minutes": wait})
        return out

    def _queue_text(self, language: str, team: str, position: int, minutes: int | None) -> str:
        return self.policy.message("queue_update", language, team=self.policy.team_name(team, language),
                                   position=position, minutes=minutes if minutes is not None else "?")

    async def broadcast_queue(self, team: str) -> None:
        """Tell every waiting customer of ``team`` their new position and estimate; refresh consoles."""
        snapshot = await asyncio.to_thread(self._with_session, lambda s: self.queue_snapshot(s, team))
        for entry in snapshot:
            text = self._queue_text(entry["language"], team, entry["position"], entry["estimated_wait_minutes"])
            await self.hub.publish(conversation_channel(entry["conversation_id"]), {
                "type": "notice", "kind": "queue", "text": text, "team": team,
                "team_name": self.policy.team_name(team, entry["language"]), "position": entry["position"],
                "estimated_wait_minutes": entry["estimated_wait_minutes"]})
        await self.hub.publish(AGENTS_CHANNEL, {"type": "queue_changed", "team": team})

    def _with_session(self, fn: Any) -> Any:
        with self.db.session() as s:
            return fn(s)

    def _event(self, s: Any, h: Handoff, kind: str, agent_id: int | None = None, **data: Any) -> None:
        s.add(HandoffEvent(handoff_id=h.id, kind=kind, agent_id=agent_id, data=data, created_at=self.clock()))

    # -- escalation ------------------------------------------------------------------------------------
    async def escalate(self, req: EscalationRequest) -> dict[str, Any]:
        """Create (or return the open) handoff of a conversation, then tell the customer what happens next."""
        if req.reason not in REASONS:
            raise HandoffError(f"reason must be one of {', '.join(REASONS)}", 422)
        if not req.conversation_id or len(req.conversation_id) > 64:
            raise HandoffError("conversation_id must have 1 to 64 characters", 422)
        conv = await self.chat.adopt_conversation(req.conversation_id, req.language)
        language = req.language if req.language in ("pt", "en") else conv.language
        existing = await asyncio.to_thread(self._open_handoff, req.conversation_id)
        if existing is not None:
            return await self._already(existing, language)
        events, source, error = transcripts.clean_events(req.events), "action", None
        if not events:
            try:
                events = transcripts.clean_events(await self.fetch_tracker_events(req.conversation_id))
                source = "rasa"
            except (httpx.HTTPError, ValueError) as exc:
                events, source, error = None, "gateway", f"{type(exc).__name__}: {exc}"
        gateway = [] if events else [m.to_dict() for m in await self.chat.history(req.conversation_id)]
        route = self.router.route([*intents_latest_first(events), *([req.intent] if req.intent else [])],
                                  req.category, req.kb_categories)
        now = self.clock()

        def work() -> tuple[Handoff, int | None, int, str]:
            with self.db.session() as s:
                start_seq = s.scalar(select(Conversation.last_seq).where(Conversation.id == req.conversation_id)) or 0
                is_open = self.hours.is_open(route.team, now)
                online = len(self.online_agents(s, route.team)) if is_open else 0
                status = "queued" if is_open and online else "offline"
                record = transcripts.assemble(req.conversation_id, events, source, language=language,
                                              reason=req.reason, reason_detail=req.reason_detail,
                                              start_seq=start_seq, error=error, gateway_messages=gateway)
                h = Handoff(conversation_id=req.conversation_id, status=status, team=route.team,
                            priority=self.policy.priority_for(req.reason), reason=req.reason,
                            reason_detail=(req.reason_detail or "")[:500], intent=req.intent,
                            category=route.category or req.category, language=language, created_at=now,
                            queued_at=now, transcript=record, updated_at=now)
                s.add(h)
                s.flush()
                self._event(s, h, "created", route=route.source, status=status)
                webhooks.enqueue(s, self.policy, "created", {"handoff": h.summary(), "transcript": record})
                position = self.queue_position(s, h)
                minutes = self.estimate_minutes(s, h.team, position) if status == "queued" else None
                return h, minutes, position, "hours" if not is_open else "no_agent"

        try:
            h, minutes, position, offline_why = await asyncio.to_thread(work)
        except IntegrityError:  # another escalation of the same conversation won the race
            existing = await asyncio.to_thread(self._open_handoff, req.conversation_id)
            if existing is None:
                raise
            return await self._already(existing, language)
        self.webhooks.wake()
        await self.chat.set_mode(h.conversation_id, "queued")
        team_name = self.policy.team_name(h.team, language)
        intro = self.policy.message(f"intro.{h.reason}", language)
        if h.status == "queued":
            text = self._queue_text(language, h.team, position, minutes)
            await self.chat.post_system_notice(h.conversation_id, "queue", text, {
                "team": h.team, "team_name": team_name, "position": position,
                "estimated_wait_minutes": minutes, "handoff_id": h.id})
            bot_text = f"{intro} " + self.policy.message("queued", language, team=team_name, position=position,
                                                         minutes=minutes)
        else:
            key = "offline_hours" if offline_why == "hours" else "offline_no_agent"
            text = self.policy.message(key, language, team=team_name, hours=self.policy.hours_text(h.team, language))
            opening = self.hours.next_opening(h.team, now)
            await self.chat.post_system_notice(h.conversation_id, "offline", text, {
                "contact_form": True, "team": h.team, "team_name": team_name, "why": offline_why,
                "next_opening": opening.isoformat() if opening else None, "handoff_id": h.id})
            bot_text = f"{intro} {text}"
        await self.broadcast_queue(h.team)
        return {"handoff_id": h.id, "status": h.status, "team": h.team, "team_name": team_name,
                "position": position if h.status == "queued" else None, "estimated_wait_minutes": minutes,
                "reason": h.reason, "bot_text": bot_text, "created": True}

    async def _already(self, h: Handoff, language: str) -> dict[str, Any]:
        team_name = self.policy.team_name(h.team, language)
        return {"handoff_id": h.id, "status": h.status, "team": h.team, "team_name": team_name,
                "position": None, "estimated_wait_minutes": None, "reason": h.reason, "created": False,
                "bot_text": self.policy.message("already_waiting", language, team=team_name)}

    def _open_handoff(self, conversation_id: str) -> Handoff | None:
        with self.db.session() as s:
            return s.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id,
                                                   Handoff.status.in_(OPEN_STATUSES))).first()

    # -- reading ---------------------------------------------------------------------------------------
    def get(self, handoff_id: int) -> Handoff:
        with self.db.session() as s:
            h = s.get(Handoff, handoff_id)
            if h is None:
                raise HandoffError("no such handoff", 404)
            return h

    def check_access(self, agent: Agent, h: Handoff) -> None:
        """Agents open chats of their teams (or ones they hold); leads open everything."""
        if not (agent.can_see_team(h.team) or h.agent_id == agent.id):
            raise HandoffError("this chat belongs to another team", 403)

    def waiting(self, agent: Agent, team: str | None = None) -> list[dict[str, Any]]:
        """Waiting chats (queued, then offline tickets) of the agent's teams, in serving order."""
        now = self.clock()
        with self.db.session() as s:
            query = select(Handoff).where(Handoff.status.in_(WAITING_STATUSES))
            if team:
                query = query.where(Handoff.team == team)
            rows = s.scalars(query.order_by(Handoff.status.desc(), Handoff.priority, Handoff.queued_at,
                                            Handoff.id)).all()
            contacts = self._contacts(s, [h.conversation_id for h in rows])
            out = []
            for h in rows:
                if not agent.can_see_team(h.team):
                    continue
                item = h.summary()
                item["wait_seconds"] = int((now - h.queued_at).total_seconds())
                item["contact"] = h.contact or contacts.get(h.conversation_id)
                out.append(item)
            return out

    def _contacts(self, s: Any, conversation_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not conversation_ids:
            return {}
        rows = s.scalars(select(ContactRequest).where(ContactRequest.conversation_id.in_(conversation_ids))
                         .order_by(ContactRequest.id)).all()
        return {r.conversation_id: {"name": r.name, "email": r.email, "phone": r.phone, "message": r.message}
                for r in rows}

    def mine(self, agent: Agent) -> list[dict[str, Any]]:
        with self.db.session() as s:
            rows = s.scalars(select(Handoff).where(Handoff.agent_id == agent.id, Handoff.status == "active")
                             .order_by(Handoff.claimed_at)).all()
            return [h.summary() for h in rows]

    def active_all(self, agent: Agent) -> list[dict[str, Any]]:
        """Chats being handled now, for a lead's overview (agents see those of their teams)."""
        with self.db.session() as s:
            rows = s.scalars(select(Handoff).where(Handoff.status == "active").order_by(Handoff.claimed_at)).all()
            names = {a.id: a.name for a in s.scalars(select(Agent)).all()}
            return [{**h.summary(), "agent_name": names.get(h.agent_id)} for h in rows if agent.can_see_team(h.team)]

    def detail(self, agent: Agent, handoff_id: int) -> dict[str, Any]:
        """Everything the console shows when an agent opens a chat."""
        h = self.get(handoff_id)
        self.check_access(agent, h)
        with self.db.session() as s:
            start = int((h.transcript or {}).get("start_seq") or 0)
            query = select(ChatMessage).where(ChatMessage.conversation_id == h.conversation_id, ChatMessage.seq > start)
            end = (h.transcript or {}).get("end_seq")
            if isinstance(end, int):
                query = query.where(ChatMessage.seq <= end)
            live = s.scalars(query.order_by(ChatMessage.seq)).all()
            notes = s.scalars(select(HandoffNote).where(HandoffNote.handoff_id == h.id)
                              .order_by(HandoffNote.id)).all()
            events = s.scalars(select(HandoffEvent).where(HandoffEvent.handoff_id == h.id)
                               .order_by(HandoffEvent.id)).all()
            conv = s.get(Conversation, h.conversation_id)
            holder = s.get(Agent, h.agent_id) if h.agent_id else None
            contact = h.contact or self._contacts(s, [h.conversation_id]).get(h.conversation_id)
            return {"handoff": {**h.summary(), "contact": contact, "agent_name": holder.name if holder else None},
                    "transcript": h.transcript, "messages": [m.to_dict() for m in live],
                    "notes": [n.to_dict() for n in notes], "events": [e.to_dict() for e in events],
                    "conversation": conv.to_dict() if conv else None}

    def export(self, agent: Agent, handoff_id: int) -> dict[str, Any]:
        d = self.detail(agent, handoff_id)
        return transcripts.export(d["handoff"], d["transcript"], d["messages"], d["notes"])

    # -- agent actions ---------------------------------------------------------------------------------
    async def claim(self, agent: Agent, handoff_id: int) -> dict[str, Any]:
        """Take a waiting chat; exactly one of several simultaneous claims wins (the others get 409)."""
        h = await asyncio.to_thread(self.get, handoff_id)
        if not agent.can_see_team(h.team):
            raise HandoffError("this chat belongs to another team", 403)
        claimed = await asyncio.to_thread(self.claim_row, handoff_id, agent)
        if claimed is None:
            raise HandoffError("someone else already took this chat", 409)
        self.webhooks.wake()
        await self.chat.set_mode(claimed.conversation_id, "human")
        await self.chat.post_system_notice(
            claimed.conversation_id, "agent_joined",
            self.policy.message("agent_joined", claimed.language, agent=agent.name),
            {"agent_name": agent.name, "team": claimed.team})
        await self.broadcast_queue(claimed.team)
        return claimed.summary()

    def claim_row(self, handoff_id: int, agent: Agent) -> Handoff | None:
        """The race-safe part of claiming: one conditional UPDATE; ``None`` when another claim won."""
        now = self.clock()
        with self.db.session() as s:
            result = s.execute(update(Handoff).where(
                Handoff.id == handoff_id, Handoff.status.in_(WAITING_STATUSES))
                .values(status="active", agent_id=agent.id, claimed_at=now, updated_at=now)
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                return None
            claimed = s.get(Handoff, handoff_id)
            assert claimed is not None
            s.refresh(claimed)
            self._event(s, claimed, "claimed", agent.id, agent_name=agent.name)
            webhooks.enqueue(s, self.policy, "claimed", {"handoff": claimed.summary(),
                                                         "agent": {"id": agent.id, "name": agent.name}})
            return claimed

    def _held(self, agent: Agent, handoff_id: int) -> Handoff:
        h = self.get(handoff_id)
        if h.status != "active":
            raise HandoffError("this chat is not being handled", 409)
        if h.agent_id != agent.id and not agent.is_lead:
            raise HandoffError("another agent holds this chat", 403)
        return h

    async def send_message(self, agent: Agent, handoff_id: int, text: str) -> ChatMessage:
        h = await asyncio.to_thread(self._held, agent, handoff_id)
        return await self.chat.post_agent_message(h.conversation_id, text, agent.name)

    async def typing(self, agent: Agent, handoff_id: int, on: bool) -> None:
        h = await asyncio.to_thread(self._held, agent, handoff_id)
        await self.chat.set_typing(h.conversation_id, "agent", on)

    async def add_note(self, agent: Agent, handoff_id: int, text: str) -> dict[str, Any]:
        clean = " ".join((text or "").split()) if "\n" not in (text or "") else (text or "").strip()
        if not clean:
            raise HandoffError("empty note", 422)
        h = await asyncio.to_thread(self.get, handoff_id)
        self.check_access(agent, h)

        def work() -> dict[str, Any]:
            with self.db.session() as s:
                note = HandoffNote(handoff_id=h.id, agent_id=agent.id, author_name=agent.name, text=clean[:4000],
                                   created_at=self.clock())
                s.add(note)
                s.flush()
                return note.to_dict()

        note = await asyncio.to_thread(work)
        await self.hub.publish(AGENTS_CHANNEL, {"type": "note", "team": h.team, "handoff_id": h.id, "note": note})
        return note

    async def transfer(self, agent: Agent, handoff_id: int, team: str | None = None,
                       to_agent_id: int | None = None) -> dict[str, Any]:
        """Send the chat to another team's queue, or directly to another (online) agent."""
        h = await asyncio.to_thread(self._held, agent, handoff_id)
        now = self.clock()
        if to_agent_id is not None:
            def to_agent() -> tuple[Handoff, Agent]:
                with self.db.session() as s:
                    target = s.get(Agent, to_agent_id)
                    if target is None or not target.active:
                        raise HandoffError("no such agent", 404)
                    if target.id not in {a.id for a in self.online_agents(s, h.team)} and not (
                            target.status == "online" and target.is_lead):
                        raise HandoffError(f"{target.name} is not online in this team", 409)
                    result = s.execute(update(Handoff).where(Handoff.id == h.id, Handoff.status == "active",
                                                             Handoff.agent_id == h.agent_id)
                                       .values(agent_id=target.id, updated_at=now))
                    if result.rowcount != 1:
                        raise HandoffError("the chat changed meanwhile; reload", 409)
                    self._event(s, h, "transferred", agent.id, to_agent=target.id, to_agent_name=target.name)
                    webhooks.enqueue(s, self.policy, "transferred", {"handoff": h.summary(), "to_agent": target.id})
                    return h, target

            h, target = await asyncio.to_thread(to_agent)
            await self.chat.post_system_notice(h.conversation_id, "agent_joined",
                                               self.policy.message("agent_joined", h.language, agent=target.name),
                                               {"agent_name": target.name, "team": h.team})
            await self.hub.publish(AGENTS_CHANNEL, {"type": "transferred", "team": h.team, "handoff_id": h.id,
                                                    "to_agent_id": target.id})
            return {**h.summary(), "agent_id": target.id}
        if not team or team not in self.policy.teams:
            raise HandoffError("choose a team or an agent to transfer to", 422)
        old_team = h.team

        def to_team() -> tuple[Handoff, str]:
            with self.db.session() as s:
                is_open = self.hours.is_open(team, now)
                status = "queued" if is_open and self.online_agents(s, team) else "offline"
                result = s.execute(update(Handoff).where(Handoff.id == h.id, Handoff.status == "active")
                                   .values(team=team, status=status, agent_id=None, claimed_at=None, updated_at=now))
                if result.rowcount != 1:
                    raise HandoffError("the chat changed meanwhile; reload", 409)
                fresh = s.get(Handoff, h.id)
                assert fresh is not None
                s.refresh(fresh)
                self._event(s, fresh, "transferred", agent.id, from_team=old_team, to_team=team)
                webhooks.enqueue(s, self.policy, "transferred", {"handoff": fresh.summary(), "from_team": old_team})
                return fresh, status

        fresh, status = await asyncio.to_thread(to_team)
        self.webhooks.wake()
        await self.chat.set_mode(fresh.conversation_id, "queued")
        team_name = self.policy.team_name(team, fresh.language)
        await self.chat.post_system_notice(fresh.conversation_id, "transferred",
                                           self.policy.message("transferred", fresh.language, team=team_name),
                                           {"team": team, "team_name": team_name, "status": status})
        await self.broadcast_queue(team)
        if old_team != team:
            await self.hub.publish(AGENTS_CHANNEL, {"type": "queue_changed", "team": old_team})
        return fresh.summary()

    async def close(self, agent: Agent, handoff_id: int, outcome: str, tag: str | None = None,
                    note: str | None = None) -> dict[str, Any]:
        """Resolve (``resolved``) or hand back to the bot (``handed_back``); the bot resumes either way."""
        if outcome == "resolved" and tag not in self.policy.resolution_tags:
            raise HandoffError(f"resolution tag must be one of {', '.join(self.policy.resolution_tags)}", 422)
        h = await asyncio.to_thread(self._held, agent, handoff_id)
        now = self.clock()

        def work() -> Handoff:
            with self.db.session() as s:
                result = s.execute(update(Handoff).where(Handoff.id == h.id, Handoff.status == "active")
                                   .values(status=outcome, closed_at=now, resolution_tag=tag,
                                           resolution_note=(note or "")[:2000] or None, updated_at=now))
                if result.rowcount != 1:
                    raise HandoffError("the chat changed meanwhile; reload", 409)
                fresh = s.get(Handoff, h.id)
                assert fresh is not None
                s.refresh(fresh)
                # The human part ends here; later messages belong to the bot (or a next handoff).
                last_seq = s.scalar(select(Conversation.last_seq).where(Conversation.id == fresh.conversation_id))
                fresh.transcript = {**(fresh.transcript or {}), "end_seq": int(last_seq or 0)}
                self._event(s, fresh, outcome, agent.id, tag=tag)
                webhooks.enqueue(s, self.policy, outcome, {"handoff": fresh.summary()})
                return fresh

        fresh = await asyncio.to_thread(work)
        self.webhooks.wake()
        await self.chat.set_mode(fresh.conversation_id, "bot")
        holder_name = agent.name
        if outcome == "resolved":
            await self.chat.post_system_notice(fresh.conversation_id, "resolved",
                                               self.policy.message("resolved", fresh.language, agent=holder_name),
                                               {"agent_name": holder_name})
        else:
            await self.chat.post_system_notice(fresh.conversation_id, "agent_left",
                                               self.policy.message("handed_back", fresh.language),
                                               {"agent_name": holder_name, "handed_back": True})
        if not await self.resume_bot(fresh.conversation_id, attempts=1):
            # Recorded now, retried in the background: the agent's click must not wait for Rasa.
            await asyncio.to_thread(self._log_event, fresh, "rasa_resume_failed")
            self._spawn(self._retry_resume(fresh))
        if outcome == "resolved" and self.policy.section("csat").get("enabled", True):
            await self.chat.request_csat(fresh.conversation_id)
        await self.hub.publish(AGENTS_CHANNEL, {"type": "closed", "team": fresh.team, "handoff_id": fresh.id,
                                                "status": outcome})
        return fresh.summary()

    async def _retry_resume(self, h: Handoff) -> None:
        if await self.resume_bot(h.conversation_id, attempts=5):
            await asyncio.to_thread(self._log_event, h, "rasa_resumed")

    def _log_event(self, h: Handoff, kind: str) -> None:
        with self.db.session() as s:
            self._event(s, h, kind)

    # -- agents ----------------------------------------------------------------------------------------
    def set_status(self, agent: Agent, status: str) -> dict[str, Any]:
        if status not in ("online", "away", "offline"):
            raise HandoffError("status must be online, away or offline", 422)
        with self.db.session() as s:
            row = s.get(Agent, agent.id)
            assert row is not None
            row.status, row.last_seen_at = status, self.clock()
            return row.to_dict()

    def touch(self, agent_id: int) -> None:
        with self.db.session() as s:
            s.execute(update(Agent).where(Agent.id == agent_id).values(last_seen_at=self.clock()))

    def agents(self, viewer: Agent) -> list[dict[str, Any]]:
        since = self.clock() - timedelta(seconds=self.presence_timeout)
        with self.db.session() as s:
            out = []
            for a in s.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name)).all():
                d = a.to_dict()
                if a.status == "online" and (a.last_seen_at is None or a.last_seen_at < since):
                    d["status"] = "offline"
                if not viewer.is_lead:
                    d.pop("email", None)
                out.append(d)
            return out

    def customer_status(self, conversation_id: str) -> dict[str, Any]:
        """What the widget shows after a reload: the open handoff, position and estimate."""
        with self.db.session() as s:
            h = s.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id,
                                                Handoff.status.in_(OPEN_STATUSES))).first()
            if h is None:
                return {"status": None}
            out: dict[str, Any] = {"status": h.status, "team": h.team,
                                   "team_name": self.policy.team_name(h.team, h.language)}
            if h.status == "queued":
                position = self.queue_position(s, h)
                out.update(position=position, estimated_wait_minutes=self.estimate_minutes(s, h.team, position))
            if h.status == "active" and h.agent_id:
                holder = s.get(Agent, h.agent_id)
                out["agent_name"] = holder.name if holder else None
            return out
