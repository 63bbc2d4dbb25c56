"""HandoffService (on ``app.state.handoff``): escalations, queues, claiming, transfers, resolution.

Every change is one unit of work of the conversation lifecycle (:mod:`services.conversations.lifecycle`): the
handoff row, the conversation's status and the event that says why are written in one transaction, with
conditional UPDATEs so two agents claiming the same chat at the same moment cannot both win. What follows a
change — the customer's notice, the queue positions, the consoles' refresh, the webhook, Rasa's resume — runs in
listeners of the event log (:mod:`handoff.listeners`), not here. Talking to the customer goes only through the
chat gateway (``app.state.chat``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from handoff import transcript as transcripts
from handoff import webhooks
from handoff.decision import (
    IMMEDIATE_REASONS,
    EscalationRules,
    intents_latest_first,
    kb_categories,
)
from handoff.hours import BusinessHours
from handoff.models import OPEN_STATUSES, WAITING_STATUSES, Agent, Handoff, HandoffNote
from handoff.policy import REASONS, Policy
from handoff.presence import Presence
from handoff.queue import Queue
from handoff.routing import Router
from services.chat.hub import Hub
from services.chat.models import ChatMessage, ContactRequest, Conversation
from services.chat.service import AGENTS_CHANNEL, ChatService, conversation_channel
from services.conversations import kinds
from services.conversations import status as st
from services.conversations.lifecycle import Conversations, Tx
from services.conversations.models import ConversationEvent
from services.conversations.status import TransitionRefused

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


@dataclass
class TurnReport:
    """What the action server reports about the turn it is answering (see ``POST /api/handoff/turns``)."""

    conversation_id: str
    language: str | None
    events: list[dict[str, Any]]
    current_failed: bool = False  # the bot has no useful answer for this message
    immediate_only: bool = False  # a topic the bot can answer: only reasons that hold for this very message
    requested: bool = False  # reached through action_request_human (the customer asked, or accepted the offer)


class HandoffService:
    """The handoff workflow; one per app process, all state in the database."""

    def __init__(self, conversations: Conversations, chat: ChatService, hub: Hub, policy: Policy,
                 router: Router | None = None) -> None:
        self.conversations = conversations
        self.db = conversations.db
        self.chat = chat
        self.rasa = chat.rasa
        self.hub = hub
        self.policy = policy
        self.router = router or Router(policy)
        self.rules = EscalationRules(policy)
        self.hours = BusinessHours(policy)
        self.webhooks = webhooks.WebhookWorker(self.db, policy)
        queue = policy.section("queue")
        self.presence = Presence(float(queue.get("presence_timeout_seconds", 90)), self._now)
        self.queue = Queue(self.presence, float(queue.get("default_handle_minutes", 6)),
                           int(queue.get("history_size", 20)))
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def clock(self) -> Callable[[], datetime]:
        """The lifecycle's clock (one for status changes, business hours and presence); tests freeze it."""
        return self.conversations.clock

    @clock.setter
    def clock(self, value: Callable[[], datetime]) -> None:
        self.conversations.clock = value

    def _now(self) -> datetime:
        return self.conversations.clock()

    async def aclose(self) -> None:
        await self.webhooks.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def spawn(self, coro: Any) -> None:
        """Run ``coro`` in the background, kept until done (listeners use it for slow calls such as Rasa)."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _with_session(self, fn: Any) -> Any:
        with self.db.session() as s:
            return fn(s)

    async def _run(self, work: Any) -> Any:
        """A lifecycle unit of work; a refused transition becomes the API's 409."""
        try:
            return await self.conversations.run(work)
        except TransitionRefused as error:
            raise HandoffError(str(error), error.status) from error

    def queue_text(self, language: str, team: str, position: int, minutes: int | None) -> str:
        return self.policy.message("queue_update", language, team=self.policy.team_name(team, language),
                                   position=position, minutes=minutes if minutes is not None else "?")

    # -- the decision --------------------------------------------------------------------------------------
    async def consider(self, report: TurnReport) -> dict[str, Any]:
        """Decide whether this turn goes to a person (handoff/policy.yml) and, if so, escalate it now.

        Answers ``{"escalated": false}`` when the bot keeps the conversation, else the escalation's result with
        ``"escalated": true`` and the ``bot_text`` the action says before Rasa pauses.
        """
        decision = self.rules.decide(report.events, report.current_failed, report.requested)
        if decision is not None and report.immediate_only and decision.reason not in IMMEDIATE_REASONS:
            decision = None
        if decision is None:
            return {"escalated": False, "reason": None}
        result = await self.escalate(EscalationRequest(
            conversation_id=report.conversation_id, reason=decision.reason, reason_detail=decision.detail,
            intent=decision.intent, language=report.language, kb_categories=tuple(kb_categories(report.events)),
            events=report.events))
        return {**result, "escalated": True}

    # -- escalation ------------------------------------------------------------------------------------
    async def escalate(self, req: EscalationRequest) -> dict[str, Any]:
        """Create (or return the open) handoff of a conversation, then tell the customer what happens next."""
        if req.reason not in REASONS:
            raise HandoffError(f"reason must be one of {', '.join(REASONS)}", 422)
        if not req.conversation_id or len(req.conversation_id) > 64:
            raise HandoffError("conversation_id must have 1 to 64 characters", 422)
        conv = await self.chat.adopt_conversation(req.conversation_id, req.language)
        language = req.language if req.language in ("pt", "en") else conv.language
        existing = await asyncio.to_thread(self.open_handoff, req.conversation_id)
        if existing is not None:
            return self._already(existing, language)
        events, source, error = transcripts.clean_events(req.events), "action", None
        if not events:
            try:
                events = transcripts.clean_events(await self.rasa.tracker_events(req.conversation_id))
                source = "rasa"
            except (httpx.HTTPError, ValueError) as exc:
                events, source, error = None, "gateway", f"{type(exc).__name__}: {exc}"
        gateway = [] if events else [m.to_dict() for m in await self.chat.history(req.conversation_id)]
        route = self.router.route([*intents_latest_first(events), *([req.intent] if req.intent else [])],
                                  req.category, req.kb_categories)

        def work(tx: Tx) -> tuple[Handoff, int, int | None]:
            s, now = tx.session, tx.clock()
            start_seq = s.scalar(select(Conversation.last_seq).where(Conversation.id == req.conversation_id)) or 0
            is_open = self.hours.is_open(route.team, now)
            online = len(self.presence.online_agents(s, route.team)) if is_open else 0
            waiting = "queued" if is_open and online else "offline"
            logged = self._logged_transcript(s, req.conversation_id, req.events)
            record = transcripts.assemble(req.conversation_id, events, "log" if logged else source,
                                          language=language, reason=req.reason, reason_detail=req.reason_detail,
                                          start_seq=start_seq, error=error, gateway_messages=gateway, logged=logged)
            h = Handoff(conversation_id=req.conversation_id, status=waiting, team=route.team,
                        priority=self.policy.priority_for(req.reason), reason=req.reason,
                        reason_detail=(req.reason_detail or "")[:500], intent=req.intent,
                        category=route.category or req.category, language=language, created_at=now,
                        queued_at=now, transcript=record, updated_at=now)
            s.add(h)
            s.flush()
            tx.set_status(req.conversation_id, st.QUEUED, kinds.ESCALATED, "bot", expect=st.WITH_BOT,
                          team=h.team, handoff_id=h.id, reason=h.reason, reason_detail=h.reason_detail,
                          intent=h.intent, route=route.source)
            position = self.queue.position(s, h)
            minutes = self.queue.estimate(s, h.team, position) if waiting == "queued" else None
            tx.append(req.conversation_id, kinds.QUEUED, "system", team=h.team, handoff_id=h.id, waiting=waiting,
                      why=None if waiting == "queued" else ("no_agent" if is_open else "hours"),
                      priority=h.priority, position=position, estimated_wait_minutes=minutes, language=language)
            return h, position, minutes

        try:
            h, position, minutes = await self._run(work)
        except IntegrityError:  # another escalation of the same conversation won the race
            existing = await asyncio.to_thread(self.open_handoff, req.conversation_id)
            if existing is None:
                raise
            return self._already(existing, language)
        team_name = self.policy.team_name(h.team, language)
        intro = self.policy.message(f"intro.{h.reason}", language)
        if h.status == "queued":
            bot_text = f"{intro} " + self.policy.message("queued", language, team=team_name, position=position,
                                                         minutes=minutes)
        else:
            bot_text = f"{intro} " + self.offline_text(h.team, language, h.queued_at)
        return {"handoff_id": h.id, "status": h.status, "team": h.team, "team_name": team_name,
                "position": position if h.status == "queued" else None, "estimated_wait_minutes": minutes,
                "reason": h.reason, "bot_text": bot_text, "created": True, "pause": True}

    def _logged_transcript(self, s: Any, conversation_id: str,
                           current_turn: list[dict[str, Any]] | None) -> dict[str, Any] | None:
        """The transcript from the event log, or ``None`` when the log has no customer message (another channel)."""
        log = s.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == conversation_id)
                        .order_by(ConversationEvent.id)).all()
        if not any(e.kind == kinds.CUSTOMER_MESSAGE for e in log):
            return None
        messages = s.scalars(select(ChatMessage).where(ChatMessage.conversation_id == conversation_id)).all()
        return transcripts.from_log([e.to_dict() for e in log], {m.seq: m.to_dict() for m in messages},
                                    current_turn)

    def offline_text(self, team: str, language: str, when: Any) -> str:
        key = "offline_no_agent" if self.hours.is_open(team, when) else "offline_hours"
        return self.policy.message(key, language, team=self.policy.team_name(team, language),
                                   hours=self.policy.hours_text(team, language))

    def _already(self, h: Handoff, language: str) -> dict[str, Any]:
        team_name = self.policy.team_name(h.team, language)
        return {"handoff_id": h.id, "status": h.status, "team": h.team, "team_name": team_name,
                "position": None, "estimated_wait_minutes": None, "reason": h.reason, "created": False,
                "pause": True, "bot_text": self.policy.message("already_waiting", language, team=team_name)}

    def open_handoff(self, conversation_id: str) -> Handoff | None:
        """The conversation's open handoff (queued, offline ticket or active), if any."""
        with self.db.session() as s:
            return s.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id,
                                                   Handoff.status.in_(OPEN_STATUSES))).first()

    # -- reading ---------------------------------------------------------------------------------------
    def get(self, handoff_id: int) -> Handoff:
        if not isinstance(handoff_id, int) or not 0 < handoff_id < 2 ** 63:
            raise HandoffError("no such handoff", 404)
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
            events = s.scalars(select(ConversationEvent).where(ConversationEvent.handoff_id == h.id)
                               .order_by(ConversationEvent.id)).all()
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
                position = self.queue.position(s, h)
                out.update(position=position, estimated_wait_minutes=self.queue.estimate(s, h.team, position))
            if h.status == "active" and h.agent_id:
                holder = s.get(Agent, h.agent_id)
                out["agent_name"] = holder.name if holder else None
            return out

    # -- agent actions ---------------------------------------------------------------------------------
    async def claim(self, agent: Agent, handoff_id: int) -> dict[str, Any]:
        """Take a waiting chat; exactly one of several simultaneous claims wins (the others get 409)."""
        h = await asyncio.to_thread(self.get, handoff_id)
        if not agent.can_see_team(h.team):
            raise HandoffError("this chat belongs to another team", 403)
        claimed, events = await asyncio.to_thread(self.claim_row, handoff_id, agent)
        await self.conversations.bus.dispatch(events)
        if claimed is None:
            raise HandoffError("someone else already took this chat", 409)
        return claimed.summary()

    def claim_row(self, handoff_id: int, agent: Agent) -> tuple[Handoff | None, list[Any]]:
        """The race-safe part of claiming, in the calling thread: one conditional UPDATE plus the status change.

        ``(None, [])`` when another claim won; else the claimed handoff and the events to dispatch.
        """
        def work(tx: Tx) -> Handoff | None:
            now = tx.clock()
            result = tx.session.execute(update(Handoff).where(
                Handoff.id == handoff_id, Handoff.status.in_(WAITING_STATUSES))
                .values(status="active", agent_id=agent.id, claimed_at=now, updated_at=now)
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                return None
            claimed = tx.session.get(Handoff, handoff_id)
            assert claimed is not None
            tx.session.refresh(claimed)
            tx.set_status(claimed.conversation_id, st.ASSIGNED, kinds.AGENT_JOINED, "agent", expect=st.QUEUED,
                          agent_id=agent.id, team=claimed.team, handoff_id=claimed.id, agent_name=agent.name)
            return claimed

        try:
            return self.conversations.run_sync(work)
        except TransitionRefused as error:
            raise HandoffError(str(error), error.status) from error

    def _held(self, agent: Agent, handoff_id: int) -> Handoff:
        h = self.get(handoff_id)
        if h.status != "active":
            raise HandoffError("this chat is not being handled", 409)
        if h.agent_id != agent.id and not agent.is_lead:
            raise HandoffError("another agent holds this chat", 403)
        return h

    async def send_message(self, agent: Agent, handoff_id: int, text: str) -> ChatMessage:
        h = await asyncio.to_thread(self._held, agent, handoff_id)
        return await self.chat.post_agent_message(h.conversation_id, text, agent.name, agent_id=agent.id,
                                                  team=h.team)

    async def typing(self, agent: Agent, handoff_id: int, on: bool) -> None:
        h = await asyncio.to_thread(self._held, agent, handoff_id)
        await self.chat.set_typing(h.conversation_id, "agent", on)

    async def add_note(self, agent: Agent, handoff_id: int, text: str) -> dict[str, Any]:
        clean = " ".join((text or "").split()) if "\n" not in (text or "") else (text or "").strip()
        if not clean:
            raise HandoffError("empty note", 422)
        h = await asyncio.to_thread(self.get, handoff_id)
        self.check_access(agent, h)

        def work(tx: Tx) -> dict[str, Any]:
            note = HandoffNote(handoff_id=h.id, agent_id=agent.id, author_name=agent.name, text=clean[:4000],
                               created_at=tx.clock())
            tx.session.add(note)
            tx.session.flush()
            tx.append(h.conversation_id, kinds.NOTE, "agent", agent_id=agent.id, team=h.team, handoff_id=h.id,
                      wire={"note": note.to_dict()}, note_id=note.id)
            return note.to_dict()

        return await self._run(work)

    async def transfer(self, agent: Agent, handoff_id: int, team: str | None = None,
                       to_agent_id: int | None = None) -> dict[str, Any]:
        """Send the chat to another team's queue, or directly to another (online) agent."""
        h = await asyncio.to_thread(self._held, agent, handoff_id)
        if to_agent_id is not None:
            return await self._transfer_to_agent(agent, h, to_agent_id)
        if not team or team not in self.policy.teams:
            raise HandoffError("choose a team or an agent to transfer to", 422)
        old_team = h.team

        def work(tx: Tx) -> Handoff:
            s, now = tx.session, tx.clock()
            is_open = self.hours.is_open(team, now)
            waiting = "queued" if is_open and self.presence.online_agents(s, team) else "offline"
            result = s.execute(update(Handoff).where(Handoff.id == h.id, Handoff.status == "active")
                               .values(team=team, status=waiting, agent_id=None, claimed_at=None, updated_at=now))
            if result.rowcount != 1:
                raise HandoffError("the chat changed meanwhile; reload", 409)
            fresh = s.get(Handoff, h.id)
            assert fresh is not None
            s.refresh(fresh)
            tx.set_status(fresh.conversation_id, st.QUEUED, kinds.TRANSFERRED, "agent", expect=st.ASSIGNED,
                          agent_id=agent.id, team=team, handoff_id=fresh.id, from_team=old_team, to_team=team,
                          waiting=waiting)
            return fresh

        fresh = await self._run(work)
        return fresh.summary()

    async def _transfer_to_agent(self, agent: Agent, h: Handoff, to_agent_id: int) -> dict[str, Any]:
        def work(tx: Tx) -> Agent:
            s = tx.session
            target = s.get(Agent, to_agent_id)
            if target is None or not target.active:
                raise HandoffError("no such agent", 404)
            if target.id not in {a.id for a in self.presence.online_agents(s, h.team)} and not (
                    target.is_lead and self.presence.is_online(target)):
                raise HandoffError(f"{target.name} is not online in this team", 409)
            result = s.execute(update(Handoff).where(Handoff.id == h.id, Handoff.status == "active",
                                                     Handoff.agent_id == h.agent_id)
                               .values(agent_id=target.id, updated_at=tx.clock()))
            if result.rowcount != 1:
                raise HandoffError("the chat changed meanwhile; reload", 409)
            tx.set_status(h.conversation_id, st.ASSIGNED, kinds.TRANSFERRED, "agent", expect=st.ASSIGNED,
                          agent_id=agent.id, team=h.team, handoff_id=h.id, to_agent_id=target.id,
                          to_agent_name=target.name)
            return target

        target = await self._run(work)
        return {**h.summary(), "agent_id": target.id}

    async def close(self, agent: Agent, handoff_id: int, outcome: str, tag: str | None = None,
                    note: str | None = None) -> dict[str, Any]:
        """Resolve (``resolved``) or hand back to the bot (``handed_back``); the bot resumes either way."""
        if outcome not in ("resolved", "handed_back"):
            raise HandoffError("outcome must be resolved or handed_back", 422)
        if outcome == "resolved" and tag not in self.policy.resolution_tags:
            raise HandoffError(f"resolution tag must be one of {', '.join(self.policy.resolution_tags)}", 422)
        h = await asyncio.to_thread(self._held, agent, handoff_id)

        def work(tx: Tx) -> Handoff:
            s, now = tx.session, tx.clock()
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
            target, kind = (st.RESOLVED, kinds.RESOLVED) if outcome == "resolved" else (st.BOT, kinds.HANDED_BACK)
            tx.set_status(fresh.conversation_id, target, kind, "agent", expect=st.ASSIGNED, agent_id=agent.id,
                          team=fresh.team, handoff_id=fresh.id, tag=tag, agent_name=agent.name)
            return fresh

        fresh = await self._run(work)
        return fresh.summary()

    # -- an agent who is gone ----------------------------------------------------------------------------
    def absent_holders(self, gone_seconds: float) -> list[tuple[int, int]]:
        """``(handoff_id, agent_id)`` of held chats whose agent's console has not been seen for ``gone_seconds``."""
        cutoff = self.clock() - timedelta(seconds=gone_seconds)
        with self.db.session() as s:
            rows = s.execute(select(Handoff.id, Handoff.agent_id).join(Agent, Agent.id == Handoff.agent_id).where(
                Handoff.status == "active",
                or_(Agent.last_seen_at.is_(None), Agent.last_seen_at < cutoff, Agent.active.is_(False)))).all()
            return [(int(r[0]), int(r[1])) for r in rows]

    async def requeue(self, handoff_id: int, agent_id: int, gone_seconds: float) -> dict[str, Any] | None:
        """Give a chat whose agent is gone back to its team's queue (``requeued``, then ``queued``).

        Conditional on the same agent still holding it and still being unseen, so a console that came back, a
        transfer or a resolution in the meantime wins, and two processes sweeping at once requeue it once.
        ``None`` when nothing changed.
        """
        def work(tx: Tx) -> Handoff | None:
            s, now = tx.session, tx.clock()
            holder = s.get(Agent, agent_id)
            if holder is None:
                return None
            seen = holder.last_seen_at
            if holder.active and seen is not None and seen >= now - timedelta(seconds=gone_seconds):
                return None
            h = s.get(Handoff, handoff_id)
            if h is None:
                return None
            is_open = self.hours.is_open(h.team, now)
            waiting = "queued" if is_open and self.presence.online_agents(s, h.team) else "offline"
            result = s.execute(update(Handoff).where(Handoff.id == handoff_id, Handoff.status == "active",
                                                     Handoff.agent_id == agent_id)
                               .values(status=waiting, agent_id=None, claimed_at=None, updated_at=now)
                               .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                return None
            s.refresh(h)
            tx.set_status(h.conversation_id, st.QUEUED, kinds.REQUEUED, "system", expect=st.ASSIGNED,
                          team=h.team, handoff_id=h.id, from_agent_id=agent_id, from_agent_name=holder.name,
                          waiting=waiting, language=h.language)
            position = self.queue.position(s, h)
            minutes = self.queue.estimate(s, h.team, position) if waiting == "queued" else None
            tx.append(h.conversation_id, kinds.QUEUED, "system", team=h.team, handoff_id=h.id, waiting=waiting,
                      why=None if waiting == "queued" else ("no_agent" if is_open else "hours"),
                      priority=h.priority, position=position, estimated_wait_minutes=minutes, language=h.language)
            return h

        try:
            h = await self._run(work)
        except HandoffError:  # the conversation changed meanwhile: someone else acted, nothing to do
            return None
        return h.summary() if h is not None else None

    # -- agents ----------------------------------------------------------------------------------------
    def set_status(self, agent: Agent, status: str) -> dict[str, Any]:
        try:
            return self._with_session(lambda s: self.presence.set_status(s, agent.id, status))
        except ValueError as error:
            raise HandoffError(str(error), 422) from error

    def touch(self, agent_id: int) -> None:
        self._with_session(lambda s: self.presence.touch(s, agent_id))

    async def promote_tickets(self, teams: list[str]) -> int:
        """Offline tickets of ``teams`` become queued chats once the team is open and someone is online.

        Why: a chat escalated while nobody was online waited as a ticket, and stayed one after an agent came
        online, so the customer still writing in it was never answered. Each promoted ticket gets a ``queued``
        event, and its listener tells the customer their place in the queue.
        """
        def work(tx: Tx) -> int:
            s, now = tx.session, tx.clock()
            promoted = 0
            tickets = s.scalars(select(Handoff).where(Handoff.status == "offline", Handoff.team.in_(teams))
                                .order_by(Handoff.priority, Handoff.queued_at, Handoff.id)).all()
            for h in tickets:
                if not self.hours.is_open(h.team, now) or not self.presence.online_agents(s, h.team):
                    continue
                changed = s.execute(update(Handoff).where(Handoff.id == h.id, Handoff.status == "offline")
                                    .values(status="queued", updated_at=now)
                                    .execution_options(synchronize_session=False))
                if changed.rowcount != 1:
                    continue
                s.refresh(h)
                position = self.queue.position(s, h)
                tx.append(h.conversation_id, kinds.QUEUED, "system", team=h.team, handoff_id=h.id, waiting="queued",
                          why="agent_online", priority=h.priority, position=position,
                          estimated_wait_minutes=self.queue.estimate(s, h.team, position), language=h.language)
                promoted += 1
            return promoted

        return await self._run(work)

    def agents(self, viewer: Agent) -> list[dict[str, Any]]:
        return self._with_session(lambda s: self.presence.listing(s, viewer))

    # -- queue notices ---------------------------------------------------------------------------------
    async def broadcast_queue(self, team: str) -> None:
        """Tell every waiting customer of ``team`` their new position and estimate; refresh consoles."""
        snapshot = await asyncio.to_thread(self._with_session, lambda s: self.queue.snapshot(s, team))
        for entry in snapshot:
            text = self.queue_text(entry["language"], team, entry["position"], entry["estimated_wait_minutes"])
            await self.hub.publish(conversation_channel(entry["conversation_id"]), {
                "type": "notice", "kind": "queue", "text": text, "team": team,
                "team_name": self.policy.team_name(team, entry["language"]), "position": entry["position"],
                "estimated_wait_minutes": entry["estimated_wait_minutes"]})
        await self.hub.publish(AGENTS_CHANNEL, {"type": "queue_changed", "team": team})
