"""A booking that repeats: 「每周一」「隔周三」「每月第一个周一」「每个工作日」, "every Monday",
"every other Friday", "the first Monday of each month", "every working day", and how the
series ends: 「到3月」「至2027年3月31日」「共10次」, "until March", "until 31 March",
"for 10 weeks", "10 times".

``read`` runs on the normalised text before anything else reads it and blanks out what it
recognises, so the time readers never take 「周一」 in 「每周一」 for one date or "until March"
for an end time. ``apply`` runs after the dates and times are resolved: the first meeting
is the date said, or else the next day the rule gives (today only when the time said is
still ahead); the rule's end is read against it.

Only the frequencies a series can have are read here; anything else that repeats ("every
day", 「每天」) is left to the time readers, which report it as ``recurring``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services.recurrence import Frequency, RecurrenceRule
from bot.site import SiteConfig

from .moments import place
from .result import Confidence, Problem, Understanding
from .text import EN_NUMBER, MONTH_NAME, cn_number, en_number, mask

_ZH_DAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_ZH_DAY.update({str(n): n - 1 for n in range(1, 8)})


def _zh_weekday(group: str) -> str:
    return rf"(?:周|星期|礼拜)\s*(?P<{group}>[一二三四五六日天1-7])(?!\s*次)"


_ZH_NTH = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5}
_CN_COUNT = r"[\d零〇一二两三四五六七八九十百]{1,5}"

_EN_DAYS = (
    r"mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?"
    r"|sun(?:day)?"
)


def _en_day(group: str, plural: str = "?") -> str:
    """A weekday in group ``group``; ``plural`` "" makes the s required ("on Mondays")."""
    return rf"(?P<{group}>{_EN_DAYS})s{plural}"


_EN_DAY_PREFIX = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EN_NTH = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "last": 5,
}
_EN_NTH_WORDS = "|".join(_EN_NTH)
_MONTHS = {name: index for index, name in enumerate(calendar.month_abbr) if name}

# (frequency, pattern): the weekday is group "day", the week of the month group "nth".
_FREQUENCIES: list[tuple[Frequency, re.Pattern[str]]] = [
    (
        Frequency.MONTHLY_WEEKDAY,
        re.compile(
            r"每\s*个?\s*月\s*的?\s*(?:第\s*(?P<nth>[1-5一二三四五])\s*个?|(?P<last>最后\s*[1一]?\s*个?))\s*"
            + _zh_weekday("day")
        ),
    ),
    (
        Frequency.MONTHLY_WEEKDAY,
        # "monthly on the first Monday", "every first Monday", "the first Monday of each month";
        # not "the first Monday of December" (one date)
        re.compile(
            rf"\b(?:monthly\s+on|every)\s+(?:the\s+)?(?P<nth>{_EN_NTH_WORDS})\s+"
            + _en_day("day")
            + r"\b(?:\s+of\s+(?:each|every|the)\s+month\b)?"
            + rf"|(?:\bon\s+)?(?:the\s+)?\b(?P<nth2>{_EN_NTH_WORDS})\s+"
            + _en_day("day2")
            + r"(?:\s+(?:of|in)\s+(?:each|every)\s+month|\s+(?:each|every)\s+month|\s+monthly)\b"
        ),
    ),
    (
        Frequency.BIWEEKLY,
        re.compile(
            # 「隔周三」 names the day after 周 directly; 「每两周一次」 is no Monday
            r"(?:隔\s*周|每\s*隔\s*[1一]\s*周|每\s*[2两二]\s*周|双\s*周)\s*的?\s*(?:"
            + _zh_weekday("day")
            + r"|(?P<day2>[一二三四五六日天])(?!\s*次))?(?:\s*[1一]\s*次)?"
        ),
    ),
    (
        Frequency.BIWEEKLY,
        re.compile(
            r"\bevery\s+(?:other|second|2nd|alternate)\s+(?:week\s+on\s+)?"
            + _en_day("day")
            + r"\b|\b(?:every\s+(?:two|2)\s+weeks|fortnightly|bi-?weekly)(?:\s+on\s+"
            + _en_day("day2")
            + r")?\b"
        ),
    ),
    (
        Frequency.WORKDAYS,
        re.compile(
            r"每\s*(?:个|一个)?\s*工作日(?:\s*每天)?|工作日\s*每\s*天|\b(?:every|each)\s+(?:working|work|business|week)\s*"
            r"day\b|\bon\s+(?:all\s+)?(?:working|work|business)\s*days\b"
        ),
    ),
    (
        Frequency.WEEKLY,
        re.compile(
            r"每\s*(?:个|一个)?\s*"
            + _zh_weekday("day")
            + r"|每\s*(?:个|一个)?\s*(?:周|星期|礼拜)(?:\s*[1一]\s*次|(?![末日天一二三四五六1-7]))"
        ),
    ),
    (
        Frequency.WEEKLY,
        re.compile(
            r"\b(?:every|each)\s+"
            + _en_day("day")
            + r"\b|\b(?:weekly|every\s+week)(?:\s+on\s+"
            + _en_day("day2")
            + r")?\b|\bon\s+"
            + _en_day("day3", "")
            + r"\b"
        ),
    ),
]

# How the series ends. The date patterns yield (year, month, day); a month alone is its end.
_ZH_UNTIL = re.compile(
    r"(?:一直到|直到|截止到?|截至|到|至)\s*(?:(?P<year>\d{4})\s*年\s*)?(?P<month>\d{1,2})\s*月\s*"
    r"(?:(?P<day>\d{1,2})\s*[日号]|底|末|份)?\s*(?:为止|止|结束)?"
    r"|(?:一直到|直到|截止到?|截至|到|至)\s*(?P<iso>\d{4}-\d{1,2}-\d{1,2})\s*(?:为止|止|结束)?"
)
_EN_UNTIL_WORD = r"\b(?:until|till|til|through|thru|ending(?:\s+on)?|ends?\s+(?:on|in))\s+"
_EN_UNTIL = re.compile(
    _EN_UNTIL_WORD
    + r"(?:the\s+)?(?:end\s+of\s+)?(?:"
    + rf"(?P<day1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month1>{MONTH_NAME})\.?"
    + r"(?:,?\s+(?P<year1>\d{4}))?"
    + rf"|(?P<month2>{MONTH_NAME})\.?\s+(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?(?![\d:])"
    + r"(?:,?\s+(?P<year2>\d{4}))?"
    + rf"|(?P<month3>{MONTH_NAME})\.?(?:\s+(?P<year3>\d{{4}}))?"
    + r"|(?P<iso>\d{4}-\d{1,2}-\d{1,2})"
    + r")\b"
)
_ZH_COUNT = re.compile(rf"(?:一共|总共|共|重复|连续)?\s*(?P<n>{_CN_COUNT})\s*次")
_ZH_SPAN = re.compile(
    rf"(?:持续|为期|连续|共)\s*(?P<n>{_CN_COUNT})\s*(?P<unit>个?\s*(?:周|星期|礼拜)|个?\s*月)"
)
_EN_COUNT = re.compile(rf"\b(?:for\s+)?(?P<n>{EN_NUMBER})\s+(?:times|occurrences|meetings|sessions)\b")
_EN_SPAN = re.compile(rf"\bfor\s+(?:the\s+next\s+)?(?P<n>{EN_NUMBER})\s+(?P<unit>weeks?|months?)\b")


@dataclass
class RepeatMention:
    """What the text says about a series; dates are the site's local dates."""

    frequency: Frequency
    text: str
    weekday: int | None = None  # Monday 0
    nth: int | None = None  # monthly: the week of the month, 1–4, 5 = the last
    until: date | None = None
    count: int | None = None
    weeks: int | None = None  # "for 10 weeks"
    months: int | None = None  # 「为期3个月」
    unreadable: bool = False  # an end that names no real day (「到2月30日」)


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else (cn_number(text) or en_number(text))


