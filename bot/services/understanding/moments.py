"""Dates and clock times found in a request, and how they become one start and one end.

The language readers (``zh_time`` on jionlp, ``en_time`` on dateparser) report what the
text says — mentions of days, clock slots, end times, durations — and ``resolve`` decides
what that means for the booking, with the same rules for both languages:

- a bare clock hour follows office hours: 8–12 is the morning, 1–6 the afternoon ("两点" is
  14:00, "at 3" is 15:00; confidence ``assumed``); 7 could be either and is asked;
- an end without its own 上午/下午/am/pm takes the start's afternoon ("下午两点到四点" ends
  at 16:00);
- a date typed without a year is the next such date, unless it passed less than two months
  ago ("11月28日" on 1 December is more likely a slip than next November: asked);
- a weekday alone is the next such day; the weekday of today is asked (today or next week?);
- a date that does not exist (「2月30日」, "31 April", "2026-13-01") is reported and the date
  is asked: it is never moved to another month or year;
- anything that contradicts itself is left unset and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .result import Confidence, Problem, Understanding

MAX_DURATION = timedelta(hours=16)  # as the booking rules
MAX_ADVANCE_DAYS = 366
RECENTLY_PASSED_DAYS = 62

AM, PM, NOON = "am", "pm", "noon"
H24 = "24h"  # the hour is already on the 24-hour clock


@dataclass
class DayMention:
    text: str
    day: date | None = None
    candidates: tuple[date, ...] = ()  # it could be either (today or next week)
    weekday: int | None = None  # the weekday the text names (Monday 0), for cross-checks
    weekday_only: bool = False  # only a weekday ("周四", "on Thursday")
    yearless: bool = False  # a month and day without a year
    vague: bool = False  # a date is meant but none is named ("下周", "next week")


@dataclass
class ClockReading:
    value: time | None
    assumed: bool = False
    candidates: tuple[time, ...] = ()


@dataclass
class Slot:
    text: str
    start: ClockReading
    end: ClockReading | None = None


@dataclass
class TimeFindings:
    days: list[DayMention] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    ends: list[ClockReading] = field(default_factory=list)  # "11点结束", "until 5pm"
    durations: list[timedelta] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


# ---- clock rules shared by both languages ----------------------------------------------
def clock(hour: int, minute: int, period: str | None) -> ClockReading | None:
    """The time of day of ``hour:minute`` said with ``period`` (am, pm, noon or None)."""
    if not (0 <= hour <= 24 and 0 <= minute <= 59):
        return None
    if hour == 24:
        return ClockReading(time(0, minute)) if minute == 0 else None
    if period == PM and hour < 12:
        return ClockReading(time(hour + 12, minute))
    if period == NOON:
        return ClockReading(time(hour + 12 if hour <= 6 else hour, minute))
    if period is not None or hour >= 13 or hour == 0:
        return ClockReading(time(hour, minute))
    return office_hours(hour, minute)


def office_hours(hour: int, minute: int) -> ClockReading:
    """A bare hour: meetings happen in the day (8–12 morning, 1–6 afternoon); 7 is either."""
    if 8 <= hour <= 12:
        return ClockReading(time(hour, minute))
    if 1 <= hour <= 6:
        return ClockReading(time(hour + 12, minute), assumed=True)
    return ClockReading(None, candidates=(time(hour, minute), time(hour + 12, minute)))


def end_clock(hour: int, minute: int, period: str | None, start_period: str | None) -> ClockReading | None:
    """The end's own period if it has one, else the start's afternoon, else office hours."""
    if period is None and start_period in (PM, NOON) and hour < 12:
        return ClockReading(time(hour + 12, minute))
    return clock(hour, minute, period)


# ---- dates ----------------------------------------------------------------------------
NO_SUCH_DATE = "no_such_date"


def real_date(year: int | None, month: int, day: int, today: date) -> bool:
    """Whether the day exists. Without a year, in the year of its next occurrence: 「2月29日」
    said in December 2026 is no day of February 2027."""
    if year is None and 1 <= month <= 12:
        year = today.year if (month, day) >= (today.month, today.day) else today.year + 1
    try:
        date(year or today.year, month, day)
    except ValueError:
        return False
    return True


def yearless(day: date, today: date, text: str, problems: list[Problem]) -> DayMention:
    """A month and day without a year: the next one, unless it has just passed."""
    mention = DayMention(text, yearless=True)
    if day >= today:
        mention.day = day
    elif (today - day).days <= RECENTLY_PASSED_DAYS:
        problems.append(Problem("date_passed", "date", text))
    else:
        try:
            mention.day = day.replace(year=day.year + 1)
        except ValueError:  # 29 February
            problems.append(Problem("date_passed", "date", text))
    return mention


def bare_weekday(day: date, today: date, text: str) -> DayMention:
    """A weekday alone: the next such day from today; today's own weekday is either."""
    weekday = day.weekday()
    ahead = (weekday - today.weekday()) % 7
    mention = DayMention(text, weekday=weekday, weekday_only=True)
    if ahead == 0:
        mention.candidates = (today, today + timedelta(days=7))
    else:
        mention.day = today + timedelta(days=ahead)
    return mention


def _unique(values: list) -> list:  # type: ignore[type-arg]
    return list(dict.fromkeys(values))


