"""Business hours per team: weekly opening ranges in the business timezone, minus holidays.

Why a module of its own: "is the team open now?" decides between the live queue and an offline ticket, and
it must be testable with a frozen clock (pass ``now``), including holidays and timezone edges.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handoff.policy import Policy, PolicyError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _parse_ranges(spec: str, where: str) -> list[tuple[time, time]]:
    ranges = []
    for part in str(spec).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            start_text, end_text = part.split("-")
            start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
        except ValueError as error:
            raise PolicyError(f"{where}: '{part}' is not a range like 08:00-20:00") from error
        if end <= start:
            raise PolicyError(f"{where}: '{part}' ends before it starts")
        ranges.append((start, end))
    return ranges


class BusinessHours:
    """Opening hours of every team of a policy."""

    def __init__(self, policy: Policy) -> None:
        section = policy.section("business_hours")
        self.tz = ZoneInfo(str(section.get("timezone") or "America/Sao_Paulo"))
        self.holidays: set[date] = set()
        for value in section.get("holidays") or []:
            self.holidays.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
        self.weekly: dict[str, dict[int, list[tuple[time, time]]]] = {}
        for team, config in policy.teams.items():
            hours = (config or {}).get("hours") or {}
            unknown = set(hours) - set(WEEKDAYS)
            if unknown:
                raise PolicyError(f"teams.{team}.hours: unknown day(s) {sorted(unknown)}; use {WEEKDAYS}")
            self.weekly[team] = {WEEKDAYS.index(day): _parse_ranges(spec, f"teams.{team}.hours.{day}")
                                 for day, spec in hours.items()}

    def local(self, now: datetime | None = None) -> datetime:
        """``now`` (aware, or naive UTC) in the business timezone."""
        now = now or datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return now.astimezone(self.tz)

    def is_open(self, team: str, now: datetime | None = None) -> bool:
        local = self.local(now)
        if local.date() in self.holidays:
            return False
        moment = local.time()
        return any(start <= moment < end for start, end in self.weekly.get(team, {}).get(local.weekday(), []))

    def next_opening(self, team: str, now: datetime | None = None) -> datetime | None:
        """The next moment the team opens (aware, business timezone), within two weeks; None if never."""
        local = self.local(now)
        for offset in range(15):
            day = local.date() + timedelta(days=offset)
            if day in self.holidays:
                continue
            for start, _end in sorted(self.weekly.get(team, {}).get(day.weekday(), [])):
                opening = datetime.combine(day, start, tzinfo=self.tz)
                if opening > local:
                    return opening
        return None
