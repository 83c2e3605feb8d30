"""English dates and times: dates by dateparser, clock ranges and durations read here.

Date phrases are found by a small list of shapes (weekday names, month names with a day,
numeric dates, today/tomorrow, "in 3 days") and each one is handed to ``dateparser.parse``
on its own: its ``search_dates`` over a whole request reads "for 12 tomorrow 2-4pm" as
tomorrow 09:00 and "at 10" after a date as the year 2110. What dateparser gets wrong, and
what is done about it (each has a case in tests/unit/understanding_cases.py):

1. "next Wednesday" said on a Tuesday is tomorrow to dateparser; many people mean the
   Wednesday of next week. When the weekday is later this week, both days are offered
   (``ambiguous["date"]``); otherwise "next X" and "X" are the same day.
2. With ``PREFER_DATES_FROM="future"`` "Dec 1" said on 1 December is next year's; with the
   default a bare weekday is last week's ("wednesday" on a Tuesday is six days ago). Each
   phrase is parsed with the setting that fits it, and the shared rules of ``moments``
   decide past dates and today's weekday.
3. A bare ordinal is a month: "the 3rd" is 1 March, "monday the 7th" is 1 July. Ordinals
   are never handed to dateparser; "monday the 7th" is checked against the weekday here.
4. "a week from today" is a week ago; it is rewritten to "in a week" first.
5. Typos and short forms ("tomorow", "tmrw", "wensday", "thurs") are not read at all; they
   are corrected first against a short list of date words (difflib, ratio ≥ 0.8).
6. Relative days carry the base's clock time ("tomorrow" is tomorrow 09:00): only the date
   is used.
7. A day that does not exist is no date at all ("30 February", "Feb 30", "31 April"), or
   another one ("2026-13-01" is a day in the past, "2/30" the year 2030). Dates written with
   numbers are checked here before dateparser sees them: a day that does not exist is
   reported (``no_such_date``) and the date is asked.

Times of day ("2-4pm", "from 9 to 11am", "11-1pm", "at 10", "14:30", "noon") and durations
("for two hours", "90 minutes", "an hour and a half") are read here, with the same office
hours and afternoon rules as Chinese (``moments``).
"""

from __future__ import annotations

import difflib
import re
import threading
from datetime import date, datetime, timedelta
from typing import Any

from .moments import (
    AM,
    H24,
    NO_SUCH_DATE,
    NOON,
    PM,
    ClockReading,
    DayMention,
    Slot,
    TimeFindings,
    bare_weekday,
    clock,
    end_clock,
    real_date,
    yearless,
)
from .result import Problem
from .text import EN_NUMBER, MONTH_NAME, en_number, mask

_dateparser: Any = None
_import_lock = threading.Lock()
# one call at a time, as for jionlp (zh_time): dateparser's default parser is shared and not
# thread-safe (dateparser#441), and start's warm-up thread may read while a request is read
_call_lock = threading.Lock()


def dateparser() -> Any:
    global _dateparser
    if _dateparser is None:
        with _import_lock:
            if _dateparser is None:
                import dateparser as module

                _dateparser = module
    return _dateparser


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_ALWAYS = {
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmw": "tomorrow",
    "tmrow": "tomorrow",
    "tomoz": "tomorrow",
    "2moro": "tomorrow",
    "2morrow": "tomorrow",
    "2mrw": "tomorrow",
    "tody": "today",
    "2day": "today",
    "tonite": "tonight",
    "tues": "tuesday",
    "tue": "tuesday",
    "weds": "wednesday",
    "thur": "thursday",
    "thurs": "thursday",
    "thu": "thursday",
    "fri": "friday",
    "arvo": "afternoon",
}
_SHORT_DAYS = {"mon": "monday", "wed": "wednesday", "sat": "saturday", "sun": "sunday"}
_FUZZY_TARGETS = (
    *WEEKDAYS,
    "tomorrow",
    "today",
    "tonight",
    "morning",
    "afternoon",
    "evening",
    "january",
    "february",
    "september",
    "october",
    "november",
    "december",
)
_NOT_TYPOS = frozenset(
    {
        "mondays",
        "tuesdays",
        "wednesdays",
        "thursdays",
        "fridays",
        "saturdays",
        "sundays",
        "mornings",
        "evenings",
        "afternoons",
        "todays",
        "tomorrows",
        "sunday",
        "tonights",
    }
)


