"""Every metric as a list of samples: one measurement each, carrying what reports filter and group by.

Why samples: a figure ("median human first response") is then one reduction over the samples whose anchor time
falls in the period and whose team/language/intent/agent match the filters; the same samples give the per-team
table, the per-agent table and the CSV, so those can never disagree. docs/metrics.md defines each metric in
words with a worked example; this module is the definition in code, and the two are kept side by side.

Anchor times (``Sample.at``): first responses and containment at the contact's first message, human first
response and queue waits at the escalation / queue entry, resolution time at the ``resolved`` event, CSAT at the
answer, handling at the agent's join, KB helpfulness at the answer shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.conversations import kinds
from services.metrics.calendar import Durations
from services.metrics.store import Ev
from services.metrics.timeline import Contact

# The NPS survey is not built yet (issue #10 part 2); its answers will be events of this kind with data.score.
NPS_KIND = "nps"
# Adds one sample of the contact being measured: ``emit(metric, at, **fields)``.
Emit = Callable[..., None]

FRT_BOT = "frt_bot"
FRT_HUMAN = "frt_human"
RESOLUTION = "resolution_time"
CSAT = "csat"
CSAT_RESPONSE = "csat_response"
NPS = "nps"
CONTAINMENT = "containment"
BOT_RESOLUTION = "bot_resolution"
HANDOFF = "handoff"
ESCALATION = "escalation"
REPEAT = "repeat_contact"
KB = "kb_answer"
QUEUE_WAIT = "queue_wait"
HANDLING = "handling_time"
BACKLOG = "backlog"


@dataclass(frozen=True, slots=True)
class Sample:
    """One measurement. ``value`` is seconds for durations (``None``: still pending), a rating or a score."""

    metric: str
    at: datetime
    conversation_id: str
    team: str | None
    language: str | None
    intent: str | None
    agent_id: int | None = None
    value: float | None = None
    outcome: str | None = None
    key: str | None = None  # escalation reason, KB article id
    label: str | None = None  # KB article title, a survey's comment
    channel: str | None = None
    due: datetime | None = None  # bot resolution: when a still-silent contact counts as assumed resolved


class _Episode:
    """The human part of a contact while the definitions walk its events (queue entries and who holds it)."""

    def __init__(self, ev: Ev) -> None:
        self.escalated_at = ev.at
        self.team = ev.team
        self.first_reply = False
        self.queue_since: datetime | None = ev.at
        self.queue_team = ev.team
        self.queue_kind = "queued"
        self.holder: tuple[int | None, datetime, str | None] | None = None  # agent, since, team


def contact_samples(c: Contact, durations: Durations, as_of: datetime, window: timedelta) -> list[Sample]:
    """All samples one contact yields (first responses, resolution, CSAT, containment, handoffs, KB...)."""
    out: list[Sample] = []

    def sample(metric: str, at: datetime, team: str | None = c.team, agent_id: int | None = None,
               value: float | None = None, outcome: str | None = None, key: str | None = None,
               label: str | None = None, due: datetime | None = None) -> None:
        out.append(Sample(metric, at, c.conversation_id, team, c.language, c.intent, agent_id, value, outcome, key,
                          label, c.channel, due))

    _first_bot_reply(c, sample)
    if c.has(kinds.ESCALATED):
        _human_part(c, durations, sample)
    if c.has(kinds.CSAT) or c.has(NPS_KIND):
        _csat_and_nps(c, sample)
    _bot_outcome(c, as_of, window, sample)
    _repeat(c, sample)
    if c.has(kinds.KB_ANSWER):
        _kb(c, sample)
    return out


def _first_bot_reply(c: Contact, sample: Emit) -> None:
    """Bot FRT: the contact's first customer message to the bot's next reply that said something (wall-clock)."""
    reply = next((e for e in c.events if e.kind == kinds.BOT_REPLY and e.data.get("seq") is not None), None)
    first_agent = next((e for e in c.events if e.kind == kinds.AGENT_MESSAGE), None)
    if reply is not None and (first_agent is None or reply.id < first_agent.id):
        sample(FRT_BOT, c.start, value=(reply.at - c.start).total_seconds())
    elif reply is None and first_agent is None:
        sample(FRT_BOT, c.start, value=None, outcome="unanswered")


def _human_part(c: Contact, durations: Durations, sample: Emit) -> None:
    """Human FRT, queue waits, handling time, resolution time and whether CSAT was answered, per handoff."""
    emit = sample
    ep: _Episode | None = None

    def end_holding(at: datetime, outcome: str) -> None:
        if ep is not None and ep.holder is not None:
            agent, since, team = ep.holder
            emit(HANDLING, since, team=team, agent_id=agent,
                 value=durations.seconds(team, since, at), outcome=outcome)
            ep.holder = None

    def end_queue(at: datetime | None, agent: int | None, outcome: str) -> None:
        if ep is not None and ep.queue_since is not None:
            value = durations.seconds(ep.queue_team, ep.queue_since, at) if at is not None else None
            emit(QUEUE_WAIT, ep.queue_since, team=ep.queue_team, agent_id=agent,
                 value=value, outcome=outcome)
            ep.queue_since = None

    for i, ev in enumerate(c.events):
        if ev.kind == kinds.ESCALATED:
            ep = _Episode(ev)
            emit(ESCALATION, ev.at, team=ev.team, key=str(ev.data.get("reason") or "unknown"))
        elif ep is None:
            continue
        elif ev.kind == kinds.QUEUED and ep.queue_since is not None:
            ep.queue_kind = str(ev.data.get("waiting") or "queued")
        elif ev.kind == kinds.AGENT_JOINED:
            end_queue(ev.at, ev.agent_id, ep.queue_kind)
            ep.holder = (ev.agent_id, ev.at, ev.team)
        elif ev.kind == kinds.AGENT_MESSAGE and not ep.first_reply:
            ep.first_reply = True
            team = ev.team or ep.team
            emit(FRT_HUMAN, ep.escalated_at, team=team, agent_id=ev.agent_id,
                 value=durations.seconds(team, ep.escalated_at, ev.at), outcome="answered")
        elif ev.kind == kinds.TRANSFERRED:
            end_holding(ev.at, "transferred")
            if ev.data.get("to_agent_id") is not None:
                ep.holder = (int(ev.data["to_agent_id"]), ev.at, ev.team)
            else:
                ep.queue_since, ep.queue_team = ev.at, ev.data.get("to_team") or ev.team
                ep.queue_kind = str(ev.data.get("waiting") or "queued")
        elif ev.kind in (kinds.RESOLVED, kinds.HANDED_BACK, kinds.CLOSED):
            end_holding(ev.at, ev.kind)
            end_queue(None, None, "abandoned")
            if ev.kind == kinds.RESOLVED:
                emit(RESOLUTION, ev.at, team=ev.team, agent_id=ev.agent_id,
                     value=durations.seconds(ev.team, c.start, ev.at), outcome=str(ev.data.get("tag") or ""))
                answered = any(e.kind == kinds.CSAT for e in c.events[i + 1:])
                emit(CSAT_RESPONSE, ev.at, team=ev.team, agent_id=ev.agent_id,
                     outcome="answered" if answered else "unanswered")
            if not ep.first_reply:
                emit(FRT_HUMAN, ep.escalated_at, team=ep.team, value=None,
                     outcome="never_answered")
            ep = None
    if ep is not None:  # still with people at the last event read
        if not ep.first_reply:
            emit(FRT_HUMAN, ep.escalated_at, team=ep.team, value=None, outcome="pending")
        end_queue(None, None, "waiting")
        if ep.holder is not None:
            agent, since, team = ep.holder
            emit(HANDLING, since, team=team, agent_id=agent, value=None, outcome="open")


def _csat_and_nps(c: Contact, sample: Emit) -> None:
    """CSAT answers (credited to the agent who resolved just before) and NPS answers, when that survey exists."""
    resolver: int | None = None
    for ev in c.events:
        if ev.kind == kinds.RESOLVED:
            resolver = ev.agent_id
        elif ev.kind == kinds.CSAT and isinstance(ev.data.get("rating"), int):
            sample(CSAT, ev.at, team=ev.team or c.team, agent_id=resolver,
                   value=float(ev.data["rating"]), outcome="agent" if resolver is not None else "bot",
                   label=_comment(ev))
        elif ev.kind == NPS_KIND and isinstance(ev.data.get("score"), int):
            sample(NPS, ev.at, value=float(ev.data["score"]), label=_comment(ev))


def _comment(ev: Ev) -> str | None:
    """A survey's free-text comment (customer text: shown as text, never as HTML), if the customer wrote one."""
    text = ev.data.get("comment")
    return str(text)[:2000] if isinstance(text, str) and text.strip() else None


