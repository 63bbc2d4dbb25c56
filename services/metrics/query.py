"""What a metrics report asks for: the period, the filters and the toggles, validated once.

Why here and not in the route: the API, the CSV export and the benchmark build the same query, and a bad value
(an end before the start, an unknown team, a year-long window) must get the same clear message everywhere.
Dates are the business calendar's days (a lead's "1 to 30 November" means São Paulo days), turned into the naive
UTC instants every table stores.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LANGUAGES = ("pt", "en")
MAX_DAYS = 366
DEFAULT_DAYS = 30
DEFAULT_ASSUMED_HOURS = 24.0
MAX_ASSUMED_HOURS = 24.0 * 30


class QueryError(ValueError):
    """A report request that cannot be answered; the message names the parameter (the API answers 422)."""


@dataclass(frozen=True)
class MetricQuery:
    """A period ``[start, end)`` in naive UTC, optional filters and the toggles of the definitions."""

    start: datetime
    end: datetime
    team: str | None = None
    language: str | None = None
    intent: str | None = None
    agent_id: int | None = None
    channel: str | None = None
    business_hours: bool = False
    assumed_hours: float = DEFAULT_ASSUMED_HOURS  # containment: "no return within" this many hours

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> MetricQuery:
        """The period of the same length just before this one (same filters), for "compared with"."""
        return replace(self, start=self.start - self.span, end=self.start)

    def describe(self) -> dict[str, object]:
        return {"start": self.start.isoformat() + "Z", "end": self.end.isoformat() + "Z", "team": self.team,
                "language": self.language, "intent": self.intent, "agent_id": self.agent_id,
                "channel": self.channel, "business_hours": self.business_hours, "assumed_resolution_hours": self.assumed_hours}


def _utc(day: date, tz: ZoneInfo) -> datetime:
    """Midnight of ``day`` in the business timezone, as naive UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC).replace(tzinfo=None)


def _day(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise QueryError(f"{name} must be a date like 2026-11-30, not {value!r}") from error


def build_query(*, start: str | None, end: str | None, today: date, tz: ZoneInfo, teams: tuple[str, ...],
                team: str | None = None, language: str | None = None, intent: str | None = None,
                agent_id: int | None = None, channel: str | None = None, business_hours: bool = False,
                assumed_hours: float | None = None) -> MetricQuery:
    """Validate the raw parameters; ``end`` is inclusive (a whole day), the default is the last 30 days."""
    last = _day(end, "end") or today
    first = _day(start, "start") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise QueryError(f"start ({first}) is after end ({last})")
    if (last - first).days + 1 > MAX_DAYS:
        raise QueryError(f"a report covers at most {MAX_DAYS} days; this one asks for {(last - first).days + 1}")
    if team is not None and team not in teams:
        raise QueryError(f"team must be one of {', '.join(teams)}, not {team!r}")
    if language is not None and language not in LANGUAGES:
        raise QueryError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    if intent is not None and not (0 < len(intent) <= 64 and intent.replace("_", "").isalnum()):
        raise QueryError("intent must be an intent name (letters, digits, underscores)")
    if channel is not None and not (0 < len(channel) <= 16 and channel.replace("_", "").isalnum()):
        raise QueryError("channel must be a channel name such as web (letters, digits, underscores)")
    hours = DEFAULT_ASSUMED_HOURS if assumed_hours is None else float(assumed_hours)
    if not 0 < hours <= MAX_ASSUMED_HOURS:
        raise QueryError(f"assumed_resolution_hours must be more than 0 and at most {MAX_ASSUMED_HOURS:g}")
    return MetricQuery(start=_utc(first, tz), end=_utc(last + timedelta(days=1), tz), team=team,
                       language=language, intent=intent, agent_id=agent_id, channel=channel,
                       business_hours=business_hours, assumed_hours=hours)
