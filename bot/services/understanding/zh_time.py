"""Chinese dates and times, read by JioNLP (``jionlp.ner.extract_time``), with its quirks fixed.

jionlp finds the time expressions in the text and resolves the dates against ``time_base``
(now, in the site's zone). What it gets wrong, and what is done about it (each has a case in
tests/unit/understanding_cases.py):

1. An end without its own 上午/下午 loses the start's: 「下午两点到四点」 ends at 04:00 (and
   「下午2点开始4点结束」 too). The end's clock is read here from the text after the connector
   and takes the start's afternoon → 16:00.
2. A bare hour is read as written: 「两点到四点」 is 02:00–04:00. Office hours apply instead
   (see ``moments``).
3. 「十一点」 after another time reads as the 十一 holiday (1 October): 「九点半至十一点半」
   ends on 2026-10-01. Chinese numerals before 点/号/人/… are turned into digits first
   (``text.normalise``).
4. A number right after a time joins it: 「3点 4个话筒」 ends at 15:04. Rooms, counts and
   service numbers are blanked out before jionlp reads the text.
5. The end of a span is sometimes the last second of its unit: 「9:00-11:00」 ends at
   11:00:59, 「…11点 203会议厅」 at 11:59:59. Only the end's own clock is used.
6. 「明早」「明晚」「今晚」 are not known (「明早9点」 is today 09:00); they are spelled out
   first (「明天早上」).
7. 「8点半到10点」 and 「9点，11点结束」 come back as two separate points, the second one
   dated today. Points joined by 到/至/- are rejoined here; a point followed by 结束/散会 is
   the end; a clock without a date word never carries a date.
8. A time with no date word is dated today (「下午2点」); that date is not used.
9. A weekday alone is this week's, even when it has passed (「周一」 on a Tuesday is
   yesterday); it becomes the next such day. A month and day without a year is this year's,
   even when it has passed (「1月5日」 in December); it becomes next year's (``moments``).
10. A weekday that contradicts the date is ignored (「12月4日（周四）」 is 4 December, a
   Friday): it is checked here and reported.
11. 「12.3」 is not a date to jionlp; nor to this reader (asked, never guessed).
12. After an ASCII comma the date before it is lost: 「明天,3点到5点」 is today 03:00–05:00.
   Commas are given back their full-width form before jionlp reads the text.
13. 「早一点」「晚一点」 (a little earlier/later) are 01:00. They are blanked out (and never
   turned into 「早1点」).
14. An interval is a duration or a series: 「每隔1小时续水」 is a 1-hour meeting,
   「茶水每半小时续一次」 turns the whole request into a recurring time. Intervals (每…小时/
   分钟) are blanked out; the tea refill detail reads them (``entities``).
15. 「下周末」「这周末」 is the Sunday alone; a weekend is not one date (asked).
16. A day that does not exist becomes another one: 「2026年2月30日」 and 「4月31日」 are 30 and
   31 December (「2月29日」 in a year without one is 29 December), 「2026-13-01」 is the whole
   of 2026. Such dates are found here first, reported (``no_such_date``) and blanked out, so
   the date is asked.
17. An open span ends at "inf" (「明天以后」「明天后天都可以」「下午2点以后」), which is no date:
   such a span is read as no date and no time (asked).

Only jionlp's time extractor is loaded (``jionlp_time``: about 0.4 s and 18 MB, where the
whole library takes 1.5 s and 44 MB), once, lazily, with the banner it prints swallowed
(``warm_up`` does it ahead of time).
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import date, datetime, timedelta
from typing import Any

from .jionlp_time import time_extractor
from .moments import (
    AM,
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

log = logging.getLogger(__name__)

# jionlp's extractor keeps each call's state (time base, options) on one shared object: one call
# at a time, or a request read while start's warm-up thread reads its phrase loses its dates
_call_lock = threading.Lock()


_PERIODS = {
    "凌晨": AM,
    "清晨": AM,
    "早晨": AM,
    "早上": AM,
    "上午": AM,
    "早": AM,
    "上半天": AM,
    "中午": NOON,
    "午间": NOON,
    "下午": PM,
    "午后": PM,
    "傍晚": PM,
    "晚上": PM,
    "夜里": PM,
    "夜间": PM,
    "晚": PM,
    "下半天": PM,
}
_PERIOD = "|".join(sorted(_PERIODS, key=len, reverse=True))
_CLOCK = re.compile(
    rf"(?P<mark>{_PERIOD})?\s*(?P<h>\d{{1,2}})\s*(?:[:：](?P<m>\d{{2}})|[点时](?:(?P<half>半)|(?P<q>1刻|3刻)"
    r"|(?P<m2>\d{1,2})分?)?)(?!\d)"
)
_ANY_PERIOD = re.compile(_PERIOD)
_DATE_WORD = re.compile(r"今天|明天|后天|昨天|前天|周|星期|礼拜|月|日|号|年")
_WEEKDAY = re.compile(r"(下下|下个|下|这个|这|本|上|上个)?(?:周|星期|礼拜)([一二三四五六日天1-7])")
_WEEKDAY_INDEX = {
    "一": 0,
    "二": 1,
    "三": 2,
    "四": 3,
    "五": 4,
    "六": 5,
    "日": 6,
    "天": 6,
    "1": 0,
    "2": 1,
    "3": 2,
    "4": 3,
    "5": 4,
    "6": 5,
    "7": 6,
}
_CONNECTOR = re.compile(r"^\s*(?:开始)?\s*(?:开)?\s*(?:一直)?(?:到|至|~|-|—|–|～)\s*$")
_CONNECTOR_IN = re.compile(r"开始|开到|一直到|直到|到|至|~|～|—|–|-")
_ENDS_AFTER = re.compile(r"^\s*(?:左右)?\s*(?:结束|散会|为止|止|完)")
_YEAR = re.compile(r"年|\d{4}")
_IDIOMS = re.compile(
    r"[早晚快慢差多少有提]一点儿?|一点点"
    r"|每隔?\s*(?:\d+|半|一|两|几)?\s*个?\s*(?:半)?\s*(?:小时|钟头|分钟|分)(?:左右)?"
)


# A date written with numbers: 「2026年2月30日」「2月30号」「2026-13-01」「2026.2.30」.
_NUMBERED_DATE = re.compile(
    r"(?<!\d)(?:(?P<year>\d{4}|\d{2})\s*年\s*)?(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})"
    r"(?:\s*[日号]|(?![\d点时:：.分个人位名]))"
    r"|(?<![\d.])(?P<year2>\d{4})\s*[-/.]\s*(?P<month2>\d{1,2})\s*[-/.]\s*(?P<day2>\d{1,2})(?![\d.])"
)


def _drop_impossible_dates(text: str, today: date, problems: list[Problem]) -> str:
    """Quirk 16: a day that does not exist is reported and blanked out, never read."""

    def check(match: re.Match[str]) -> str:
        year = match.group("year") or match.group("year2")
        month = int(match.group("month") or match.group("month2"))
        day = int(match.group("day") or match.group("day2"))
        full_year = None if year is None else int(year) + (2000 if len(year) == 2 else 0)
        if real_date(full_year, month, day, today):
            return match.group(0)
        problems.append(Problem(NO_SUCH_DATE, "date", match.group(0).strip()))
        return " " * len(match.group(0))

    return _NUMBERED_DATE.sub(check, text)


def _period_of(mark: str | None) -> str | None:
    return _PERIODS.get(mark) if mark else None


def _reading(match: re.Match[str], inherited: str | None) -> tuple[int, int, str | None]:
    hour = int(match.group("h"))
    if match.group("m") is not None:
        minute = int(match.group("m"))
    elif match.group("half"):
        minute = 30
    elif match.group("q"):
        minute = 15 if match.group("q").startswith("1") else 45
    else:
        minute = int(match.group("m2") or 0)
    return hour, minute, _period_of(match.group("mark")) or inherited


def _parse_day(text: str) -> date | None:
    try:
        return datetime.strptime(text[:10], "%Y-%m-%d").date()
    except ValueError:  # quirk 17: an open span ends at "inf"
        return None


def _day_mention(text: str, day: date, today: date, problems: list[Problem]) -> DayMention:
    weekday = _WEEKDAY.search(text)
    only_weekday = weekday is not None and not re.search(
        r"今天|明天|后天|月|日|号|年", text.replace(weekday.group(0), "")
    )
    if weekday is not None and only_weekday and weekday.group(1) is None:
        return bare_weekday(day, today, text)
    mention = DayMention(text, day=day)
    if weekday is not None and not only_weekday:
        named = _WEEKDAY_INDEX[weekday.group(2)]
        if named != day.weekday():  # 「12月3日（周五）」: the 3rd, or that week's Friday?
            problems.append(Problem("date_weekday_mismatch", "date", text))
            return DayMention(text, candidates=(day, day + timedelta(days=named - day.weekday())))
    if re.search(r"月|号|日", text) and not _YEAR.search(text) and not weekday:
        return yearless(day, today, text, problems)
    return mention


class _Unit:
    """One time expression: jionlp's entity, or two of them joined by 到."""

    def __init__(self, kind: str, text: str, detail: dict[str, Any], right: str = "") -> None:
        self.kind, self.text, self.detail, self.right = kind, text, detail, right


