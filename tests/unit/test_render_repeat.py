"""A series as people read it: its frequency, its line on the summary, and the meetings that
cannot be booked, cut to a length a Telegram message holds."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram.utils.i18n import I18n

from bot.render.repeat import LISTED, frequency_text, problem_lines, series_line
from bot.render.text import MESSAGE_LIMIT, Reader
from bot.services.recurrence import Frequency, RecurrenceRule
from bot.services.series import OccurrencePlan
from bot.site import SiteConfig
from bot.telegram.i18n import LOCALES_DIR

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(path=LOCALES_DIR, default_locale="zh", domain="messages")


@pytest.mark.parametrize(
    ("frequency", "day", "english", "chinese"),
    [
        (Frequency.WEEKLY, MONDAY, "every Monday", "每周一"),
        (Frequency.BIWEEKLY, MONDAY, "every other Monday", "每两周的周一"),
        (Frequency.MONTHLY_WEEKDAY, MONDAY, "the first Monday of each month", "每月第一个周一"),
        (Frequency.MONTHLY_WEEKDAY, date(2026, 12, 29), "the last Tuesday of each month", "每月最后一个周二"),
        (Frequency.WORKDAYS, MONDAY, "every working day", "每个工作日"),
    ],
)
def test_frequencies_read_against_the_first_day(
    i18n: I18n, site: SiteConfig, frequency: Frequency, day: date, english: str, chinese: str
) -> None:
    assert frequency_text(Reader(i18n, "en", site), frequency, day) == english
    assert frequency_text(Reader(i18n, "zh", site), frequency, day) == chinese


def _plans(count: int) -> list[OccurrencePlan]:
    first = datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)
    return [
        OccurrencePlan(
            index,
            first + timedelta(days=7 * index),
            first + timedelta(days=7 * index, hours=1),
            "r101",
            problem="slot_taken",
        )
        for index in range(count)
    ]


def test_the_series_line(i18n: I18n, site: SiteConfig) -> None:
    plans = _plans(12)
    starts = [plan.start for plan in plans]
    rule = RecurrenceRule(Frequency.WEEKLY, count=12)

    assert series_line(Reader(i18n, "en", site), rule, starts, plans[0].end) == (
        "every Monday 09:00–10:00, 12 meetings until 2027-02-22"
    )
    assert series_line(Reader(i18n, "zh", site), rule, starts, plans[0].end) == (
        "每周一 09:00–10:00，共12次，截至2027-02-22"
    )


def test_a_long_list_of_problems_is_cut_and_says_how_many_more(i18n: I18n, site: SiteConfig) -> None:
    for language in ("en", "zh"):
        lines = problem_lines(Reader(i18n, language, site), _plans(260), {1: "r102"})

        assert len(lines) == LISTED + 1
        assert "245" in lines[-1]  # … and 245 more
        assert len("\n".join(lines)) < MESSAGE_LIMIT - 2500  # the summary (at most 2000) fits beside it