def _bot_outcome(c: Contact, as_of: datetime, window: timedelta, sample: Emit) -> None:
    """Containment and bot resolution (confirmed / assumed / unresolved / pending) and the handoff rate."""
    escalations = c.escalations
    sample(HANDOFF, c.start, outcome="escalated" if escalations else "bot",
           key=str(escalations[0].data.get("reason") or "unknown") if escalations else None)
    if not any(e.kind == kinds.BOT_REPLY and e.data.get("seq") is not None for e in c.events):
        return  # the bot never answered this contact: neither contained nor resolved by it
    sample(CONTAINMENT, c.start, outcome="escalated" if escalations else "contained")
    feedback = [bool(e.data.get("helped")) for e in c.events if e.kind == kinds.KB_FEEDBACK]
    ratings = [int(e.data["rating"]) for e in c.events
               if e.kind == kinds.CSAT and isinstance(e.data.get("rating"), int)]
    if escalations:
        outcome = "unresolved"
    elif (feedback and feedback[-1]) or (ratings and ratings[-1] >= 4):
        outcome = "confirmed"
    elif (feedback and not feedback[-1]) or (ratings and ratings[-1] <= 3):
        outcome = "unresolved"
    elif c.next_start is not None and c.next_start - c.last_activity <= window:
        outcome = "unresolved"  # came back (to a closed conversation) within the window
    elif c.last_activity + window <= as_of:
        outcome = "assumed"
    else:
        outcome = "pending"
    # ``due``: the precomputed samples are written as "pending" and read as "assumed" once the window has passed.
    due = c.last_activity + window if outcome in ("assumed", "pending") else None
    sample(BOT_RESOLUTION, c.start, outcome=outcome, due=due)


