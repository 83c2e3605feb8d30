"""What people type in the booking dialog: times, dates, phone numbers, detail values.

Every parser raises ``BookingError`` with a code the bot layer turns into a message in the
person's language; nothing here knows about Telegram.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.services.booking import BookingError
from bot.services.strict import has_foreign_digits, parse_count, parse_id

_WIDE = str.maketrans("０１２３４５６７８９：．／－＋（）　", "0123456789:./-+() ")
MAX_TYPED = 64  # a time, date or phone number never needs more


def _normalise(text: str) -> str:
    return text.translate(_WIDE).strip().lower()


_AFTERNOON = ("下午", "晚上", "pm", "p.m.")
_MORNING = ("上午", "早上", "am", "a.m.")


def parse_time(text: str) -> time:
    """ "9", "9:00", "09.30", "0930", "14:30", "9点", "9点半", "2pm", "下午2点" → a time of day."""
    cleaned = _normalise(text)
    if not cleaned or len(cleaned) > MAX_TYPED:
        raise BookingError("bad_time")
    afternoon = any(word in cleaned for word in _AFTERNOON)
    morning = any(word in cleaned for word in _MORNING)
    for word in (*_AFTERNOON, *_MORNING):
        cleaned = cleaned.replace(word, "")
    cleaned = cleaned.replace("点半", ":30").replace("點半", ":30").replace("时半", ":30")
    cleaned = re.sub(r"[点點时時h]", ":", cleaned)
    cleaned = cleaned.replace("分", "").replace(".", ":").replace(" ", "").rstrip(":")
    match = re.fullmatch(r"([0-9]{1,2})(?::([0-9]{1,2}))?", cleaned) or re.fullmatch(
        r"([0-9]{1,2})([0-9]{2})", cleaned
    )
    if match is None:
        raise BookingError("bad_time")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)  # [0-9] only: int() reads them exactly
    if match.group(2) is not None and len(match.group(2)) == 1:
        raise BookingError("bad_time")  # "9:3" is more likely a typo than 09:03
    if afternoon and 1 <= hour < 12:
        hour += 12
    if morning and hour == 12:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise BookingError("bad_time")
    return time(hour, minute)


_DATE_WORDS = {
    "today": 0,
    "今天": 0,
    "tomorrow": 1,
    "明天": 1,
    "后天": 2,
    "day after tomorrow": 2,
}


def parse_date(text: str, today: date) -> date:
    """ "2026-12-03", "2026/12/3", "12-3", "12/3", "12月3日", "2026年12月3日", "明天" → a date.

    A date without a year is the next such date from ``today`` on. A day that does not exist
    ("2/30", "2026-04-31"; "2/29" when the next February has no 29th) is refused, never moved
    to another month or year.
    """
    cleaned = _normalise(text)
    if not cleaned or len(cleaned) > MAX_TYPED:
        raise BookingError("bad_date")
    if cleaned in _DATE_WORDS:
        return today + timedelta(days=_DATE_WORDS[cleaned])
    cleaned = re.sub(r"[年月.\-/]", "-", cleaned).replace("日", "").replace("号", "").replace(" ", "")
    parts = [part for part in cleaned.split("-") if part]
    numbers = [number for number in (parse_id(part, 4) for part in parts) if number is not None]
    if len(numbers) != len(parts) or len(parts) not in (2, 3):
        raise BookingError("bad_date")
    if len(numbers) == 3:
        year, month, day = numbers
        if year < 100:
            year += 2000
        return _make_date(year, month, day)
    month, day = numbers
    year = today.year if (month, day) >= (today.month, today.day) else today.year + 1
    return _make_date(year, month, day)


def _make_date(year: int, month: int, day: int) -> date:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise BookingError("bad_date")
    try:
        return date(year, month, day)
    except ValueError:
        raise BookingError("no_such_date", day=day, month=month) from None


_PHONE = re.compile(r"\+?[0-9(][0-9 ()\-]{2,30}(?:\s*(?:ext\.?|x|转|分机)\s*[0-9]{1,6})?")


def parse_phone(text: str) -> str:
    cleaned = " ".join(_normalise(text).split())
    if len(cleaned) > MAX_TYPED or not _PHONE.fullmatch(cleaned):
        raise BookingError("bad_phone")
    digits = sum("0" <= ch <= "9" for ch in cleaned)
    if digits < 3 or digits > 24:
        raise BookingError("bad_phone")
    return cleaned


def parse_number(text: str, minimum: int | None, maximum: int | None) -> int:
    value = parse_count(text, max_digits=6)
    if value is None:
        raise BookingError("digits_only" if has_foreign_digits(text) else "bad_number")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise BookingError("number_out_of_range", minimum=minimum, maximum=maximum)
    return value


def local_to_utc(zone: ZoneInfo, day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


def local_today(zone: ZoneInfo, now: datetime) -> date:
    return now.astimezone(zone).date()