def _resolve_date(findings: TimeFindings, today: date, result: Understanding) -> None:
    """Every mention narrows the possible days; one day left is the date."""
    if any(problem.code == NO_SUCH_DATE for problem in findings.problems):
        return  # the day typed does not exist: asked, whatever else was said
    named = [m for m in findings.days if m.day is not None or m.candidates]
    if not named:
        return
    named.sort(key=lambda m: m.weekday_only)  # a weekday alone checks the others
    pool: list[date] | None = None
    conflict = ""
    for mention in named:
        days = [mention.day] if mention.day is not None else list(mention.candidates)
        if pool is None:
            pool = days
            continue
        if mention.weekday_only:
            narrowed = [day for day in pool if day.weekday() == mention.weekday]
        else:
            narrowed = [day for day in pool if day in days]
        if narrowed:
            pool = narrowed
        else:
            conflict = (
                "date_weekday_mismatch" if mention.weekday_only and not named[0].weekday_only else "two_dates"
            )
            pool = _unique([*pool, *days])
    assert pool is not None
    if conflict:
        result.problems.append(Problem(conflict, "date", " / ".join(m.text for m in named)))
    if len(pool) == 1 and not conflict:
        day = pool[0]
        if day < today:
            result.problems.append(Problem("in_past", "date", named[0].text))
        elif (day - today).days > MAX_ADVANCE_DAYS:
            result.problems.append(Problem("too_far", "date", named[0].text))
        else:
            result.date = day
            result.confidence["date"] = Confidence.stated
        return
    result.ambiguous["date"] = tuple(sorted(pool))


def _shift(moment: time, delta: timedelta) -> time | None:
    """``moment`` moved by ``delta``, or None if that leaves the day."""
    base = datetime.combine(date(2000, 1, 1), moment)
    moved = base + delta
    return moved.time() if moved.date() == base.date() else None


def _confidence(reading: ClockReading) -> Confidence:
    return Confidence.assumed if reading.assumed else Confidence.stated


def _resolve_clock(findings: TimeFindings, result: Understanding) -> None:
    slots = findings.slots
    said = " / ".join(s.text for s in slots)
    starts = _unique([s.start.value for s in slots if s.start.value is not None])
    unsure = _unique([c for s in slots if s.start.value is None for c in s.start.candidates])
    if len(starts) > 1 or (starts and unsure):
        result.problems.append(Problem("two_times", "start", said))
        result.ambiguous["start_time"] = tuple(sorted({*starts, *unsure}))
        return
    if unsure:  # "7点到9点": morning or evening? the end is read against the start, so ask both
        result.problems.append(Problem("am_or_pm", "start", said))
        result.ambiguous["start_time"] = tuple(unsure)
        return
    start: tuple[time, Confidence] | None = None
    if slots and slots[0].start.value is not None:
        start = (slots[0].start.value, _confidence(slots[0].start))
    end: tuple[time, Confidence] | None = None
    end_readings = [s.end for s in slots if s.end is not None] or findings.ends
    end_values = _unique([e.value for e in end_readings if e.value is not None])
    if len(end_values) > 1:
        result.problems.append(Problem("two_times", "end", said))
        result.ambiguous["end_time"] = tuple(end_values)
    elif end_values:
        reading = next(e for e in end_readings if e.value is not None)
        end = (end_values[0], _confidence(reading))
    elif end_readings:
        result.problems.append(Problem("am_or_pm", "end", said))
        result.ambiguous["end_time"] = tuple(_unique([c for e in end_readings for c in e.candidates]))
    durations = _unique(findings.durations)
    duration: timedelta | None = None
    if len(durations) > 1:
        result.ambiguous["duration"] = tuple(durations)
    elif durations:
        if timedelta(0) < durations[0] <= MAX_DURATION:
            duration = durations[0]
        else:
            result.problems.append(Problem("bad_duration", "duration", str(durations[0])))
    if start and end and duration:
        if _shift(start[0], duration) != end[0]:
            result.problems.append(Problem("duration_conflict", "end", said))
            end, duration = None, None
    elif start and duration:
        finish = _shift(start[0], duration)
        end = (finish, Confidence.implied) if finish else None
    elif end and duration:
        begin = _shift(end[0], -duration)
        start = (begin, Confidence.implied) if begin else None
    if duration is not None:
        result.duration = duration
        result.confidence["duration"] = Confidence.stated
    if start and end and end[0] <= start[0]:
        result.problems.append(Problem("end_before_start", "end", said))
        return
    if start:
        result.start_time, result.confidence["start_time"] = start
    if end:
        result.end_time, result.confidence["end_time"] = end


def resolve(findings: TimeFindings, result: Understanding, zone: ZoneInfo, now: datetime) -> None:
    """Set date, start/end clock times and datetimes, duration; report what does not fit."""
    today = now.astimezone(zone).date()
    result.problems.extend(findings.problems)
    _resolve_date(findings, today, result)
    _resolve_clock(findings, result)
    place(result, zone, now)


def place(result: Understanding, zone: ZoneInfo, now: datetime) -> None:
    """The aware start and end from the date and the clock times, once both are known."""
    if result.date is None or result.start_time is None:
        return
    start = datetime.combine(result.date, result.start_time, tzinfo=zone).astimezone(UTC)
    if start < now:
        result.problems.append(Problem("in_past", "start"))
        for name in ("start_time", "end_time"):
            setattr(result, name, None)
            result.confidence.pop(name, None)
        return
    result.start = start
    result.confidence["start"] = result.confidence["start_time"]
    if result.end_time is not None:
        result.end = datetime.combine(result.date, result.end_time, tzinfo=zone).astimezone(UTC)
        result.confidence["end"] = result.confidence["end_time"]
