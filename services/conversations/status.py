"""The one status of a conversation and the transitions it may make.

``bot``       the assistant answers (Rasa is called for every customer message);
``queued``    escalated, waiting for a person (in a team's queue, or as an offline ticket);
``assigned``  a person holds the chat;
``resolved``  a person resolved it; the customer's next message goes back to the bot (``reopened``);
``closed``    ended (customer left, idle, or closed by the product); a new message reopens it.

Rasa is never asked while the status is ``queued`` or ``assigned``; Rasa's own pause flag is set from this
status (the escalation answer tells the action server to pause; the return to ``bot`` resumes it), never
decided on its own.
"""

from __future__ import annotations

BOT = "bot"
QUEUED = "queued"
ASSIGNED = "assigned"
RESOLVED = "resolved"
CLOSED = "closed"

STATUSES = (BOT, QUEUED, ASSIGNED, RESOLVED, CLOSED)
# A person has, or is about to have, the chat: the gateway does not call Rasa.
WITH_PEOPLE = frozenset({QUEUED, ASSIGNED})
# The customer's next message is the bot's again (after "reopened" when the status was not bot).
WITH_BOT = frozenset({BOT, RESOLVED, CLOSED})

# from -> allowed targets. Self-transitions are transfers (queued: to another team's queue; assigned: to
# another agent), which are real changes with their own event.
TRANSITIONS: dict[str, frozenset[str]] = {
    BOT: frozenset({QUEUED, RESOLVED, CLOSED}),
    QUEUED: frozenset({QUEUED, ASSIGNED, BOT, CLOSED}),
    ASSIGNED: frozenset({ASSIGNED, QUEUED, RESOLVED, BOT, CLOSED}),
    RESOLVED: frozenset({BOT, QUEUED, CLOSED}),
    CLOSED: frozenset({BOT, QUEUED}),
}


class TransitionRefused(Exception):
    """A status change that the lifecycle does not allow, or that lost a race (``status`` is the HTTP status)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def check_transition(current: str, target: str) -> None:
    """Raise :class:`TransitionRefused` unless ``current -> target`` is allowed."""
    if target not in STATUSES:
        raise TransitionRefused(f"unknown status {target!r}; expected one of {', '.join(STATUSES)}", 422)
    if target not in TRANSITIONS.get(current, frozenset()):
        raise TransitionRefused(f"a conversation cannot go from {current} to {target}")
