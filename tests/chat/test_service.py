"""ChatService as handoff uses it: status, agent messages, notices, CSAT request, ordering under concurrency."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.chat.hub import Hub
from services.chat.service import AGENTS_CHANNEL, ChatError, ChatService, conversation_channel
from services.conversations import kinds
from services.conversations.status import TransitionRefused


async def to_people(chat: ChatService, cid: str, assigned: bool = False) -> None:
    """Move a conversation to a team's queue (and to an agent) the way handoff does: through the lifecycle."""
    await chat.conversations.run(lambda tx: tx.set_status(cid, "queued", kinds.ESCALATED, "bot", team="atendimento"))
    if assigned:
        await chat.conversations.run(lambda tx: tx.set_status(cid, "assigned", kinds.AGENT_JOINED, "agent",
                                                              team="atendimento", agent_name="Marina"))


def run(client: TestClient, coro: Any) -> Any:
    """Run a coroutine on the app's own event loop (where the hub and service live)."""
    return client.portal.call(lambda: coro)


async def collect(hub: Hub, channel: str, action: Any, count: int) -> list[dict]:
    async with hub.subscribe(channel) as sub:
        await action()
        return [await asyncio.wait_for(sub.__anext__(), 5) for _ in range(count)]


def test_queued_conversation_skips_rasa_and_tells_its_team(client: TestClient) -> None:
    chat = client.app.state.chat

    async def scenario() -> tuple[list, list]:
        conv = await chat.create_conversation("pt")
        await to_people(chat, conv.id)
        events = await collect(chat.hub, AGENTS_CHANNEL,
                               lambda: chat.post_customer_message(conv.id, "ainda na fila?", "q1"), 1)
        return events, await chat.history(conv.id)

    events, history = client.portal.call(scenario)
    assert events[0]["type"] == "customer_message" and events[0]["message"]["text"] == "ainda na fila?"
    assert events[0]["team"] == "atendimento"  # consoles of other teams never get it (handoff/ws.py)
    # No Rasa call happened, so no offline notice either: only the customer's message is stored.
    assert [m.role for m in history] == ["customer"]


def test_agent_messages_and_notices_carry_names_and_kinds(client: TestClient) -> None:
    chat = client.app.state.chat

    async def scenario() -> list[dict]:
        conv = await chat.create_conversation("en")
        await to_people(chat, conv.id, assigned=True)

        async def act() -> None:
            await chat.post_system_notice(conv.id, "agent_joined", "Marina joined the chat", {"agent_name": "Marina"})
            await chat.post_agent_message(conv.id, "Hi! I'm Marina from Customer Service.", "Marina")
            await chat.request_csat(conv.id)

        return await collect(chat.hub, conversation_channel(conv.id), act, 5)

    events = client.portal.call(scenario)
    types = [e["type"] for e in events]
    assert types == ["message", "notice", "message", "message", "notice"]
    notice_seq = events[1]["seq"]  # after handoff's own "joined" notice (a listener of the status change)
    assert events[1] == {"type": "notice", "kind": "agent_joined", "text": "Marina joined the chat",
                         "seq": notice_seq, "agent_name": "Marina"}
    agent = events[2]["message"]
    assert agent["role"] == "agent" and agent["author_name"] == "Marina" and agent["seq"] == notice_seq + 1
    assert events[3]["message"]["payload"]["kind"] == "csat" and "1 to 5" in events[3]["message"]["text"]


def test_unknown_status_and_empty_agent_text_are_refused(client: TestClient) -> None:
    chat = client.app.state.chat

    async def scenario() -> None:
        conv = await chat.create_conversation("pt")
        with pytest.raises(TransitionRefused):
            await chat.conversations.run(lambda tx: tx.set_status(conv.id, "asleep", kinds.CLOSED, "system"))
        with pytest.raises(ChatError):
            await chat.post_agent_message(conv.id, "   ", "Ana")
        with pytest.raises(KeyError):
            await chat.post_agent_message("no-such-conversation", "oi", "Ana")

    client.portal.call(scenario)


def test_concurrent_writers_get_unique_increasing_seqs(client: TestClient) -> None:
    chat = client.app.state.chat

    async def scenario() -> list[int]:
        conv = await chat.create_conversation("pt")
        await to_people(chat, conv.id, assigned=True)  # no Rasa: only the storing path is exercised
        await asyncio.gather(*(chat.post_customer_message(conv.id, f"c{i}", f"id-{i}") for i in range(10)),
                             *(chat.post_agent_message(conv.id, f"a{i}", "Ana") for i in range(10)))
        return [m.seq for m in await chat.history(conv.id)]

    seqs = client.portal.call(scenario)
    assert seqs == list(range(1, 22))  # 20 messages plus handoff's "joined" notice
    assert chat._route_locks == {}  # per-conversation routing locks are released, not kept forever
