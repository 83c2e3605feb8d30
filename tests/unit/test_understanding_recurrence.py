"""The reader and series: 「每周一…」, "every Monday … until March" (read at NOW, Tuesday
1 December 2026, 09:00 in Asia/Shanghai, against examples/site.toml)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from bot.services.recurrence import Frequency, RecurrenceRule
from bot.services.understanding import understand
from bot.site import SiteConfig, load_site
from tests.unit.understanding_cases import NOW

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site() -> SiteConfig:
    return load_site(ROOT / "examples" / "site.toml")


def test_the_chinese_sentence_of_a_weekly_meeting(site: SiteConfig) -> None:
    result = understand("每周一上午9点到10点例会 第一会议室 12人", site, NOW)

    assert result.recurrence == RecurrenceRule(Frequency.WEEKLY)
    assert result.date == date(2026, 12, 7)  # the next Monday
    assert (result.start_time, result.end_time) == (time(9), time(10))
    assert result.start == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    assert (result.room_id, result.attendees) == ("r101", 12)
    assert result.problems == []


def test_the_english_sentence_ends_at_the_end_of_the_next_march(site: SiteConfig) -> None:
    result = understand("every Monday 9-10 in room 101 for 12, until March", site, NOW)

    assert result.recurrence == RecurrenceRule(Frequency.WEEKLY, until=date(2027, 3, 31))
    assert result.date == date(2026, 12, 7)
    assert (result.start_time, result.end_time) == (time(9), time(10))
    assert (result.room_id, result.attendees) == ("r101", 12)
    assert result.problems == []


@pytest.mark.parametrize(
    ("text", "rule", "first"),
    [
        (
            "每星期五下午3点到4点 接待室 8人 10次",
            RecurrenceRule(Frequency.WEEKLY, count=10),
            date(2026, 12, 4),
        ),
        (
            "每礼拜三 上午10点到11点 第一会议室 为期8周",
            RecurrenceRule(Frequency.WEEKLY, count=8),
            date(2026, 12, 2),
        ),
        (
            "隔周三下午两点到四点 接待室 10人 到3月底",
            RecurrenceRule(Frequency.BIWEEKLY, until=date(2027, 3, 31)),
            date(2026, 12, 2),
        ),
        ("每两周一次 周四下午3点到4点 接待室", RecurrenceRule(Frequency.BIWEEKLY), date(2026, 12, 3)),
        (
            "每月第一个周一上午9点到10点 第一会议室 共十次",
            RecurrenceRule(Frequency.MONTHLY_WEEKDAY, count=10),
            date(2026, 12, 7),
        ),
        (
            "每月最后一个星期五下午2点到3点 接待室",
            RecurrenceRule(Frequency.MONTHLY_WEEKDAY, last_of_month=True),
            date(2026, 12, 25),
        ),
        (
            "每个工作日早上9点到9点半 第一会议室 5人 至2027年3月31日",
            RecurrenceRule(Frequency.WORKDAYS, until=date(2027, 3, 31)),
            date(2026, 12, 2),  # today's 09:00 is not ahead of 09:00
        ),
        (
            "工作日每天下午4点到5点 接待室 直到2027-01-15",
            RecurrenceRule(Frequency.WORKDAYS, until=date(2027, 1, 15)),
            date(2026, 12, 1),
        ),
        ("weekly on Tuesday 8:00-9:00 room 101 for 4", RecurrenceRule(Frequency.WEEKLY), date(2026, 12, 8)),
        (
            "every other Friday 3pm-4pm room 101 for 6, for 10 weeks",
            RecurrenceRule(Frequency.BIWEEKLY, until=date(2027, 2, 11)),
            date(2026, 12, 4),
        ),
        ("every two weeks on Thursday 2-3pm room 101", RecurrenceRule(Frequency.BIWEEKLY), date(2026, 12, 3)),
        (
            "the first Monday of each month 2-4pm room 101 for 8, 10 times",
            RecurrenceRule(Frequency.MONTHLY_WEEKDAY, count=10),
            date(2026, 12, 7),
        ),
        (
            "the last Friday of every month 2-3pm room 101",
            RecurrenceRule(Frequency.MONTHLY_WEEKDAY, last_of_month=True),
            date(2026, 12, 25),
        ),
        (
            "monthly on the second Wednesday 10-11am room 101",
            RecurrenceRule(Frequency.MONTHLY_WEEKDAY),
            date(2026, 12, 9),
        ),
        (
            "every working day 9-10am room 101 for 5 until 31 March",
            RecurrenceRule(Frequency.WORKDAYS, until=date(2027, 3, 31)),
            date(2026, 12, 2),
        ),
        (
            "every weekday 4-5pm room 101 until Jan 15, 2027",
            RecurrenceRule(Frequency.WORKDAYS, until=date(2027, 1, 15)),
            date(2026, 12, 1),
        ),
    ],
)
def test_frequencies_and_ends(site: SiteConfig, text: str, rule: RecurrenceRule, first: date) -> None:
    result = understand(text, site, NOW)

    assert result.recurrence == rule
    assert result.date == first
    assert result.start is not None and result.start > NOW
    assert result.problems == []


def test_a_date_said_is_the_first_meeting_and_must_fit_the_rule(site: SiteConfig) -> None:
    fits = understand("从12月14日开始每周一上午9点到10点 第一会议室", site, NOW)
    clash = understand("12月15日开始每周一上午9点到10点 第一会议室", site, NOW)

    assert fits.date == date(2026, 12, 14) and fits.recurrence == RecurrenceRule(Frequency.WEEKLY)
    assert clash.recurrence is None and "date_weekday_mismatch" in clash.problem_codes()


@pytest.mark.parametrize(
    "text",
    [
        "明天下午2点到4点 第一会议室 10人",
        "tomorrow 2-4pm room 101 for 10",
        "周一上午9点 第一会议室 到10点",
        "the first Monday of December 9-10am room 101",  # one date, not each month's
    ],
)
def test_a_single_meeting_has_no_rule(site: SiteConfig, text: str) -> None:
    assert understand(text, site, NOW).recurrence is None


def test_a_repetition_a_series_cannot_have_is_still_reported(site: SiteConfig) -> None:
    result = understand("每天上午9点 第一会议室", site, NOW)

    assert result.recurrence is None
    assert "recurring" in result.problem_codes()


@pytest.mark.parametrize(
    ("text", "title", "frequency"),
    [
        ("Title: Weekly sync every Monday 9-10am room 101 for 5", "Weekly sync", Frequency.WEEKLY),
        (
            "Title: Board review monthly on the first Monday 2-4pm room 101",
            "Board review",
            Frequency.MONTHLY_WEEKDAY,
        ),
        ("会议名称：周例会 每周一上午9点到10点 第一会议室", "周例会", Frequency.WEEKLY),
    ],
)
def test_a_title_ends_where_the_series_begins(
    site: SiteConfig, text: str, title: str, frequency: Frequency
) -> None:
    result = understand(text, site, NOW)

    assert result.title == title
    assert result.recurrence is not None and result.recurrence.frequency is frequency