def _en_weekday(word: str | None) -> int | None:
    return None if word is None else _EN_DAY_PREFIX.index(word[:3])


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _until(year: int | None, month: int, day: int | None, today: date) -> date | None:
    """The last day a meeting may fall on: a month alone is its last day; without a year, the
    next such month or day from today."""
    if not 1 <= month <= 12:
        return None
    try:
        if year is not None:
            return date(year, month, day) if day else _month_end(year, month)
        if day is None:
            return _month_end(today.year if month >= today.month else today.year + 1, month)
        this_year = date(today.year, month, day)
        return this_year if this_year >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


def read(norm: str, today: date) -> tuple[str, RepeatMention | None]:
    """The series the (normalised) text asks for, and the text with it blanked out."""
    mention: RepeatMention | None = None
    for frequency, pattern in _FREQUENCIES:
        match = pattern.search(norm)
        if match is None:
            continue
        groups = match.groupdict()
        day = next((groups[k] for k in ("day", "day2", "day3") if groups.get(k)), None)
        weekday = _ZH_DAY.get(day) if day in _ZH_DAY else _en_weekday(day)
        nth = None
        if frequency is Frequency.MONTHLY_WEEKDAY:
            nth = 5 if groups.get("last") else None
            said = groups.get("nth") or groups.get("nth2") or ""
            nth = 5 if said == "last" else nth
            nth = nth or _ZH_NTH.get(said) or _EN_NTH.get(said)
        mention = RepeatMention(frequency, match.group(0).strip(), weekday=weekday, nth=nth)
        norm = mask(norm, match.start(), match.end())
        break
    if mention is None:
        return norm, None
    for pattern in (_ZH_UNTIL, _EN_UNTIL):
        match = pattern.search(norm)
        if match is None:
            continue
        g = match.groupdict()
        if g.get("iso"):
            year, month, day_text = (int(part) for part in g["iso"].split("-"))
            until = _until(year, month, day_text, today)
        elif pattern is _ZH_UNTIL:
            until = _until(
                int(g["year"]) if g["year"] else None,
                int(g["month"]),
                int(g["day"]) if g["day"] else None,
                today,
            )
        else:
            n = next(i for i in "123" if g[f"month{i}"])
            month = _MONTHS[g[f"month{n}"][:3].capitalize()]
            day_said = g.get(f"day{n}")
            year_said = g.get(f"year{n}")
            until = _until(
                int(year_said) if year_said else None, month, int(day_said) if day_said else None, today
            )
        mention.until = until
        mention.unreadable = until is None
        norm = mask(norm, match.start(), match.end())
        break
    for pattern in (_ZH_SPAN, _EN_SPAN):
        match = pattern.search(norm)
        if match is not None and (value := _number(match.group("n"))) is not None:
            if "月" in match.group("unit") or match.group("unit").startswith("month"):
                mention.months = value
            else:
                mention.weeks = value
            norm = mask(norm, match.start(), match.end())
            break
    for pattern in (_ZH_COUNT, _EN_COUNT):
        match = pattern.search(norm)
        if match is not None and (value := _number(match.group("n"))) is not None:
            mention.count = value
            norm = mask(norm, match.start(), match.end())
            break
    return norm, mention


