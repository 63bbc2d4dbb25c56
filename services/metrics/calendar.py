"""Durations in wall-clock time or in a team's business hours (handoff/policy.yml calendars, holidays included).

Why: a chat that waits from Saturday 19:50 to Monday 08:10 waited 36 hours for the customer but 20 minutes of the
team's working time; leads need both, so every human duration of a report goes through :meth:`Durations.seconds`
with the report's toggle. The bot works at every hour, so bot durations are always wall-clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff.hours import BusinessHours


class Durations:
    """Seconds between two naive-UTC instants, optionally counting only a team's opening hours."""

    def __init__(self, hours: BusinessHours, business_hours: bool) -> None:
        self.hours = hours
        self.business_hours = business_hours

    def seconds(self, team: str | None, start: datetime, end: datetime) -> float:
        """``end - start`` in seconds; in business-hours mode only the time ``team`` was open (0 if it never was).

        A duration without a known team (or of a team without a calendar) stays wall-clock: there is no calendar
        to count it against.
        """
        if end <= start:
            return 0.0
        if not self.business_hours or team is None or team not in self.hours.weekly:
            return (end - start).total_seconds()
        return self.open_seconds(team, start, end)

    def open_seconds(self, team: str, start: datetime, end: datetime) -> float:
        """Seconds of ``[start, end)`` that fall inside ``team``'s opening ranges, skipping holidays."""
        tz = self.hours.tz
        a = start.replace(tzinfo=UTC).astimezone(tz)
        b = end.replace(tzinfo=UTC).astimezone(tz)
        weekly = self.hours.weekly.get(team, {})
        total = 0.0
        day = a.date()
        while day <= b.date():
            if day not in self.hours.holidays:
                for opens, closes in weekly.get(day.weekday(), []):
                    lo = max(a, datetime.combine(day, opens, tzinfo=tz))
                    hi = min(b, datetime.combine(day, closes, tzinfo=tz))
                    if hi > lo:
                        total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total
