"""The catalogue of conversation events: every kind the log holds, who writes it and what ``data`` carries.

docs/architecture.md renders this table; a kind not listed here is refused by
:meth:`services.conversations.lifecycle.Tx.append`, so the catalogue cannot drift from the code.
"""

from __future__ import annotations

OPENED = "conversation_opened"
CUSTOMER_MESSAGE = "customer_message"
BOT_REPLY = "bot_reply"
FALLBACK = "fallback"
KB_ANSWER = "kb_answer"
KB_FEEDBACK = "kb_feedback"
ESCALATED = "escalated"
QUEUED = "queued"
AGENT_JOINED = "agent_joined"
AGENT_MESSAGE = "agent_message"
NOTE = "note"
TRANSFERRED = "transferred"
REQUEUED = "requeued"
RESOLVED = "resolved"
HANDED_BACK = "handed_back"
REOPENED = "reopened"
CSAT_REQUESTED = "csat_requested"
CSAT = "csat"
NPS_REQUESTED = "nps_requested"
NPS = "nps"
CONTACT_LEFT = "contact_left"
CLOSED = "closed"
LANGUAGE_CHANGED = "language_changed"

# kind -> (actor, what ``data`` holds)
CATALOGUE: dict[str, tuple[str, str]] = {
    OPENED: ("customer", "language, channel (web or another Rasa channel adopted at escalation)"),
    # Message texts live once, in chat_messages (joined on conversation and seq); events hold the seq.
    CUSTOMER_MESSAGE: ("customer", "seq"),
    BOT_REPLY: ("bot", "seq, customer_seq, intent, confidence, entities, actions, kb_article (when one was "
                       "shown); a turn in which the bot said nothing has seq null and text \"\""),
    FALLBACK: ("bot", "seq of the customer message the bot did not understand, intent ranking head"),
    KB_ANSWER: ("bot", "article_id, title, url, score: a help-center passage shown with \"did this help?\""),
    KB_FEEDBACK: ("customer", "article_id, helped (true/false)"),
    ESCALATED: ("bot", "status change bot -> queued: reason, reason_detail, intent, handoff_id"),
    QUEUED: ("system", "team, priority, waiting (queued or offline ticket), position, handoff_id"),
    AGENT_JOINED: ("agent", "status change -> assigned: agent_id, agent_name, handoff_id"),
    AGENT_MESSAGE: ("agent", "seq, agent_name"),
    NOTE: ("agent", "note_id, text (internal, never shown to the customer)"),
    TRANSFERRED: ("agent", "to_team or to_agent_id/to_agent_name, from_team, handoff_id"),
    REQUEUED: ("system", "status change assigned -> queued: the agent's console was gone for too long; "
                         "from_agent_id, from_agent_name, waiting, handoff_id"),
    RESOLVED: ("agent", "status change -> resolved: tag, note, handoff_id"),
    HANDED_BACK: ("agent", "status change -> bot: handoff_id"),
    REOPENED: ("customer", "status change resolved/closed -> bot: the customer wrote again"),
    CSAT_REQUESTED: ("system", "seq of the survey message (the CSAT question was shown): the response rate's denominator"),
    CSAT: ("customer", "rating 1-5, comment"),
    NPS_REQUESTED: ("system", "seq of the survey message (the NPS question was shown; at most once per customer per "
                              "nps_every_days of services/chat/chat.yml)"),
    NPS: ("customer", "score 0-10 (null when skipped), comment, skipped (true: the customer declined to answer)"),
    CONTACT_LEFT: ("customer", "contact_request_id (the details themselves stay in the contact table)"),
    CLOSED: ("system", "status change -> closed: why"),
    LANGUAGE_CHANGED: ("bot", "language (the conversation's language slot changed)"),
}

# Kinds that change the status (written only by Tx.set_status).
STATUS_KINDS = frozenset({ESCALATED, AGENT_JOINED, TRANSFERRED, REQUEUED, RESOLVED, HANDED_BACK, REOPENED, CLOSED})