def _fits(day: date, mention: RepeatMention, site: SiteConfig) -> bool:
    """Whether the rule can start on ``day``: its weekday, its week of the month, a working day."""
    if mention.frequency is Frequency.WORKDAYS:
        return site.digest.is_working_day(day)
    if mention.weekday is not None and day.weekday() != mention.weekday:
        return False
    if mention.nth is not None:
        if mention.nth == 5:
            return (day + timedelta(days=7)).month != day.month
        return (day.day - 1) // 7 + 1 == mention.nth
    return True


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def apply(mention: RepeatMention, result: Understanding, site: SiteConfig, now: datetime) -> None:
    """Set the first meeting's date (when none was said) and the series' rule."""
    zone: ZoneInfo = site.zone
    today = now.astimezone(zone).date()
    if mention.unreadable:
        result.problems.append(Problem("no_such_date", "recurrence", mention.text))
    if result.date is not None:
        if not _fits(result.date, mention, site):
            result.problems.append(Problem("date_weekday_mismatch", "date", mention.text))
            return
    elif "date" not in result.ambiguous and (
        mention.weekday is not None or mention.frequency is Frequency.WORKDAYS
    ):
        for ahead in range(0, 400):
            day = today + timedelta(days=ahead)
            if not _fits(day, mention, site):
                continue
            if day == today and (
                result.start_time is None or datetime.combine(day, result.start_time, tzinfo=zone) <= now
            ):
                continue  # today only when the time said is still ahead
            result.date = day
            result.confidence["date"] = Confidence.stated
            place(result, zone, now)
            break
    first = result.date
    until = mention.until
    count = mention.count
    if mention.weeks is not None:
        if mention.frequency is Frequency.WEEKLY:
            count = count or mention.weeks
        elif first is not None:
            until = until or first + timedelta(days=7 * mention.weeks - 1)
    if mention.months is not None and first is not None:
        until = until or _add_months(first, mention.months) - timedelta(days=1)
    result.recurrence = RecurrenceRule(
        mention.frequency, until=until, count=count, last_of_month=mention.nth == 5
    )
    result.confidence["recurrence"] = Confidence.stated