def _units(text: str, entities: list[dict[str, Any]]) -> list[_Unit]:
    units: list[_Unit] = []
    index = 0
    entities = sorted(entities, key=lambda e: e["offset"][0])
    while index < len(entities):
        entity = entities[index]
        kind, detail = entity["type"], entity["detail"]
        nxt = entities[index + 1] if index + 1 < len(entities) else None
        if (
            nxt is not None
            and kind == "time_point"
            and nxt["type"] == "time_point"
            and _CONNECTOR.match(text[entity["offset"][1] : nxt["offset"][0]])
            and _CLOCK.search(nxt["text"])
            and not _DATE_WORD.search(nxt["text"])
        ):
            joined = text[entity["offset"][0] : nxt["offset"][1]]
            units.append(_Unit("joined", joined, detail, right=nxt["text"]))
            index += 2
            continue
        unit = _Unit(kind, entity["text"], detail)
        if kind == "time_point" and _ENDS_AFTER.match(text[entity["offset"][1] :]):
            unit.kind = "end"
        units.append(unit)
        index += 1
    return units


def _split_span(text: str) -> tuple[str, str] | None:
    """The two sides of 「明天下午2点到4点」, at the connector that has a clock on each side."""
    for match in _CONNECTOR_IN.finditer(text):
        left, right = text[: match.start()], text[match.end() :]
        if _CLOCK.search(left) and _CLOCK.search(right):
            return left, right
    return None


