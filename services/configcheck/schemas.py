"""Schemas of the YAML files a support lead edits: every key known, every value checked.

Why pydantic models with ``extra="forbid"``: a misspelt key (``escalaton:``) used to be ignored silently and the
product ran with defaults the lead never chose. These models describe each file as the code reads it; a key that
is here is read by the code (``grep`` for it), a key that is not here stops start-up.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, model_validator

from handoff.policy import REASONS

REASON = Literal[REASONS]  # type: ignore[valid-type]
WEEKDAY = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEBHOOK_EVENT = Literal["created", "claimed", "resolved", "handed_back", "transferred"]
_RANGE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")


class Strict(BaseModel):
    """Unknown keys are errors; values are not coerced between unrelated types."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


def _hours(spec: str) -> str:
    for part in (p.strip() for p in spec.split(",")):
        if not _RANGE.match(part):
            raise ValueError(f"'{part}' is not a range like 08:00-20:00")
        start, end = part.split("-")
        if end <= start:
            raise ValueError(f"'{part}' ends before it starts")
    return spec


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"'{name}' is not a timezone name like America/Sao_Paulo") from error
    return name


Word = Annotated[str, Field(min_length=1)]
Ratio = Annotated[float, Field(gt=0, le=1)]


# ---------------------------------------------------------------- handoff/policy.yml
class Fallback(Strict):
    max_consecutive: int = Field(2, ge=1)
    intents: list[Word] = ["nlu_fallback"]
    didnt_help_intents: list[Word] = ["deny"]


class AlwaysHuman(Strict):
    intents: list[Word] = []
    keywords: dict[str, list[Word]] = {}


class Frustration(Strict):
    intents: list[Word] = ["complain"]
    shouting_min_letters: int = Field(12, ge=1)
    shouting_upper_ratio: Ratio = 0.75
    lexicon: dict[str, list[Word]] = {}


class UnansweredRepeat(Strict):
    enabled: bool = True
    min_similarity: Ratio = 0.5
    window_turns: int = Field(10, ge=1)


class Escalation(Strict):
    request_human_intents: list[Word] = ["request_human"]
    fallback: Fallback = Fallback()
    always_human: AlwaysHuman = AlwaysHuman()
    frustration: Frustration = Frustration()
    unanswered_repeat: UnansweredRepeat = UnansweredRepeat()
    priority: dict[REASON, Annotated[int, Field(ge=1)]] = {}


class Routing(Strict):
    topics_file: str = "bot/topics.yml"
    category_teams: dict[str, str] = {}
    intent_teams: dict[str, str] = {}
    default_team: str | None = None


class Team(Strict):
    hours: dict[WEEKDAY, Annotated[str, AfterValidator(_hours)]] = {}


class BusinessHours(Strict):
    timezone: Annotated[str, AfterValidator(_timezone)] = "America/Sao_Paulo"
    holidays: list[date] = []


class Queue(Strict):
    default_handle_minutes: float = Field(6, gt=0)
    history_size: int = Field(20, ge=1)
    presence_timeout_seconds: float = Field(90, gt=0)


class Agents(Strict):
    session_hours: float = Field(12, gt=0)
    max_failed_logins: int = Field(5, ge=1)
    max_failed_logins_per_address: int = Field(20, ge=1)
    session_recheck_seconds: float = Field(5, gt=0, le=300)
    requeue_after_seconds: float = Field(120, ge=10)


class Webhook(Strict):
    name: str | None = None
    url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    secret: Annotated[str, Field(min_length=1)]
    events: list[WEBHOOK_EVENT] | None = None


class WebhookRetry(Strict):
    max_attempts: int = Field(6, ge=1)
    backoff_seconds: float = Field(2, gt=0)
    max_backoff_seconds: float = Field(300, gt=0)
    timeout_seconds: float = Field(5, gt=0)


class PolicyFile(Strict):
    escalation: Escalation = Escalation()
    routing: Routing = Routing()
    teams: Annotated[dict[str, Team], Field(min_length=1)]
    business_hours: BusinessHours = BusinessHours()
    queue: Queue = Queue()
    agents: Agents = Agents()
    resolution_tags: list[Word] = []
    webhooks: list[Webhook] = []
    webhook_retry: WebhookRetry = WebhookRetry()

    @model_validator(mode="after")
    def _teams_exist(self) -> PolicyFile:
        for label, mapping in (("category_teams", self.routing.category_teams),
                               ("intent_teams", self.routing.intent_teams)):
            for key, team in mapping.items():
                if team not in self.teams:
                    raise ValueError(f"routing.{label}.{key}: names unknown team '{team}' "
                                     f"(teams: {', '.join(self.teams)})")
        if self.routing.default_team and self.routing.default_team not in self.teams:
            raise ValueError(f"routing.default_team: '{self.routing.default_team}' is not a team")
        return self


# ---------------------------------------------------------------- bot/topics.yml
class Topic(Strict):
    category: Literal["service", "support"]


class TopicsFile(Strict):
    topics: dict[str, Topic]


# ---------------------------------------------------------------- services/settings.yml
class SettingsFile(Strict):
    app_env: Literal["embedded", "production"] = "embedded"
    database_url: str = "sqlite:///.data/services.db"
    redis_url: str = ""
    rasa_url: Annotated[str, Field(pattern=r"^https?://\S+$")] = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = Field(20, gt=0)
    rasa_token: str = ""
    public_url: Annotated[str, Field(pattern=r"^https?://\S+$")] = "http://127.0.0.1:8000"
    secret_key: str = ""
    identity_secret: str = ""
    rasa_tracker_url: str = ""
    retention_days: int = Field(730, ge=0, le=36500)
    demo_history: StrictBool = True  # services/metrics/demo.py: simulated history on a fresh embedded install


# ---------------------------------------------------------------- services/chat/chat.yml
class ChatFile(Strict):
    max_message_chars: int = Field(2000, ge=20, le=20000)
    rate_limit_per_minute: int = Field(20, ge=1)
    session_max_age_days: int = Field(30, ge=1)
    history_limit: int = Field(500, ge=1)
    close_idle_after_hours: float = Field(24, gt=0, le=24 * 90)
    survey_end_intents: list[Word] = Field(["goodbye", "thanks"], min_length=1)
    nps_every_days: int = Field(30, ge=1, le=3650)
