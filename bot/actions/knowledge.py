"""Knowledge-base answers: the bot answers from help-center articles, with a link, and asks if it helped.

Why the care about *not* answering: a confident wrong answer is worse than a handoff. The search API returns a
calibrated ``answerable`` verdict; below it the bot says honestly that it does not know and offers a person.
Every answer shown and every "helped?" reply is recorded (``POST /api/kb/events``) for the support metrics,
and also travels in the bot message's custom data, so the handoff transcript shows which article was shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import services_client
from bot.actions.escalation import consult, hand_over
from bot.actions.language import conversation_language, say

SNIPPET_CHARS = 420
MAX_QUERY_CHARS = 500


@dataclass
class KbHit:
    article_id: str
    title: str
    url: str
    snippet: str
    score: float
    category: str | None


@dataclass
class KbAnswer:
    """The outcome of one search: the best hit if the service judged the question answerable."""

    reachable: bool
    hit: KbHit | None = None
    probability: float | None = None


def absolute_url(url: str) -> str:
    """Help-center links are site paths; customers outside the widget need the full address."""
    if url.startswith("/"):
        return os.environ.get("PUBLIC_URL", os.environ.get("SERVICES_URL", "http://127.0.0.1:8000")).rstrip("/") + url
    return url


def trim(text: str, limit: int = SNIPPET_CHARS) -> str:
    """Cut at a sentence or word boundary so the customer never reads half a word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    sentence_end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if sentence_end > limit * 0.5:
        return cut[: sentence_end + 1]
    return cut[: cut.rfind(" ")].rstrip(",;:") + "…"


def search_kb(query: str, lang: str, k: int = 3) -> KbAnswer:
    """Ask the services app's search API; an unreachable service is reported, not raised."""
    query = query.strip()[:MAX_QUERY_CHARS]
    if not query:
        return KbAnswer(reachable=True)
    result = services_client.call("GET", "/api/search", params={"q": query, "lang": lang, "k": k})
    if not result.ok or not isinstance(result.body, dict):
        return KbAnswer(reachable=not result.unreachable)
    body = result.body
    hits = body.get("results") or body.get("passages") or []
    if not body.get("answerable") or not hits:
        return KbAnswer(reachable=True, probability=body.get("probability"))
    top = hits[0]
    return KbAnswer(
        reachable=True,
        probability=body.get("probability"),
        hit=KbHit(article_id=top["article_id"], title=top["title"], url=absolute_url(top["url"]),
                  snippet=top.get("snippet") or top.get("text", ""), score=float(top.get("score", 0.0)),
                  category=top.get("category")),
    )


def record_event(tracker: Tracker, kind: str, **data: Any) -> None:
    """Best effort: metrics must never break the conversation."""
    services_client.call("POST", "/api/kb/events", timeout=2,
                         json={"conversation_id": tracker.sender_id, "kind": kind, **data})


def last_kb_question(tracker: Tracker) -> dict[str, Any]:
    """What the bot asked after its latest knowledge-base message ("helped?" or "want a person?")."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            custom = (event.get("data") or {}).get("custom") or {}
            if isinstance(custom, dict) and isinstance(custom.get("kb"), dict) and "asked" in custom["kb"]:
                return custom["kb"]
    return {}


class ActionFallback(Action):
    """Low-confidence path: answer from the knowledge base, or say honestly that the bot does not know."""

    def name(self) -> str:
        return "action_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = conversation_language(tracker)
        text = tracker.latest_message.get("text") or ""
        answer = search_kb(text, lang)
        if answer.hit:
            hit = answer.hit
            record_event(tracker, "answer", query=text[:MAX_QUERY_CHARS], article_id=hit.article_id,
                         score=hit.score, probability=answer.probability, language=lang)
            dispatcher.utter_message(
                text=f"{trim(hit.snippet)}\n\n{say('kb.full_article', lang)}: {hit.title} — {hit.url}",
                buttons=[{"title": say("kb.helped_yes", lang), "payload": "/affirm"},
                         {"title": say("kb.helped_no", lang), "payload": "/deny"}],
                json_message={"kb": {"asked": "helped", "article_id": hit.article_id, "url": hit.url,
                                     "title": hit.title, "score": hit.score, "category": hit.category}},
            )
            dispatcher.utter_message(text=say("kb.did_it_answer", lang))
            return []
        record_event(tracker, "no_answer", query=text[:MAX_QUERY_CHARS], language=lang,
                     probability=answer.probability)
        outcome = consult(tracker, current_failed=True)
        if outcome.escalated:
            return hand_over(dispatcher, outcome)
        message = say("kb.dont_know" if answer.reachable else "kb.unreachable", lang)
        dispatcher.utter_message(
            text=message + " " + say("kb.offer_human", lang),
            buttons=[{"title": say("kb.talk_to_agent", lang), "payload": "/request_human"},
                     {"title": say("kb.no_thanks", lang), "payload": "/deny"}],
            json_message={"kb": {"asked": "offer_human"}},
        )
        return []


class ActionKbFeedback(Action):
    """The customer's yes/no after a knowledge-base answer (or after the offer of a person)."""

    def name(self) -> str:
        return "action_kb_feedback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = conversation_language(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        marker = last_kb_question(tracker)
        if marker.get("asked") == "offer_human":
            if intent == "affirm":
                return [FollowupAction("action_request_human")]
            dispatcher.utter_message(response="utter_anything_else")
            return []
        helped = intent == "affirm"
        record_event(tracker, "feedback", article_id=marker.get("article_id"), helped=helped, language=lang)
        if helped:
            dispatcher.utter_message(text=say("kb.glad", lang),
                                     json_message={"kb": {"feedback": "helped", "article_id": marker.get("article_id")}})
            return []
        outcome = consult(tracker, current_failed=True)
        if outcome.escalated:
            return hand_over(dispatcher, outcome)
        dispatcher.utter_message(
            text=say("kb.rephrase", lang),
            buttons=[{"title": say("kb.talk_to_agent", lang), "payload": "/request_human"}],
            json_message={"kb": {"feedback": "not_helped", "article_id": marker.get("article_id")}},
        )
        return []


class ActionAnswerTopic(Action):
    """Answers a service/support intent: ``utter_answer_<intent>`` plus the link to the best help-center article.

    First it asks the services app whether this very message goes to a person (frustration, an always-human
    topic): an angry customer must not get the canned answer before the handoff.
    """

    def name(self) -> str:
        return "action_answer_topic"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        outcome = consult(tracker, immediate_only=True)
        if outcome.escalated:
            return hand_over(dispatcher, outcome)
        lang = conversation_language(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        if f"utter_answer_{intent}" in (domain.get("responses") or {}):
            dispatcher.utter_message(response=f"utter_answer_{intent}")
        text = tracker.latest_message.get("text") or ""
        answer = search_kb(text, lang, k=3)
        if answer.hit:
            record_event(tracker, "link", query=text[:MAX_QUERY_CHARS], article_id=answer.hit.article_id,
                         score=answer.hit.score, intent=intent, language=lang)
            dispatcher.utter_message(
                text=f"{say('kb.more_details', lang)}: {answer.hit.title} — {answer.hit.url}",
                json_message={"kb": {"article_id": answer.hit.article_id, "url": answer.hit.url,
                                     "title": answer.hit.title, "intent": intent, "category": answer.hit.category}},
            )
        return []
