"""Measure the chat gateway from a client's point of view: WebSocket connect, ack latency, history reload.

Why: "a customer message is committed before it is acknowledged" costs a database write per message; this
shows what that costs on the machine at hand. The ack is timed on its own; with ``--wait-reply`` the time
from sending to the bot's first reply (through Rasa and the action server) is timed too.

    PYTHONPATH=. .venv/services/bin/python -m services.chat.loadcheck --base http://127.0.0.1:8000 -n 100
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid

from websockets.sync.client import connect


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="URL of the services app")
    parser.add_argument("-n", type=int, default=100, help="messages to send (stays under the rate limit by "
                                                          "spreading them over several conversations)")
    parser.add_argument("--per-conversation", type=int, default=15, help="messages per conversation")
    parser.add_argument("--wait-reply", action="store_true", help="also time the bot's first reply to each message")
    parser.add_argument("--text", default="mensagem de teste {n}", help="message text ({n} = message number)")
    args = parser.parse_args()
    url = args.base.replace("http", "ws", 1) + "/ws/chat"
    connects: list[float] = []
    acks: list[float] = []
    reloads: list[float] = []
    replies: list[float] = []
    sent = 0
    while sent < args.n:
        started = time.perf_counter()
        with connect(url, open_timeout=10, max_size=2**22) as ws:
            ws.send(json.dumps({"type": "hello", "token": None, "lang": "pt"}))
            welcome = json.loads(ws.recv(10))
            json.loads(ws.recv(10))
            connects.append(time.perf_counter() - started)
            for _ in range(min(args.per_conversation, args.n - sent)):
                cmid = uuid.uuid4().hex
                t0 = time.perf_counter()
                text = args.text.replace("{n}", str(sent))
                ws.send(json.dumps({"type": "message", "text": text, "client_message_id": cmid}))
                while True:
                    frame = json.loads(ws.recv(30))
                    if frame.get("type") == "ack" and frame.get("client_message_id") == cmid:
                        break
                acks.append(time.perf_counter() - t0)
                while args.wait_reply:
                    frame = json.loads(ws.recv(60))
                    message = frame.get("message") or {}
                    if frame.get("type") == "message" and message.get("role") in ("bot", "system"):
                        replies.append(time.perf_counter() - t0)
                        break
                sent += 1
        t0 = time.perf_counter()
        with connect(url, open_timeout=10, max_size=2**22) as ws:
            ws.send(json.dumps({"type": "hello", "token": welcome["token"], "lang": "pt"}))
            json.loads(ws.recv(10))
            history = json.loads(ws.recv(30))
        reloads.append(time.perf_counter() - t0)
        assert history["type"] == "history"
    ms = 1000.0
    print(f"messages: {len(acks)} in {len(connects)} conversations")
    print(f"connect+hello+history (new):  median {statistics.median(connects) * ms:.1f} ms")
    print(f"ack after commit:             median {statistics.median(acks) * ms:.1f} ms, "
          f"p95 {percentile(acks, 0.95) * ms:.1f} ms, max {max(acks) * ms:.1f} ms")
    print(f"reconnect with history:       median {statistics.median(reloads) * ms:.1f} ms")
    if replies:
        print(f"first reply after sending:    median {statistics.median(replies) * ms:.1f} ms, "
              f"p95 {percentile(replies, 0.95) * ms:.1f} ms, max {max(replies) * ms:.1f} ms")


if __name__ == "__main__":
    main()