def fix_words(text: str) -> str:
    """Typos and short forms of date words, corrected (lengths may change)."""

    def word(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in _ALWAYS:
            return _ALWAYS[token]
        if len(token) < 5 or token in _FUZZY_TARGETS or token in _NOT_TYPOS:
            return token
        close = difflib.get_close_matches(token, _FUZZY_TARGETS, n=1, cutoff=0.8)
        return close[0] if close else token

    text = re.sub(r"[a-z0-9]+", word, text)
    return re.sub(
        r"\b(on|this|next|coming)\s+(mon|wed|sat|sun)\b|\b(mon|wed|sat|sun)(?=\s*,?\s*\d)",
        lambda m: f"{m.group(1)} {_SHORT_DAYS[m.group(2)]}" if m.group(1) else _SHORT_DAYS[m.group(3)],
        text,
    )


_MONTH = MONTH_NAME
_WEEKDAY = "|".join(WEEKDAYS)
_ORD = r"(?:st|nd|rd|th)"
_DATE_SHAPES = [
    ("relative", re.compile(r"\b(?:the\s+)?day\s+after\s+tomorrow\b|\btoday\b|\btonight\b|\btomorrow\b")),
    ("in", re.compile(rf"\bin\s+(?:{EN_NUMBER}|a)\s+(?:days?|weeks?)\b")),
    ("from_today", re.compile(rf"\b(?P<n>{EN_NUMBER}|a)\s+(?P<unit>days?|weeks?)\s+from\s+(?:today|now)\b")),
    ("recurring", re.compile(rf"\b(?:every\s+(?:{_WEEKDAY}|day|week|morning|afternoon)|(?:{_WEEKDAY})s)\b")),
    (
        "weekday",
        re.compile(
            rf"\b(?:(?P<prefix>this\s+coming|this|next|coming|on)\s+)?(?P<day>{_WEEKDAY})\b"
            rf"(?:\s*,?\s*(?:the\s+(?P<dom1>\d{{1,2}}){_ORD}?|(?P<dom2>\d{{1,2}}){_ORD})\b"
            rf"(?:\s+(?:of\s+)?(?P<month>{_MONTH})\b\.?)?)?"
        ),
    ),
    (
        "month_day",
        re.compile(
            rf"\b{_MONTH}\.?\s+\d{{1,2}}{_ORD}?\b(?![:.]\d)(?:,?\s*\d{{4}}\b)?|\b\d{{1,2}}{_ORD}?\s+(?:of\s+)?{_MONTH}\b\.?"
            rf"(?:,?\s*\d{{4}}\b)?"
        ),
    ),
    ("iso", re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b")),
    ("numeric", re.compile(r"(?<![\d/:.])\d{1,2}/\d{1,2}(?:/(?:\d{4}|\d{2}))?(?![\d/])")),
    (
        "vague",
        re.compile(
            rf"\b(?:next|this|later\s+this|early\s+next|end\s+of\s+(?:the|this|next))\s+(?:week|month)\b"
            rf"|\bon\s+the\s+\d{{1,2}}{_ORD}\b|\bsometime\b|\bsoon\b|\basap\b|\b(?:this|next|the)\s+weekend\b"
        ),
    ),
]

_AP = r"a\.m\.|p\.m\.|am|pm"


def _t(p: str) -> str:
    return (
        rf"(?:\b(?P<{p}noon>noon|midday)|(?P<{p}h>\d{{1,2}})(?:[:.](?P<{p}m>\d{{2}}))?\s*(?P<{p}ap>{_AP})?"
        rf"(?P<{p}oc>\s*o'?clock)?)(?![a-z0-9])"
    )


_RANGE = re.compile(
    rf"(?P<lead>\bfrom\s+|\bbetween\s+)?(?<![\d/:.]){_t('a')}\s*(?P<sep>-|–|—|~|\bto\b|\btill\b|\buntil\b|\btil\b"
    rf"|\band\b)\s*{_t('b')}(?![\d/])"
)
_NOT_TIME_AFTER = re.compile(
    r"^\s*(?:people|persons?|ppl|pax|attendees|participants|guests|seats|chairs|hours?|hrs?|minutes?|mins?"
    r"|days?|weeks?|%)\b"
)
_START = re.compile(
    rf"\b(?:at|@|from|starting(?:\s+at)?|starts?\s+at|begin(?:s|ning)?\s+at|kick(?:s|ing)?\s+off\s+at)\s+{_t('a')}"
)
_END = re.compile(
    rf"\b(?:until|till|til|ending(?:\s+at)?|ends?\s+at|finish(?:es|ing)?\s+(?:at|by)|done\s+by|over\s+by"
    rf"|wrap(?:s|ping)?\s+up\s+(?:at|by))\s+{_t('a')}"
)
_CLOCK = re.compile(rf"(?<![\d/:.]){_t('a')}")
_NUMBER = rf"(?:\d+(?:\.\d+)?|{EN_NUMBER})"
_DURATIONS = [
    (
        re.compile(
            r"\b(?:for\s+)?(?:an?|one)\s+hour\s+and\s+a\s+half\b|\b(?:for\s+)?one\s+and\s+a\s+half\s+hours?\b"
        ),
        90,
    ),
    (re.compile(r"\b(?:for\s+)?half\s+an\s+hour\b|\b(?:for\s+)?a\s+half[\s-]hour\b"), 30),
    (re.compile(r"\b(?:for\s+)?(?:about\s+|around\s+)?(?:an?|one)\s+hour\b(?!s)"), 60),
    (
        re.compile(
            rf"\b(?:for\s+)?(?:about\s+|around\s+|roughly\s+|approx(?:imately|\.)?\s+)?(?P<n>{_NUMBER})"
            r"(?P<half>\s+and\s+a\s+half)?\s*-?\s*(?:hours?|hrs?|h)\b"
        ),
        0,
    ),
    (re.compile(rf"(?<!every\s)\b(?:for\s+)?(?P<n>{_NUMBER})\s*-?\s*(?:minutes?|mins?)\b"), -1),
]
_INTERVAL = re.compile(
    rf"\bevery\s+(?:(?:\d+(?:\.\d+)?|{EN_NUMBER}|half\s+an?|an?)\s+)?(?:hours?|hrs?|minutes?|mins?|half[\s-]hour)\b"
)
_PERIOD_WORDS = re.compile(r"\b(morning|afternoon|evening|tonight|lunchtime|lunch)\b")
_PERIOD_OF = {"morning": AM, "afternoon": PM, "evening": PM, "tonight": PM, "lunchtime": NOON, "lunch": NOON}


def _parse(phrase: str, local_now: datetime, prefer: str = "current_period") -> date | None:
    settings = {
        "RELATIVE_BASE": local_now,
        "PREFER_DATES_FROM": prefer,
        "RETURN_AS_TIMEZONE_AWARE": False,
        "DATE_ORDER": "MDY",
    }
    try:
        with _call_lock:
            parsed = dateparser().parse(phrase, languages=["en"], settings=settings)
    except Exception:  # an odd phrase must never break the reading of the rest
        return None
    return parsed.date() if parsed is not None else None


def _month_number(word: str) -> int:
    return 1 + MONTHS.index(next(m for m in MONTHS if m.startswith(word.rstrip(".")[:3])))


def _no_such_date(kind: str, text: str, today: date) -> bool:
    """Whether a date written with numbers names a day that does not exist (quirk 7)."""
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    if kind == "month_day":
        month = _month_number(re.search(_MONTH, text).group(0))  # type: ignore[union-attr]
        day = next(n for n in numbers if n < 100) if any(n < 100 for n in numbers) else 0
        year = next((n for n in numbers if n >= 1000), None)
        return not real_date(year, month, day, today)
    if kind == "iso":
        return not real_date(numbers[0], numbers[1], numbers[2], today)
    if kind == "numeric":  # neither month/day nor day/month is a day
        year = None
        if len(numbers) == 3:
            year = numbers[2] + (2000 if numbers[2] < 100 else 0)
        first, second = numbers[0], numbers[1]
        return not real_date(year, first, second, today) and not real_date(year, second, first, today)
    return False


def _weekday(match: re.Match[str], today: date, local_now: datetime, problems: list[Problem]) -> DayMention:
    text = match.group(0)
    prefix = re.sub(r"\s+", " ", match.group("prefix") or "")
    weekday = WEEKDAYS.index(match.group("day"))
    upcoming = _parse(match.group("day"), local_now, prefer="future")
    if upcoming is None:
        return DayMention(text, vague=True)
    ahead = (weekday - today.weekday()) % 7
    if prefix in ("", "on"):
        mention = bare_weekday(upcoming, today, text)
    elif prefix == "this":
        mention = DayMention(text, day=today + timedelta(days=ahead), weekday=weekday, weekday_only=True)
    elif prefix == "next" and weekday > today.weekday():  # later this week: this one or next week's?
        first = today + timedelta(days=ahead)
        mention = DayMention(
            text, candidates=(first, first + timedelta(days=7)), weekday=weekday, weekday_only=True
        )
    else:  # "next X" where X is today's weekday or passed, "coming X": the same day either way
        mention = DayMention(text, day=today + timedelta(days=ahead or 7), weekday=weekday, weekday_only=True)
    day_of_month = match.group("dom1") or match.group("dom2")
    if (
        day_of_month
        and match.group("month")
        and not real_date(None, _month_number(match.group("month")), int(day_of_month), today)
    ):
        problems.append(Problem(NO_SUCH_DATE, "date", text))
        return DayMention(text, vague=True)
    if day_of_month and match.group("month"):  # "monday 7th december": the date, checked by the weekday
        day = _parse(f"{day_of_month} {match.group('month')}", local_now)
        if day is not None:
            dated = yearless(day, today, text, problems)
            if dated.day is not None and dated.day.weekday() != weekday:
                problems.append(Problem("date_weekday_mismatch", "date", text))
                return DayMention(text, candidates=(dated.day, mention.day or upcoming))
            return dated
    if day_of_month:
        start = mention.day or mention.candidates[0] if (mention.day or mention.candidates) else upcoming
        fitting = [start + timedelta(days=7 * week) for week in range(6)]
        found = next((d for d in fitting if d.day == int(day_of_month)), None)
        if found is None:
            problems.append(Problem("date_weekday_mismatch", "date", text))
            numbered = [today + timedelta(days=n) for n in range(62)]
            by_number = next((d for d in numbered if d.day == int(day_of_month)), None)
            return DayMention(text, candidates=tuple(d for d in (start, by_number) if d is not None))
        return DayMention(text, day=found, weekday=weekday)
    return mention


def _day(
    kind: str, match: re.Match[str], today: date, local_now: datetime, problems: list[Problem]
) -> DayMention | None:
    text = match.group(0)
    if kind == "recurring":
        problems.append(Problem("recurring", "date", text))
        return None
    if kind == "vague":
        return DayMention(text, vague=True)
    if kind == "weekday":
        return _weekday(match, today, local_now, problems)
    if _no_such_date(kind, text, today):
        problems.append(Problem(NO_SUCH_DATE, "date", text))
        return None
    phrase = text
    if kind == "from_today":  # dateparser reads "a week from today" as a week ago
        phrase = f"in {match.group('n')} {match.group('unit')}"
    day = _parse(re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", phrase), local_now)
    if day is None:
        return DayMention(text, vague=True)
    if kind == "numeric":
        return _numeric(text, day, today, local_now, problems)
    if kind == "month_day" and not re.search(r"\d{4}", text):
        return yearless(day, today, text, problems)
    return DayMention(text, day=day)


def _numeric(text: str, day: date, today: date, local_now: datetime, problems: list[Problem]) -> DayMention:
    """ "12/15" is 15 December; "3/12" is 12 March or 3 December: both are offered."""
    parts = text.split("/")
    has_year = len(parts) == 3
    mention = DayMention(text, day=day) if has_year else yearless(day, today, text, problems)
    first, second = int(parts[0]), int(parts[1])
    if first == second or first > 12 or second > 12:
        return mention
    swapped = _parse("/".join([parts[1], parts[0], *parts[2:]]), local_now)
    if swapped is None:
        return mention
    other = DayMention(text, day=swapped) if has_year else yearless(swapped, today, text, [])
    readings = tuple(d for d in (mention.day, other.day) if d is not None)
    return DayMention(text, candidates=readings) if len(readings) > 1 else mention


def _meridiem(ap: str | None) -> str | None:
    if not ap:
        return None
    return AM if ap.startswith("a") else PM


def _hour24(hour: int, ap: str) -> int:
    if ap == AM:
        return 0 if hour == 12 else hour
    return hour if hour == 12 else hour + 12


def _side(match: re.Match[str], p: str) -> tuple[int, int, str | None, bool]:
    """Hour, minute, am/pm, and whether the hour is certainly a clock time (colon, am/pm)."""
    if match.group(f"{p}noon"):
        return 12, 0, NOON, True
    hour, minute = int(match.group(f"{p}h")), int(match.group(f"{p}m") or 0)
    ap = _meridiem(match.group(f"{p}ap"))
    sure = bool(ap or match.group(f"{p}m") or match.group(f"{p}oc"))
    return hour, minute, ap, sure


# A range with am/pm on one side only may cross noon: from a morning hour to an afternoon end
# ("9-1pm"), or to an afternoon office hour ("10am-2"). 7 is a morning start only here, where
# the pm end rules out 7pm.
MORNING_STARTS = (7, 11)
AFTERNOON_ENDS = (1, 6)


def _range(match: re.Match[str], period: str | None) -> Slot | None:
    ha, ma, apa, _ = _side(match, "a")
    hb, mb, apb, _ = _side(match, "b")
    if apa == NOON:
        apa, ha = PM, 12
    if apb == NOON:
        apb, hb = PM, 12
    start: ClockReading | None
    end: ClockReading | None
    if apa in (AM, PM) and apb in (AM, PM):
        start, end = clock(_hour24(ha, apa), ma, H24), clock(_hour24(hb, apb), mb, H24)
    elif apb in (AM, PM) and ha <= 12:
        # the start takes the end's am/pm ("2-4pm"), or crosses noon from a morning hour
        # ("11-1pm", "9-1pm"); otherwise ("4-2pm") the start stays after the end and
        # ``moments`` asks (end_before_start) rather than guess 04:00
        end_hour = _hour24(hb, apb)
        same = _hour24(ha, apb)
        crosses_noon = apb == PM and MORNING_STARTS[0] <= ha <= MORNING_STARTS[1]
        start_hour = ha if (same, ma) >= (end_hour, mb) and crosses_noon else same
        start, end = clock(start_hour, ma, H24), clock(end_hour, mb, H24)
    elif apa in (AM, PM) and hb <= 12:
        # the end takes the start's am/pm ("2pm-4"), or crosses noon to an afternoon office
        # hour ("10am-2", "11am-12"); otherwise ("10am-9") it stays before the start: asked
        start_hour = _hour24(ha, apa)
        same = _hour24(hb, apa)
        crosses_noon = apa == AM and (hb == 12 or AFTERNOON_ENDS[0] <= hb <= AFTERNOON_ENDS[1])
        end_hour = _hour24(hb, PM) if (same, mb) <= (start_hour, ma) and crosses_noon else same
        start, end = clock(start_hour, ma, H24), clock(end_hour, mb, H24)
    else:
        start = clock(ha, ma, period)
        end = end_clock(hb, mb, period, period)
    if start is None or end is None:
        return None
    return Slot(match.group(0).strip(), start, end)


def _single(match: re.Match[str], period: str | None) -> ClockReading | None:
    hour, minute, ap, _ = _side(match, "a")
    if ap == NOON:
        return clock(12, 0, H24)
    if ap is not None:
        if hour > 12:
            return None
        return clock(_hour24(hour, ap), minute, H24)
    return clock(hour, minute, period)


def read(text: str, local_now: datetime) -> TimeFindings:
    """What the (normalised, masked) English text says about dates and times."""
    findings = TimeFindings()
    today = local_now.date()
    text = fix_words(text)
    for kind, shape in _DATE_SHAPES:
        for match in shape.finditer(text):
            mention = _day(kind, match, today, local_now, findings.problems)
            if mention is not None:
                findings.days.append(mention)
            text = mask(text, match.start(), match.end())
    text = _INTERVAL.sub(lambda m: " " * len(m.group(0)), text)  # "refill every 20 minutes"
    for pattern, minutes in _DURATIONS:
        for match in pattern.finditer(text):
            if minutes > 0:
                findings.durations.append(timedelta(minutes=minutes))
            else:
                number = match.group("n")
                value = float(number) if re.fullmatch(r"\d+(?:\.\d+)?", number) else en_number(number)
                if value is None:
                    continue
                if minutes == 0:
                    value = value * 60 + (30 if match.group("half") else 0)
                findings.durations.append(timedelta(minutes=round(value)))
            text = mask(text, match.start(), match.end())
    periods = {_PERIOD_OF[w] for w in _PERIOD_WORDS.findall(text)}
    period = next(iter(periods)) if len(periods) == 1 else None
    for match in _RANGE.finditer(text):
        if _NOT_TIME_AFTER.match(text[match.end() :]):
            continue
        sure = _side(match, "a")[3] or _side(match, "b")[3]
        if match.group("sep") == "and" and not match.group("lead"):
            continue
        if (
            not sure
            and not match.group("lead")
            and re.search(r"\b(?:for|of|room|hall|no\.?)\s?$", text[: match.start()])
        ):
            continue
        slot = _range(match, period)
        if slot is None:
            findings.problems.append(Problem("bad_time", "start", match.group(0)))
        else:
            findings.slots.append(slot)
        text = mask(text, match.start(), match.end())
    for match in _END.finditer(text):
        reading = _single(match, period)
        if reading is not None:
            findings.ends.append(reading)
            text = mask(text, match.start(), match.end())
    for pattern, needs_sure in ((_START, False), (_CLOCK, True)):
        for match in pattern.finditer(text):
            if needs_sure and not _side(match, "a")[3]:
                continue
            if _NOT_TIME_AFTER.match(text[match.end() :]):
                continue
            reading = _single(match, period)
            if reading is None:
                findings.problems.append(Problem("bad_time", "start", match.group(0)))
            else:
                findings.slots.append(Slot(match.group(0).strip(), reading))
            text = mask(text, match.start(), match.end())
    return findings
