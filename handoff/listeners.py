"""What follows a handoff's change, each effect once, as listeners of the conversation event log.

| event          | in the transaction        | after the commit                                                   |
|----------------|---------------------------|--------------------------------------------------------------------|
| escalated      | webhook ``created``       |                                                                    |
| queued         |                           | customer notice (queue position, or offline + contact form), queue |
| agent_joined   | webhook ``claimed``       | customer notice "Ana joined", queue positions                      |
| transferred    | webhook ``transferred``   | customer notice, queue positions of both teams, consoles           |
| resolved       | webhook ``resolved``      | customer notice, Rasa resumes, CSAT question, consoles             |
| handed_back    | webhook ``handed_back``   | customer notice, Rasa resumes, consoles                            |
| requeued       |                           | customer notice "Ana had to leave", consoles (then ``queued``)     |
| note           |                           | consoles of the team                                               |

Webhook rows are written in the transaction (an outbox), so a webhook is never announced for a change that
rolled back; the worker is woken after the commit.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from handoff import webhooks
from handoff.models import Handoff
from handoff.service import EscalationRequest
from services.chat.service import AGENTS_CHANNEL
from services.conversations import kinds
from services.conversations.bus import Event, EventBus

if TYPE_CHECKING:
    from handoff.service import HandoffService

log = logging.getLogger(__name__)

WEBHOOK_EVENTS = {kinds.ESCALATED: "created", kinds.AGENT_JOINED: "claimed", kinds.TRANSFERRED: "transferred",
                  kinds.RESOLVED: "resolved", kinds.HANDED_BACK: "handed_back"}


def register(bus: EventBus, service: HandoffService) -> None:
    """Subscribe the handoff's side effects to ``bus``."""
    policy = service.policy
    chat = service.chat

    def webhook_outbox(session: Session, event: Event) -> None:
        h = session.get(Handoff, event.handoff_id) if event.handoff_id else None
        if h is None:
            return
        name = WEBHOOK_EVENTS[event.kind]
        data: dict[str, Any] = {"handoff": h.summary()}
        if name == "created":
            data["transcript"] = h.transcript
        elif name == "claimed":
            data["agent"] = {"id": event.agent_id, "name": event.data.get("agent_name")}
        elif name == "transferred":
            data.update({k: event.data[k] for k in ("from_team", "to_agent_id") if k in event.data})
        webhooks.enqueue(session, policy, name, data)

    async def wake_webhooks(_event: Event) -> None:
        service.webhooks.wake()

    async def queued(event: Event) -> None:
        language = str(event.data.get("language") or "pt")
        team = str(event.team)
        team_name = policy.team_name(team, language)
        if event.data.get("waiting") == "queued":
            text = service.queue_text(language, team, int(event.data.get("position") or 1),
                                      event.data.get("estimated_wait_minutes"))
            await chat.post_system_notice(event.conversation_id, "queue", text, {
                "team": team, "team_name": team_name, "position": event.data.get("position"),
                "estimated_wait_minutes": event.data.get("estimated_wait_minutes"), "handoff_id": event.handoff_id})
        else:
            opening = service.hours.next_opening(team, event.created_at)
            await chat.post_system_notice(event.conversation_id, "offline",
                                          service.offline_text(team, language, event.created_at), {
                                              "contact_form": True, "team": team, "team_name": team_name,
                                              "why": event.data.get("why"), "handoff_id": event.handoff_id,
                                              "next_opening": opening.isoformat() if opening else None})
        await service.broadcast_queue(team)

    async def agent_joined(event: Event) -> None:
        language = await _language(event)
        name = event.data.get("agent_name") or ""
        await chat.post_system_notice(event.conversation_id, "agent_joined",
                                      policy.message("agent_joined", language, agent=name),
                                      {"agent_name": name, "team": event.team})
        await service.broadcast_queue(str(event.team))

    async def transferred(event: Event) -> None:
        language = await _language(event)
        if event.data.get("to_agent_id") is not None:
            name = event.data.get("to_agent_name") or ""
            await chat.post_system_notice(event.conversation_id, "agent_joined",
                                          policy.message("agent_joined", language, agent=name),
                                          {"agent_name": name, "team": event.team})
            await service.hub.publish(AGENTS_CHANNEL, {"type": "transferred", "team": event.team,
                                                       "handoff_id": event.handoff_id,
                                                       "to_agent_id": event.data.get("to_agent_id")})
            return
        team = str(event.data.get("to_team"))
        team_name = policy.team_name(team, language)
        await chat.post_system_notice(event.conversation_id, "transferred",
                                      policy.message("transferred", language, team=team_name),
                                      {"team": team, "team_name": team_name, "status": event.data.get("waiting")})
        await service.broadcast_queue(team)
        old = event.data.get("from_team")
        if old and old != team:
            await service.hub.publish(AGENTS_CHANNEL, {"type": "queue_changed", "team": old})

    async def closed(event: Event) -> None:
        language = await _language(event)
        name = event.data.get("agent_name") or ""
        if event.kind == kinds.RESOLVED:
            await chat.post_system_notice(event.conversation_id, "resolved",
                                          policy.message("resolved", language, agent=name), {"agent_name": name})
        else:
            await chat.post_system_notice(event.conversation_id, "agent_left", policy.message("handed_back", language),
                                          {"agent_name": name, "handed_back": True})
        # Rasa's pause follows the status: the agent's click must not wait for Rasa, so this runs in the background.
        service.spawn(_resume_rasa(event.conversation_id))
        if event.kind == kinds.RESOLVED and policy.section("csat").get("enabled", True):
            await chat.request_csat(event.conversation_id)
        await service.hub.publish(AGENTS_CHANNEL, {"type": "closed", "team": event.team,
                                                   "handoff_id": event.handoff_id, "status": event.kind})

    async def note(event: Event) -> None:
        await service.hub.publish(AGENTS_CHANNEL, {"type": "note", "team": event.team, "handoff_id": event.handoff_id,
                                                   "note": (event.wire or {}).get("note")})

    async def requeued(event: Event) -> None:
        """The agent's console was gone too long: the customer hears why; the ``queued`` event that follows in
        the same transaction gives the queue position (or the offline form)."""
        language = str(event.data.get("language") or await _language(event))
        name = event.data.get("from_agent_name") or ""
        team = str(event.team)
        await chat.post_system_notice(event.conversation_id, "agent_left",
                                      policy.message("requeued", language, agent=name,
                                                     team=policy.team_name(team, language)),
                                      {"agent_name": name, "requeued": True, "team": team})
        await service.hub.publish(AGENTS_CHANNEL, {"type": "requeued", "team": team, "handoff_id": event.handoff_id,
                                                   "from_agent_id": event.data.get("from_agent_id")})

    async def ticket_noted(event: Event) -> None:
        """A customer writing into an offline ticket is told the message is kept (once per burst of messages)."""
        if event.status != "queued":
            return
        h = await asyncio.to_thread(service.open_handoff, event.conversation_id)
        if h is None or h.status != "offline":
            return
        recent = await chat.history(event.conversation_id, limit=10)
        if any((m.payload or {}).get("kind") == "ticket_noted" for m in recent):
            return
        language = await _language(event)
        await chat.post_system_notice(event.conversation_id, "ticket_noted", policy.message(
            "ticket_noted", language, team=policy.team_name(h.team, language)), {"team": h.team})

    async def _language(event: Event) -> str:
        conv = await chat.get_conversation(event.conversation_id)
        return conv.language if conv else "pt"

    async def _resume_rasa(conversation_id: str) -> None:
        if not await service.rasa.resume(conversation_id, attempts=5):
            # Not lost: the gateway resumes Rasa when a turn of a bot conversation comes back paused.
            log.warning("Rasa did not resume conversation %s yet; the gateway will on its next message",
                        conversation_id)

    async def contact_left(event: Event) -> None:
        """Contact details left with no handoff open (the assistant was unavailable) reach a team: the
        conversation is escalated like a request for a person, so it waits in the team's queue, or as an
        offline ticket out of hours, instead of sitting in a table nobody reads."""
        if await asyncio.to_thread(service.open_handoff, event.conversation_id) is not None:
            return  # already with a team: the agents' consoles show the contact (services/chat/listeners.py)
        await service.escalate(EscalationRequest(event.conversation_id, "customer_request",
                                                 reason_detail="left contact details"))

    bus.on_transaction(tuple(WEBHOOK_EVENTS), webhook_outbox)
    bus.on_commit(kinds.CONTACT_LEFT, contact_left)
    bus.on_commit(tuple(WEBHOOK_EVENTS), wake_webhooks)
    bus.on_commit(kinds.QUEUED, queued)
    bus.on_commit(kinds.AGENT_JOINED, agent_joined)
    bus.on_commit(kinds.TRANSFERRED, transferred)
    bus.on_commit((kinds.RESOLVED, kinds.HANDED_BACK), closed)
    bus.on_commit(kinds.NOTE, note)
    bus.on_commit(kinds.CUSTOMER_MESSAGE, ticket_noted)
    bus.on_commit(kinds.REQUEUED, requeued)
