"""Strict reading: ids and numbers in ASCII digits only, and text without invisible characters."""

from __future__ import annotations

from datetime import date

import pytest

from bot.services.aftercare import AftercareError, parse_quantity, parse_score
from bot.services.booking import BookingError, parse_attendees
from bot.services.parsing import parse_date, parse_number, parse_time
from bot.services.people import shown_name
from bot.services.reports import WeekError, parse_week
from bot.services.strict import clean_text, has_foreign_digits, parse_count, parse_day, parse_id

SUPERSCRIPT_TWO = "\u00b2"  # ² : str.isdigit() says yes, int() says no
ARABIC_FIVE = "\u0665"  # ٥ : int() reads it as 5, \d matches it
FULL_WIDTH_TWELVE = "\uff11\uff12"  # １２ : what a Chinese input method types
FOREIGN_DIGITS = [
    SUPERSCRIPT_TWO,
    ARABIC_FIVE,
    "\u0663\u0660",  # ٣٠
    "\u06f5",  # Extended Arabic-Indic five
    "\u0967",  # Devanagari one
    "\u2460",  # ①
    "\U0001d7d9",  # mathematical double-struck one
    "1" + SUPERSCRIPT_TWO,
]
BIDI_AND_INVISIBLE = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u3164",  # Hangul filler: an "invisible name"
]


@pytest.mark.parametrize("text", ["0", "7", "42", "000123", "999999999999"])
def test_parse_id_reads_ascii_digits(text: str) -> None:
    assert parse_id(text) == int(text)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        " 1",
        "1 ",
        "+1",
        "-1",
        "1.0",
        "1e3",
        "0x1",
        "1_000",
        "9999999999999",
        FULL_WIDTH_TWELVE,
        *FOREIGN_DIGITS,
    ],
)
def test_parse_id_refuses_everything_else(text: str | None) -> None:
    assert parse_id(text) is None


def test_parse_id_bounds_the_length() -> None:
    assert parse_id("123", max_digits=3) == 123
    assert parse_id("1234", max_digits=3) is None


def test_parse_count_takes_full_width_digits_and_refuses_other_scripts() -> None:
    assert parse_count(FULL_WIDTH_TWELVE) == 12
    assert parse_count(" 12 ") == 12
    assert parse_count("-3") is None
    assert parse_count("-3", signed=True) == -3
    assert parse_count("\uff0d2", signed=True) == -2  # full-width minus
    assert parse_count("+4", signed=True) == 4
    assert parse_count("1234567") is None  # six digits unless told otherwise
    for text in FOREIGN_DIGITS:
        assert parse_count(text) is None, text
        assert parse_count(text, signed=True) is None, text


def test_foreign_digits_are_told_apart_from_words() -> None:
    for text in FOREIGN_DIGITS:
        assert has_foreign_digits(text), text
    for text in ("12", FULL_WIDTH_TWELVE, "twelve", "十二", ""):
        assert not has_foreign_digits(text), text


def test_parse_day() -> None:
    assert parse_day("2026-12-03") == date(2026, 12, 3)
    for text in (None, "", "2026-02-30", "2026-12-3", "20261203", f"2026-12-0{ARABIC_FIVE}", "2026-W49"):
        assert parse_day(text) is None, text


@pytest.mark.parametrize("invisible", BIDI_AND_INVISIBLE)
def test_clean_text_removes_bidi_and_zero_width_characters(invisible: str) -> None:
    assert clean_text(f"Ev{invisible}il{invisible}") == "Evil"
    assert clean_text(f"a{invisible}\nb", multiline=True) == "a\nb"


def test_clean_text_removes_control_characters() -> None:
    assert clean_text("a\x00b\x07c\x1b[31md\x7fe\x9bf") == "abc[31mdef"
    assert clean_text("a\tb") == "a b"


def test_clean_text_keeps_lines_only_where_asked() -> None:
    text = "  first\r\nsecond\rthird\u2028fourth\x85fifth  "
    assert clean_text(text, multiline=True) == "first\nsecond\nthird\nfourth\nfifth"
    assert clean_text(text) == "first second third fourth fifth"
    assert clean_text("a   b \n\n c") == "a b c"


def test_clean_text_keeps_what_people_write() -> None:
    for text in ("会议室 <b>&</b>", "Café ½ — “quotes”", "😀 🇨🇳", "Ünïcödé", "١٢ ٥"):
        assert clean_text(text) == text


def test_clean_text_cuts_to_the_limit() -> None:
    assert clean_text("\u202e" + "x" * 10, 4) == "xxxx"
    assert clean_text("\u200b" * 50) == ""


def test_a_telegram_name_is_stored_clean() -> None:
    assert shown_name("\u202eAdmin\u200b  Support\n") == "Admin Support"
    assert shown_name("x" * 500) == "x" * 128


@pytest.mark.parametrize("text", FOREIGN_DIGITS[:3])
def test_typed_numbers_refuse_foreign_digits_with_their_own_message(text: str) -> None:
    with pytest.raises(BookingError) as attendees:
        parse_attendees(text)
    with pytest.raises(BookingError) as refill:
        parse_number(text, 5, 120)
    with pytest.raises(AftercareError) as quantity:
        parse_quantity(text)
    with pytest.raises(AftercareError) as score:
        parse_score(text)
    assert {attendees.value.code, refill.value.code, quantity.value.code, score.value.code} == {"digits_only"}


def test_typed_numbers_still_take_full_width_digits() -> None:
    assert parse_attendees(FULL_WIDTH_TWELVE + "人") == 12
    assert parse_number(FULL_WIDTH_TWELVE, 5, 120) == 12
    assert parse_quantity(FULL_WIDTH_TWELVE + " 瓶") == 12
    assert parse_score("\uff14分") == (4, "")


@pytest.mark.parametrize("text", [f"1{ARABIC_FIVE}:00", f"{ARABIC_FIVE}点", "\u0669:\u0663\u0660"])
def test_times_refuse_foreign_digits(text: str) -> None:
    with pytest.raises(BookingError) as caught:
        parse_time(text)
    assert caught.value.code == "bad_time"


@pytest.mark.parametrize("text", [f"12-{SUPERSCRIPT_TWO}", f"12月{ARABIC_FIVE}日", f"2026-12-0{ARABIC_FIVE}"])
def test_dates_refuse_foreign_digits(text: str) -> None:
    with pytest.raises(BookingError) as caught:
        parse_date(text, date(2026, 12, 1))
    assert caught.value.code == "bad_date"


@pytest.mark.parametrize("text", ["\u0662\u0660\u0662\u0666-W49", "2026-W\u0664\u0669", "2026-12-0\u0663"])
def test_report_weeks_refuse_foreign_digits(text: str) -> None:
    with pytest.raises(WeekError):
        parse_week(text, date(2026, 12, 1))