def _repeat(c: Contact, sample: Emit) -> None:
    """Repeat contact: the same conversation (the only customer identity there is yet) back within 7 / 30 days."""
    if c.previous_end is None:
        outcome = "first"
    else:
        gap = c.start - c.previous_end
        outcome = "within_7d" if gap <= timedelta(days=7) else "within_30d" if gap <= timedelta(days=30) else "later"
    same = c.previous_end is not None and c.intent is not None and c.intent == c.previous_intent
    sample(REPEAT, c.start, outcome=outcome, key="same_topic" if same else None)


def _kb(c: Contact, sample: Emit) -> None:
    """Every help-center answer shown with "did this help?", and the customer's first answer to it."""
    for i, ev in enumerate(c.events):
        if ev.kind != kinds.KB_ANSWER or not ev.data.get("article_id"):
            continue
        article = str(ev.data["article_id"])
        answer = next((e for e in c.events[i + 1:] if e.kind == kinds.KB_FEEDBACK
                       and str(e.data.get("article_id")) == article), None)
        outcome = "no_feedback" if answer is None else "helped" if answer.data.get("helped") else "not_helped"
        sample(KB, ev.at, outcome=outcome, key=article, label=str(ev.data.get("title") or ""))


@dataclass(frozen=True, slots=True)
class Held:
    """An interval ``(since, until]`` during which a conversation waited in a queue or was held by an agent.

    Why intervals: the backlog at any instant ``T`` is the intervals that contain it, so it can be stored once per
    conversation (``until`` ``None``: still so at the last event) and read for any period's end.
    """

    conversation_id: str
    since: datetime
    until: datetime | None
    origin: datetime  # the age of the wait / hold counts from here
    state: str  # waiting_queued, waiting_offline, assigned
    team: str | None
    agent_id: int | None
    language: str | None
    intent: str | None
    channel: str | None


def held_intervals(conversation_id: str, events: list[Ev], contact: Contact | None) -> list[Held]:
    """Where the conversation stood after each event (waiting, held, or neither), merged into intervals.

    After event *i* and until the next event the state is what :func:`backlog_samples` reads for any instant in
    ``(event_i.at, event_i+1.at]``: the latest status event, the latest team named, and the waiting kind of the
    queue entry (or of the first ``queued`` event after it).
    """
    language = contact.language if contact else None
    intent = contact.intent if contact else None
    channel = contact.channel if contact else None
    out: list[Held] = []
    team: str | None = None
    last: Ev | None = None
    queued_seen = False
    queued_waiting: str | None = None
    for i, ev in enumerate(events):
        if ev.team:
            team = ev.team
        if ev.kind in kinds.STATUS_KINDS:
            last, queued_seen, queued_waiting = ev, False, None
        elif ev.kind == kinds.QUEUED and last is not None and not queued_seen:
            queued_seen, queued_waiting = True, ev.data.get("waiting")
        until = events[i + 1].at if i + 1 < len(events) else None
        if last is None or last.status not in ("queued", "assigned") or (until is not None and until <= ev.at):
            continue
        if last.status == "queued":
            state, agent = f"waiting_{last.data.get('waiting') or queued_waiting or 'queued'}", None
        else:
            state = "assigned"
            agent = last.agent_id if last.kind == kinds.AGENT_JOINED else last.data.get("to_agent_id", last.agent_id)
        held = Held(conversation_id, ev.at, until, last.at, state, team, agent, language, intent, channel)
        prev = out[-1] if out else None
        if prev is not None and prev.until == ev.at and (prev.origin, prev.state, prev.team, prev.agent_id) == (
                held.origin, held.state, held.team, held.agent_id):
            out[-1] = Held(conversation_id, prev.since, until, prev.origin, prev.state, prev.team, prev.agent_id,
                           language, intent, channel)
        else:
            out.append(held)
    return out


def backlog_sample(held: Held, at: datetime, durations: Durations) -> Sample:
    """The backlog sample of a held interval that contains ``at``: its state and its age at ``at``."""
    return Sample(BACKLOG, at, held.conversation_id, held.team, held.language, held.intent, held.agent_id,
                  durations.seconds(held.team, held.origin, at), held.state, channel=held.channel)


def contains(held: Held, at: datetime) -> bool:
    return held.since < at and (held.until is None or at <= held.until)


def backlog_samples(conversation_id: str, events: list[Ev], contact: Contact | None, at: datetime,
                    durations: Durations) -> list[Sample]:
    """The conversation's place in the backlog at ``at``: waiting (queued / offline ticket) or held by an agent."""
    return [backlog_sample(h, at, durations) for h in held_intervals(conversation_id, events, contact)
            if contains(h, at)]
