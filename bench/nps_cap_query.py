"""Time of the NPS frequency-cap check (services/chat/surveys.py ``Surveys.asked_recently``) on a large log.

    python -m bench.nps_cap_query --database-url sqlite:////tmp/nps-cap.db --conversations 100000 --runs 200

The check runs once per CSAT answer, inside the customer's request, so it must stay fast when the log is big.
Generated rows (not the chat gateway: 100k conversations through it take hours): conversations with a visitor
id (30 % also a signed customer id, 3 conversations per person on average) and 10 events each, one in five with
an ``nps_requested`` event spread over 60 days. Prints rows generated and the check's median and p95 over
``--runs`` random customers (half asked within the period, half not).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import insert

from services.chat.surveys import Surveys
from services.conversations import kinds
from services.conversations.lifecycle import Conversations
from services.conversations.models import Conversation, ConversationEvent
from services.db import Database, migrate

NOW = datetime(2026, 12, 1, 12, 0)
FILLER = [kinds.CUSTOMER_MESSAGE, kinds.BOT_REPLY, kinds.CUSTOMER_MESSAGE, kinds.BOT_REPLY, kinds.CSAT_REQUESTED,
          kinds.CSAT, kinds.CLOSED, kinds.CUSTOMER_MESSAGE, kinds.BOT_REPLY]


def generate(db: Database, count: int, rng: random.Random) -> tuple[int, list[Conversation]]:
    people = max(1, count // 3)
    conversations, events, samples = [], [], []
    for n in range(count):
        person = rng.randrange(people)
        when = NOW - timedelta(days=rng.uniform(0, 60))
        conv = {"id": f"c{n:08d}", "language": "pt", "status": "closed", "last_seq": 6, "created_at": when,
                "updated_at": when, "visitor_id": f"v{person:07d}",
                "customer_id": f"cli-{person}" if person % 10 < 3 else None}
        conversations.append(conv)
        kinds_here = [kinds.OPENED, *FILLER] + ([kinds.NPS_REQUESTED] if rng.random() < 0.2 else [])
        for i, kind in enumerate(kinds_here):
            events.append({"conversation_id": conv["id"], "kind": kind, "actor": "system", "status": "closed",
                           "data": {}, "created_at": when + timedelta(seconds=i)})
        if len(samples) < 2000:
            samples.append(conv)
    with db.engine.begin() as connection:
        for start in range(0, len(conversations), 5000):
            connection.execute(insert(Conversation), conversations[start:start + 5000])
        for start in range(0, len(events), 20000):
            connection.execute(insert(ConversationEvent), events[start:start + 20000])
    return len(events), [Conversation(**c) for c in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    migrate(args.database_url)
    db = Database(args.database_url)
    rng = random.Random(7)
    started = time.perf_counter()
    events, samples = generate(db, args.conversations, rng)
    print(f"{args.conversations} conversations, {events} events generated in {time.perf_counter() - started:.1f} s")
    conversations = Conversations(db)
    conversations.clock = lambda: NOW
    chat = SimpleNamespace(config=SimpleNamespace(nps_every_days=30), conversations=conversations, db=db)
    surveys = Surveys(chat)  # type: ignore[arg-type]
    timings, asked = [], 0
    for conv in rng.sample(samples, min(args.runs, len(samples))):
        t0 = time.perf_counter()
        asked += surveys.asked_recently(conv)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(f"asked_recently over {len(timings)} customers ({asked} asked within 30 days): "
          f"median {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms")


if __name__ == "__main__":
    main()
