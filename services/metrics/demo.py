"""Demo history: weeks of plausible support activity for a fresh embedded install, so the dashboard has data.

Why through the product's services and not INSERTs: the figures are only worth showing if they come from the
same code paths as real chats. So simulated customers talk through :class:`~services.chat.service.ChatService`
(customer messages, bot replies, KB answers and feedback, CSAT, NPS), the handoff is asked and worked through
:class:`~handoff.service.HandoffService` (escalate, claim, reply, transfer, resolve), idle conversations are
closed by the lifecycle's :class:`~services.conversations.idle.IdleCloser`, all with the lifecycle's injectable
clock set to the simulated instant. The one stand-in is the bot: a scripted reply per topic (:class:`DemoBot`)
instead of the Rasa server, so the history does not depend on Rasa being up, and takes seconds.

Runs once: only in embedded mode, only when ``demo_history`` is true in services/settings.yml (``DEMO_HISTORY=0``
turns it off), only on a database with no conversations yet, and it leaves ``.data/demo_history.txt`` behind.
``make run`` starts it in the background after creating the demo accounts (scripts/run_all.py); it can also be
run by hand: ``python -m services.metrics.demo``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from handoff import listeners as handoff_listeners
from handoff.models import Agent
from handoff.policy import load_policy
from handoff.service import EscalationRequest, HandoffError, HandoffService
from services.chat import listeners as chat_listeners
from services.chat import surveys
from services.chat.config import load_chat_config
from services.chat.hub import Hub
from services.chat.rasa_client import Turn
from services.chat.service import ChatError, ChatService
from services.conversations.idle import IdleCloser
from services.conversations.lifecycle import Conversations
from services.conversations.models import Conversation
from services.db import Database, migrate

log = logging.getLogger(__name__)
MARKER = "demo_history.txt"


@dataclass(frozen=True)
class Topic:
    intent: str
    team: str
    pt: str
    en: str
    article: tuple[str, str] | None  # (id, title) of the help-center article the bot answers with, if any


TOPICS = (
    Topic("order_status", "atendimento", "cadê meu pedido?", "where is my order?",
          ("rastrear-pedido", "Como rastrear meu pedido")),
    Topic("delivery_problem", "atendimento", "meu pedido veio errado", "my order arrived wrong", None),
    Topic("payment_failed", "atendimento", "meu pagamento foi recusado", "my payment failed",
          ("cartao-recusado", "Cartão recusado: o que fazer")),
    Topic("return_product", "atendimento", "quero devolver um produto", "I want to return a product",
          ("devolver-produto", "Como devolver um produto")),
    Topic("cancel_order", "atendimento", "quero cancelar meu pedido", "I want to cancel my order",
          ("cancelar-pedido", "Como cancelar um pedido")),
    Topic("app_login_problem", "suporte", "não consigo entrar no app", "I can't log in to the app", None),
    Topic("device_setup", "suporte", "como configuro meu lumo watch?", "how do I set up my Lumo Watch?",
          ("configurar-lumo-watch", "Como configurar o Lumo Watch")),
    Topic("device_connection_problem", "suporte", "meu fone não conecta", "my earbuds won't connect",
          ("configurar-lumo-buds", "Como configurar os Lumo Buds")),
)
UNANSWERED = ("vocês vendem capinha para o watch?", "tem loja física em curitiba?", "o plug funciona com alexa?",
              "posso pagar com pix parcelado?")
COMMENTS = {5: ["Resolveram rápido, obrigado!", "Atendimento excelente."], 4: ["Bom, mas demorou um pouco."],
            3: ["Poderia ser mais rápido."], 2: ["Tive que explicar tudo de novo."], 1: ["Não resolveu meu problema."]}
REASONS = ("customer_request", "customer_request", "repeated_fallback", "frustration")


class DemoBot:
    """A stand-in for the Rasa REST channel: each message gets the scripted reply of its conversation's topic."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.next: dict[str, dict[str, Any]] = {}

    def expect(self, cid: str, text: str, intent: str, language: str, kb: dict[str, Any] | None = None) -> None:
        self.next[cid] = {"text": text, "intent": intent, "language": language, "kb": kb}

    async def send(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> Turn:
        step = self.next.pop(sender, None) or {"text": "Certo!", "intent": "thanks", "language": "pt", "kb": None}
        self.clock.advance(random.uniform(0.6, 3.5))  # the bot "thinks"
        reply: dict[str, Any] = {"recipient_id": sender, "text": step["text"]}
        if step["kb"]:
            reply["custom"] = {"kb": step["kb"]}
        return Turn(replies=[reply], intent=step["intent"], confidence=0.9, language=step["language"])

    async def resume(self, _sender: str, attempts: int = 4) -> bool:
        return True

    async def append_events(self, _sender: str, _events: list[dict[str, Any]], attempts: int = 4) -> bool:
        return True

    async def tracker_events(self, _sender: str) -> list[dict[str, Any]]:
        return []

    async def aclose(self) -> None:
        return None


class Clock:
    """The simulated time every service sees (naive UTC, like the tables)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Simulation:
    """The services wired as the app wires them, over the app's database, with a simulated clock."""

    def __init__(self, db: Database, start: datetime, seed: int) -> None:
        self.db = db
        self.rng = random.Random(seed)
        random.seed(seed)
        self.clock = Clock(start)
        self.conversations = Conversations(db)
        self.conversations.clock = self.clock
        self.hub = Hub("", namespace="lumo-demo-history")
        self.bot = DemoBot(self.clock)
        self.chat = ChatService(db, self.hub, self.bot, load_chat_config(), "", self.conversations)  # type: ignore[arg-type]
        self.handoff = HandoffService(self.conversations, self.chat, self.hub, load_policy())
        # The side effects the app subscribes to the event log (delivery, surveys, handoff), as in its start-up.
        chat_listeners.register(self.conversations.bus, self.hub)
        surveys.register(self.conversations.bus, self.chat.surveys)
        handoff_listeners.register(self.conversations.bus, self.handoff)
        self.tz = self.handoff.hours.tz
        self.idle = IdleCloser(self.conversations, timedelta(hours=24))
        self.counts = {"conversations": 0, "escalated": 0, "resolved": 0, "csat": 0, "nps": 0}

    def agents(self) -> dict[str, Agent]:
        with self.db.session() as s:
            rows = list(s.scalars(select(Agent).where(Agent.active.is_(True))))
            s.expunge_all()
        out: dict[str, Agent] = {}
        for agent in rows:
            for team in agent.teams or []:
                out.setdefault(team, agent)
        lead = next((a for a in rows if a.role == "lead"), None)
        for team in self.handoff.hours.weekly:
            if team not in out and lead is not None:
                out[team] = lead
        return out

    def at_local(self, day: datetime, hour: float) -> datetime:
        local = datetime.combine(day.date(), time(0), tzinfo=self.tz) + timedelta(hours=hour)
        return local.astimezone(UTC).replace(tzinfo=None)

    async def day(self, day: datetime, per_day: int, agents: dict[str, Agent]) -> None:
        await self.morning(day, agents)
        hours = sorted(self.rng.uniform(7.5, 21.5) for _ in range(per_day))
        for hour in hours:
            self.clock.now = max(self.clock.now, self.at_local(day, hour))
            try:
                await self.conversation(agents)
            except (ChatError, HandoffError, LookupError, ValueError) as error:  # one odd conversation must not stop the rest
                log.warning("demo history: a simulated conversation stopped: %s", error)
        self.clock.now = max(self.clock.now, self.at_local(day, 23.9))
        await self.idle.run_once()

    async def conversation(self, agents: dict[str, Agent]) -> None:
        rng = self.rng
        topic = rng.choices(TOPICS, weights=(6, 3, 3, 2, 2, 3, 2, 2))[0]
        lang = "en" if rng.random() < 0.15 else "pt"
        conv = await self.chat.create_conversation(lang)
        cid = conv.id
        self.counts["conversations"] += 1
        kb = None
        if topic.article and rng.random() < 0.75:
            kb = {"asked": "helped", "article_id": topic.article[0], "title": topic.article[1],
                  "url": f"/ajuda/{topic.article[0]}", "score": round(rng.uniform(0.6, 0.9), 2)}
        answer = "Encontrei um artigo que pode ajudar." if kb else "Entendi. Vou verificar para você."
        self.bot.expect(cid, answer, topic.intent, lang, kb)
        await self.chat.post_customer_message(cid, topic.en if lang == "en" else topic.pt)
        if kb is not None and rng.random() < 0.55:  # the customer answers "did this help?"
            self.clock.advance(rng.uniform(20, 120))
            helped = rng.random() < 0.7
            self.bot.expect(cid, "Que bom!" if helped else "Poxa, vamos tentar outra coisa.", "affirm" if helped
                            else "deny", lang, {"feedback": "helped" if helped else "not_helped",
                                                "article_id": kb["article_id"]})
            await self.chat.post_customer_message(cid, "sim, ajudou" if helped else "não ajudou")
            if helped:
                await self.maybe_nps(cid)
                return
        if rng.random() < 0.12:
            await self.unanswered(cid, lang)
        if kb is not None and rng.random() < 0.5:
            return  # read the article and left: an assumed resolution after 24 h
        if rng.random() < 0.35:
            return  # the bot's answer was enough
        await self.escalate(cid, topic, lang, agents)

    async def escalate(self, cid: str, topic: Topic, lang: str, agents: dict[str, Agent]) -> None:
        rng = self.rng
        self.clock.advance(rng.uniform(15, 90))
        agent = agents.get(topic.team)
        if agent is not None and self.handoff.hours.is_open(topic.team, self.clock()):
            self.handoff.touch(agent.id)  # the agent's console is open
        result = await self.handoff.escalate(EscalationRequest(conversation_id=cid, reason=rng.choice(REASONS),
                                                               intent=topic.intent, language=lang))
        self.counts["escalated"] += 1
        handoff_id = int(result["handoff_id"])
        if agent is None or not self.handoff.hours.is_open(topic.team, self.clock()) or rng.random() < 0.04:
            return  # an offline ticket (taken the next morning), or left waiting
        self.clock.advance(rng.lognormvariate(4.6, 0.9))  # queue wait: ~100 s median, a long tail
        await self.work(agent, handoff_id, cid, lang)

    async def work(self, agent: Agent, handoff_id: int, cid: str, lang: str) -> None:
        """An agent takes the chat, answers, the customer thanks, the agent resolves; CSAT when answered."""
        rng = self.rng
        self.handoff.touch(agent.id)
        await self.handoff.claim(agent, handoff_id)
        self.clock.advance(rng.uniform(20, 150))
        await self.handoff.send_message(agent, handoff_id, "Olá! Sou do time Lumo, vou te ajudar." if lang == "pt"
                                        else "Hi! I'm from the Lumo team, happy to help.")
        self.clock.advance(rng.uniform(30, 180))
        await self.chat.post_customer_message(cid, "obrigado" if lang == "pt" else "thanks")
        self.clock.advance(rng.lognormvariate(5.8, 0.7))  # handling: ~5 min median
        await self.handoff.send_message(agent, handoff_id, "Pronto, resolvido." if lang == "pt" else "Done, all set.")
        self.clock.advance(rng.uniform(10, 60))
        await self.handoff.close(agent, handoff_id, "resolved", "resolvido")
        self.counts["resolved"] += 1
        if rng.random() < 0.55:
            self.clock.advance(rng.uniform(10, 90))
            rating = rng.choices((5, 4, 3, 2, 1), weights=(45, 25, 12, 10, 8))[0]
            comment = rng.choice(COMMENTS[rating]) if rng.random() < 0.4 else ""
            await self.chat.record_csat(cid, rating, comment)
            self.counts["csat"] += 1
            await self.maybe_nps(cid)

    async def morning(self, day: datetime, agents: dict[str, Agent]) -> None:
        """At opening time the teams take the offline tickets of the night (and any chat left waiting)."""
        for team, agent in agents.items():
            self.clock.now = max(self.clock.now, self.at_local(day, 8.0 + self.rng.uniform(0.05, 0.4)))
            if not self.handoff.hours.is_open(team, self.clock()):
                continue
            self.handoff.touch(agent.id)
            await self.handoff.promote_tickets([team])
            for item in self.handoff.waiting(agent, team):
                self.clock.advance(self.rng.uniform(30, 400))
                try:
                    await self.work(agent, int(item["id"]), str(item["conversation_id"]),
                                    str(item.get("language") or "pt"))
                except (ChatError, HandoffError) as error:
                    log.warning("demo history: a waiting chat was not taken: %s", error)

    async def maybe_nps(self, cid: str) -> None:
        record = getattr(self.chat, "record_nps", None)
        if record is None or self.rng.random() >= 0.3:
            return
        self.clock.advance(self.rng.uniform(5, 40))
        score = self.rng.choices(range(11), weights=(2, 1, 1, 1, 2, 3, 4, 8, 14, 20, 24))[0]
        try:
            await record(cid, score, "Gosto muito dos produtos." if score >= 9 and self.rng.random() < 0.3 else "")
            self.counts["nps"] += 1
        except ChatError as error:  # not offered now (e.g. the survey's frequency cap): the customer is not asked
            log.debug("demo history: no NPS answer in %s: %s", cid, error)

    async def unanswered(self, cid: str, lang: str) -> None:
        """What the action server reports when the knowledge base has no answer (``POST /api/kb/events``)."""
        from services.kb_events.feature import KbEventIn, record

        with self.db.session() as s:
            record(KbEventIn(conversation_id=cid, kind="no_answer", query=self.rng.choice(UNANSWERED),
                             language=lang), s)  # type: ignore[arg-type]


def should_run(database_url: str, data_dir: Path, enabled: bool, production: bool) -> str | None:
    """Why the demo history is not written (``None``: write it)."""
    if production:
        return "production mode"
    if not enabled:
        return "demo_history is false in the settings"
    if (data_dir / MARKER).exists():
        return "already written"
    migrate(database_url)
    db = Database(database_url)
    try:
        with db.session() as s:
            if s.scalar(select(func.count()).select_from(Conversation)):
                return "the database already has conversations"
    finally:
        db.dispose()
    return None


async def write_history(database_url: str, data_dir: Path, days: int = 28, per_day: int = 14,
                        seed: int = 2026) -> dict[str, int]:
    """Simulate ``days`` days up to yesterday, ``per_day`` conversations a day on average."""
    db = Database(database_url)
    try:
        today = datetime.now(UTC).replace(tzinfo=None)
        sim = Simulation(db, today - timedelta(days=days), seed)
        await sim.hub.start()
        agents = sim.agents()
        for n in range(days, 0, -1):
            weekday = (today - timedelta(days=n)).weekday()
            count = max(2, int(per_day * (0.45 if weekday == 6 else 0.8 if weekday == 5 else 1.0)
                               * sim.rng.uniform(0.8, 1.2)))
            await sim.day(today - timedelta(days=n), count, agents)
        await sim.handoff.aclose()
        await sim.hub.stop()
        (data_dir / MARKER).write_text(f"demo history written {today.isoformat()}Z: {sim.counts}\n")
        return sim.counts
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> None:
    from services.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--per-day", type=int, default=14)
    args = parser.parse_args(argv)
    settings = load_settings()
    why = should_run(settings.database_url, settings.data_dir, settings.demo_history, settings.is_production)
    if why:
        print(f"demo history not written: {why}")
        return
    print(f"demo history written: {asyncio.run(write_history(settings.database_url, settings.data_dir, args.days, args.per_day))}")


if __name__ == "__main__":
    main()


def start_in_background(database_url: str, data_dir: Path) -> str | None:
    """For ``make run``: write the demo history in a background thread when it should be; what to tell the user."""
    import threading

    from services.settings import load_settings

    settings = load_settings()
    why = should_run(database_url, data_dir, settings.demo_history, settings.is_production)
    if why:
        return None

    def run() -> None:
        try:
            counts = asyncio.run(write_history(database_url, data_dir))
            print(f"==> demo history written: {counts['conversations']} simulated conversations over 4 weeks "
                  "(dashboard: /console/lead#metrics)", flush=True)
        except Exception:  # noqa: BLE001 - the product keeps running without a demo history
            log.exception("demo history: could not be written")

    threading.Thread(target=run, name="demo-history", daemon=True).start()
    return ("==> writing a demo history in the background (4 weeks of simulated chats for the metrics dashboard;\n"
            "    turn it off for a real deployment with demo_history: false in services/settings.yml)")
