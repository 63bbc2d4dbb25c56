"""Real-time delivery read from the event log: what the customer's widget and the consoles are sent.

Registered on the conversation event bus at start-up (services/chat/feature.py). Every message event carries
the stored message (``wire``), every status change its new status; the agents' channel gets only events of
conversations that a team holds, labelled with that team, so a console shows only what its agent may see
(handoff/ws.py filters by team; events without a team reach leads only).
"""

from __future__ import annotations

from services.chat.hub import Hub
from services.chat.service import AGENTS_CHANNEL, conversation_channel
from services.conversations import kinds
from services.conversations.bus import Event, EventBus
from services.conversations.status import WITH_PEOPLE


def register(bus: EventBus, hub: Hub) -> None:
    """Subscribe the delivery listeners to ``bus``."""

    async def deliver(event: Event) -> None:
        channel = conversation_channel(event.conversation_id)
        if event.wire and "message" in event.wire:
            await hub.publish(channel, {"type": "message", "message": event.wire["message"]})
        if event.previous_status is not None:
            await hub.publish(channel, {"type": "status", "status": event.status, "previous": event.previous_status})
        if event.kind == kinds.LANGUAGE_CHANGED:
            await hub.publish(channel, {"type": "language", "language": event.data.get("language")})

    async def tell_agents(event: Event) -> None:
        base = {"conversation_id": event.conversation_id, "team": event.team}
        if event.kind == kinds.CUSTOMER_MESSAGE and event.status in WITH_PEOPLE:
            message = (event.wire or {}).get("message")
            await hub.publish(AGENTS_CHANNEL, {"type": "customer_message", "status": event.status,
                                               "message": message, **base})
        elif event.kind == kinds.CSAT:
            await hub.publish(AGENTS_CHANNEL, {"type": "csat", "rating": event.data.get("rating"),
                                               "comment": event.data.get("comment"), **base})
        elif event.kind == kinds.CONTACT_LEFT:
            await hub.publish(AGENTS_CHANNEL, {"type": "contact_request",
                                               "id": event.data.get("contact_request_id"), **base})

    bus.on_commit(None, deliver)
    bus.on_commit((kinds.CUSTOMER_MESSAGE, kinds.CSAT, kinds.CONTACT_LEFT), tell_agents)
