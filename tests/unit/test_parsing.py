"""What people type in the booking dialog: times, dates, phone numbers, numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.services.booking import BookingError
from bot.services.parsing import (
    local_to_utc,
    local_today,
    parse_date,
    parse_number,
    parse_phone,
    parse_time,
)

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9:00", time(9, 0)),
        ("09:00", time(9, 0)),
        ("14:30", time(14, 30)),
        ("0930", time(9, 30)),
        ("930", time(9, 30)),
        ("9", time(9, 0)),
        ("9.30", time(9, 30)),
        ("９：３０", time(9, 30)),
        ("9点", time(9, 0)),
        ("9点半", time(9, 30)),
        ("下午2点", time(14, 0)),
        ("2pm", time(14, 0)),
        ("2:30 PM", time(14, 30)),
        ("14h30", time(14, 30)),
        (" 16:00 ", time(16, 0)),
        ("0:00", time(0, 0)),
        ("23:59", time(23, 59)),
    ],
)
def test_times(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "25:00", "9:60", "24:00", "9:3", "abc", "<b>9</b>", "😀", "12345", "9:00:00", "1" * 5000, "-9"],
)
def test_bad_times(text: str) -> None:
    with pytest.raises(BookingError) as caught:
        parse_time(text)
    assert caught.value.code == "bad_time"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-03", date(2026, 12, 3)),
        ("2026/12/3", date(2026, 12, 3)),
        ("2026年12月3日", date(2026, 12, 3)),
        ("12-3", date(2026, 12, 3)),
        ("12月3日", date(2026, 12, 3)),
        ("12/3", date(2026, 12, 3)),
        ("1/5", date(2027, 1, 5)),  # no year: the next such day
        ("11/30", date(2027, 11, 30)),
        ("today", TODAY),
        ("明天", date(2026, 12, 2)),
        ("26-12-04", date(2026, 12, 4)),
    ],
)
def test_dates(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2027-02-30", "no_such_date"),
        ("2/30", "no_such_date"),
        ("2026年2月30日", "no_such_date"),
        ("4月31日", "no_such_date"),
        ("2027-04-31", "no_such_date"),
        ("2/29", "no_such_date"),  # the next February, 2027's, has no 29th: never 2028's
        ("30 February", "bad_date"),
        ("Feb 30", "bad_date"),
        ("13/1", "bad_date"),
        ("2026-13-01", "bad_date"),
        ("next week", "bad_date"),
        ("", "bad_date"),
        ("<script>", "bad_date"),
        ("12", "bad_date"),
    ],
)
def test_bad_dates(text: str, code: str) -> None:
    with pytest.raises(BookingError) as caught:
        parse_date(text, TODAY)
    assert caught.value.code == code


def test_29_february_without_a_year_is_the_next_february_s() -> None:
    assert parse_date("2/29", date(2027, 3, 1)) == date(2028, 2, 29)
    assert parse_date("2月29日", date(2028, 1, 10)) == date(2028, 2, 29)


def test_a_past_date_is_parsed_and_left_to_the_rules() -> None:
    assert parse_date("2026-11-30", TODAY) == date(2026, 11, 30)


@pytest.mark.parametrize(
    "text",
    [
        "010-6512 3456",
        "+86 138 0000 0000",
        "13800000000",
        "(010) 6512-3456",
        "8123 转 456",
        "６５１２３４５６",
    ],
)
def test_phones(text: str) -> None:
    assert parse_phone(text)


@pytest.mark.parametrize("text", ["", "abc", "12", "<b>123456</b>", "1" * 40, "call me", "😀😀😀"])
def test_bad_phones(text: str) -> None:
    with pytest.raises(BookingError):
        parse_phone(text)


def test_numbers() -> None:
    assert parse_number("4", 1, 60) == 4
    for bad in ("0", "61", "x", "-1", ""):
        with pytest.raises(BookingError):
            parse_number(bad, 1, 60)


def test_local_time_to_utc_and_back() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    moment = local_to_utc(zone, date(2026, 12, 3), time(14, 30))
    assert moment == datetime(2026, 12, 3, 6, 30, tzinfo=UTC)
    assert local_today(zone, datetime(2026, 12, 1, 17, 0, tzinfo=UTC)) == date(2026, 12, 2)