def read(text: str, local_now: datetime) -> TimeFindings:
    """What the (normalised, masked) Chinese text says about dates and times."""
    findings = TimeFindings()
    # quirk 12: after an ASCII comma the date before it is lost ("明天,3点到5点" is today)
    text = text.replace(",", "，").replace(";", "；")
    # quirks 13 and 14: "早一点" (a little earlier) is 01:00; "每隔1小时" (a tea refill
    # interval) is the meeting's length, or turns the whole time into a series
    text = _IDIOMS.sub(lambda m: " " * len(m.group(0)), text)
    # quirk 16: 「2月30日」 is 30 December
    text = _drop_impossible_dates(text, local_now.date(), findings.problems)
    try:
        with _call_lock:
            entities = time_extractor()(text, time_base=local_now, with_parsing=True)
    except Exception:  # jionlp raises on some odd inputs; nothing is read then
        log.warning("jionlp could not read %r", text, exc_info=True)
        return findings
    today = local_now.date()
    marks = {_PERIODS[m] for m in _ANY_PERIOD.findall(text)}
    overall = next(iter(marks)) if len(marks) == 1 else None  # "明天下午，2点到4点"
    for unit in _units(text, entities):
        if unit.kind == "time_delta":
            hours = (
                float(unit.detail["time"].get("hour", 0)) + float(unit.detail["time"].get("minute", 0)) / 60
            )
            if set(unit.detail["time"]) <= {"hour", "minute"} and hours > 0:
                findings.durations.append(timedelta(minutes=round(hours * 60)))
            continue
        if unit.kind == "time_period":
            findings.problems.append(Problem("recurring", "date", unit.text))
            continue
        if unit.kind not in ("time_point", "time_span", "joined", "end"):
            continue
        _read_unit(unit, findings, today, overall)
    return findings


def _read_unit(unit: _Unit, findings: TimeFindings, today: date, overall: str | None) -> None:
    times = unit.detail.get("time")
    if not isinstance(times, list) or not times:
        return
    first, last = _parse_day(times[0]), _parse_day(times[-1])
    if first is None or last is None:  # quirk 17: 「明天以后」「下午2点以后」 is no date nor time
        findings.days.append(DayMention(unit.text, vague=True))
        return
    if unit.kind == "joined":
        left, right = unit.text[: len(unit.text) - len(unit.right)], unit.right
    elif unit.kind == "time_span":
        sides = _split_span(unit.text)
        if sides is None:
            if first != last and unit.detail.get("definition") != "blur":
                findings.problems.append(Problem("several_days", "date", unit.text))
            elif first == last and _DATE_WORD.search(unit.text):
                findings.days.append(_day_mention(unit.text, first, today, findings.problems))
            return
        left, right = sides
    else:
        left, right = unit.text, ""
    if _DATE_WORD.search(left):
        if (unit.detail.get("definition") == "blur" and first != last) or "周末" in left:
            findings.days.append(DayMention(unit.text, vague=True))  # 下周, 下个月
        else:
            findings.days.append(_day_mention(left, first, today, findings.problems))
    start_match = _CLOCK.search(left)
    if start_match is None:
        return
    hour, minute, period = _reading(start_match, None)
    start = clock(hour, minute, period or overall)
    if start is None:
        findings.problems.append(Problem("bad_time", "start", unit.text))
        return
    if unit.kind == "end" and not _DATE_WORD.search(left):
        findings.ends.append(start)
        return
    end: ClockReading | None = None
    if right:
        end_match = list(_CLOCK.finditer(right))[-1]
        end_hour, end_minute, end_period = _reading(end_match, None)
        end = end_clock(
            end_hour, end_minute, end_period or (overall if not period else None), period or overall
        )
        if end is None:
            findings.problems.append(Problem("bad_time", "end", unit.text))
            return
    findings.slots.append(Slot(unit.text, start, end))
