"""How a booking repeats: the rule of a series and the dates it gives (docs/product.md §2).

A rule is plain data (it is stored as JSON on the series and read back by ``from_json``), and
``expand`` turns it into the occurrences' local start and end times. Everything is computed on
the site's wall clock, so a weekly meeting at 09:00 stays at 09:00 whatever the offset does.
A series is always bounded: by its end date, by its count, and in any case by the site's
horizon (one year by default) and its largest number of occurrences.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.booking_rules import BookingError

# What a site gets when it says nothing (docs/site-config.md, [series]).
DEFAULT_HORIZON_DAYS = 366
DEFAULT_MAX_OCCURRENCES = 260


class Frequency(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    # The same weekday of the same week of each month ("the first Monday"); a first date in
    # the month's fifth week means "the last" such weekday.
    MONTHLY_WEEKDAY = "monthly_weekday"
    # Every working day of the site's calendar ([digest] working_days and holidays).
    WORKDAYS = "workdays"


class RecurrenceError(BookingError):
    """A rule that cannot make a series; ``code`` picks the message like any booking error."""


@dataclass(frozen=True)
class RecurrenceRule:
    """``until`` is the last local date a meeting may fall on (inclusive); ``count`` is the
    number of meetings including the first. Neither: up to the site's horizon.
    ``last_of_month``: a monthly series on the last such weekday of each month ("the last
    Friday"), which a first date in the month's fourth week alone cannot tell apart from
    "the fourth Friday"."""

    frequency: Frequency
    until: date | None = None
    count: int | None = None
    last_of_month: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "frequency": self.frequency.value,
            "until": self.until.isoformat() if self.until else None,
            "count": self.count,
            "last_of_month": self.last_of_month,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecurrenceRule:
        until = data.get("until")
        return cls(
            frequency=Frequency(data["frequency"]),
            until=date.fromisoformat(until) if until else None,
            count=data.get("count"),
            last_of_month=bool(data.get("last_of_month", False)),
        )


@dataclass(frozen=True)
class Occurrence:
    """One meeting of a series: its place in the series (0 is the first) and its times."""

    index: int
    start: datetime
    end: datetime


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date | None:
    """The ``nth`` (1–4, or 5 = last) ``weekday`` (0 = Monday) of a month."""
    days = calendar.monthrange(year, month)[1]
    if nth >= 5:
        last = date(year, month, days)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    return day if day.month == month else None


def _dates(rule: RecurrenceRule, first: date, is_working_day: Callable[[date], bool]) -> Any:
    """Every date the rule gives from ``first`` on, without end (the caller bounds it)."""
    if rule.frequency in (Frequency.WEEKLY, Frequency.BIWEEKLY):
        step = timedelta(days=7 if rule.frequency is Frequency.WEEKLY else 14)
        day = first
        while True:
            yield day
            day += step
    elif rule.frequency is Frequency.MONTHLY_WEEKDAY:
        nth = 5 if rule.last_of_month else (first.day - 1) // 7 + 1
        year, month = first.year, first.month
        while True:
            day_in_month = _nth_weekday(year, month, first.weekday(), nth)
            if day_in_month is not None and day_in_month >= first:
                yield day_in_month
            month += 1
            if month > 12:
                year, month = year + 1, 1
    else:
        day = first
        while True:
            if is_working_day(day):
                yield day
            day += timedelta(days=1)


def expand(
    rule: RecurrenceRule,
    first_start: datetime,
    first_end: datetime,
    zone: ZoneInfo,
    is_working_day: Callable[[date], bool],
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    max_occurrences: int = DEFAULT_MAX_OCCURRENCES,
) -> list[Occurrence]:
    """The occurrences of a series whose first meeting is ``first_start``–``first_end``.

    The first meeting is always the first occurrence, even on a day the rule would not give
    (a working-day series asked for on a Saturday starts on that Saturday). Raises
    ``RecurrenceError`` for an end before the start, a count below one, or a series longer
    than the horizon or the largest number of occurrences: the person is told the bound
    instead of getting a silently shortened series.
    """
    local_start = first_start.astimezone(zone)
    local_end = first_end.astimezone(zone)
    first = local_start.date()
    duration = local_end.replace(tzinfo=None) - local_start.replace(tzinfo=None)
    horizon = first + timedelta(days=horizon_days)
    if rule.count is not None and rule.count < 1:
        raise RecurrenceError("series_count_invalid")
    if rule.until is not None and rule.until < first:
        raise RecurrenceError(
            "series_end_before_start", start=first.isoformat(), until=rule.until.isoformat()
        )
    if rule.until is not None and rule.until > horizon:
        raise RecurrenceError("series_too_long", days=horizon_days, occurrences=max_occurrences)
    if rule.count is not None and rule.count > max_occurrences:
        raise RecurrenceError("series_too_long", days=horizon_days, occurrences=max_occurrences)

    last = rule.until or horizon
    days: list[date] = [first]
    for day in _dates(rule, first, is_working_day):
        if day <= first:
            continue
        if day > last or (rule.count is not None and len(days) >= rule.count):
            break
        if len(days) >= max_occurrences:
            if rule.until is not None or rule.count is not None:
                raise RecurrenceError("series_too_long", days=horizon_days, occurrences=max_occurrences)
            break
        days.append(day)

    occurrences = []
    for index, day in enumerate(days):
        start = datetime.combine(day, local_start.time().replace(tzinfo=None), zone)
        end = (start.replace(tzinfo=None) + duration).replace(tzinfo=zone)
        occurrences.append(Occurrence(index=index, start=start, end=end))
    return occurrences
