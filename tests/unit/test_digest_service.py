"""The digest's calendar rules, its recipients, and how a long digest is cut."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.render.digest import PART_LIMIT, meetings_digest, split_blocks, team_digest
from bot.render.text import Reader
from bot.services.digest import (
    DayMeetings,
    DayTasks,
    MeetingItem,
    TaskItem,
    covered_days,
    digest_due,
    digest_recipients,
    next_working_day,
)
from bot.services.visibility import Audience, Medium
from bot.site import Digest, Role, SiteConfig, load_site
from bot.telegram.i18n import build_i18n

SITE = Path(__file__).resolve().parents[2] / "examples" / "site.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
SUPERVISOR = Audience(frozenset({Role.supervisor}), medium=Medium.report)


@pytest.fixture
def site() -> SiteConfig:
    return load_site(SITE)


def with_digest(site: SiteConfig, **fields: object) -> SiteConfig:
    return site.model_copy(update={"digest": Digest(**fields)})  # type: ignore[arg-type]


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


def test_an_ordinary_weekday_covers_tomorrow(site: SiteConfig) -> None:
    assert covered_days(site, date(2026, 12, 1)) == [date(2026, 12, 2)]  # Tuesday → Wednesday


def test_friday_covers_the_weekend_and_monday(site: SiteConfig) -> None:
    assert covered_days(site, date(2026, 12, 4)) == days(date(2026, 12, 5), 3)


def test_a_holiday_stretches_the_window(site: SiteConfig) -> None:
    # National Day week 2027: 1–7 October off; the Thursday before covers Friday 1st to Friday 8th
    holidays = tuple(date(2027, 10, day) for day in range(1, 8))
    golden = with_digest(site, holidays=holidays)
    assert covered_days(golden, date(2027, 9, 30)) == days(date(2027, 10, 1), 8)
    assert next_working_day(golden, date(2027, 9, 30)) == date(2027, 10, 8)
    assert covered_days(site, date(2026, 12, 31)) == days(date(2027, 1, 1), 4)  # example: 1 Jan off


def test_a_saturday_working_site(site: SiteConfig) -> None:
    six_days = with_digest(site, working_days=(1, 2, 3, 4, 5, 6))
    assert covered_days(six_days, date(2026, 12, 4)) == [date(2026, 12, 5)]
    assert covered_days(six_days, date(2026, 12, 5)) == [date(2026, 12, 6), date(2026, 12, 7)]


def test_digest_is_due_from_its_time_on_working_days_only(site: SiteConfig) -> None:
    assert digest_due(site, datetime(2026, 12, 1, 16, 59, tzinfo=SHANGHAI)) is None
    assert digest_due(site, datetime(2026, 12, 1, 17, 0, tzinfo=SHANGHAI)) == date(2026, 12, 1)
    assert digest_due(site, datetime(2026, 12, 1, 23, 59, tzinfo=SHANGHAI)) == date(2026, 12, 1)
    assert digest_due(site, datetime(2026, 12, 5, 18, 0, tzinfo=SHANGHAI)) is None  # Saturday
    assert digest_due(site, datetime(2027, 1, 1, 18, 0, tzinfo=SHANGHAI)) is None  # holiday
    # 09:00 UTC is 17:00 in Shanghai: the zone is the site's, not the server's
    assert digest_due(site, datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("UTC"))) == date(2026, 12, 1)
    early = with_digest(site, time="08:30")
    assert digest_due(early, datetime(2026, 12, 1, 8, 30, tzinfo=SHANGHAI)) == date(2026, 12, 1)


def test_recipients_are_the_supervisor_the_manager_and_the_dispatchers(site: SiteConfig) -> None:
    assert digest_recipients(site) == [2001, 2002, 2201, 2301]


def _meeting(number: int, start: datetime, **fields: object) -> MeetingItem:
    base = MeetingItem(
        booking_id=number,
        status="confirmed",
        room_id="r101",
        start=start,
        end=start + timedelta(hours=1),
        department_id="finance",
        title=f"会议{number} " + "很长的标题" * 30,
        confidential=False,
        attendees=10,
        reception_level=3,
        services=("tea", "water", "flowers", "sign_in"),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_a_long_digest_is_cut_between_meetings_and_numbered(site: SiteConfig) -> None:
    reader = Reader(build_i18n("zh"), "zh", site)
    day = date(2026, 12, 2)
    start = datetime(2026, 12, 2, 8, tzinfo=SHANGHAI)
    meetings = [_meeting(n, start + timedelta(minutes=20 * n)) for n in range(40)]
    parts = meetings_digest(reader, [DayMeetings(day, meetings)], SUPERVISOR)
    assert len(parts) >= 2
    assert all(len(part) <= 4096 for part in parts)
    assert parts[0].endswith(f"(1/{len(parts)})") and parts[-1].endswith(f"({len(parts)}/{len(parts)})")
    joined = "\n".join(parts)
    for number in range(40):
        assert joined.count(f"会议{number} ") == 1  # every meeting once, none cut in half


def test_split_blocks_cuts_a_huge_block_by_lines() -> None:
    huge = "\n".join(f"line {n} " + "x" * 100 for n in range(100))
    parts = split_blocks(["heading", huge])
    assert all(len(part) <= PART_LIMIT for part in parts)
    assert "".join(parts).count("line 99 ") == 1


def test_confidential_and_pending_meetings(site: SiteConfig) -> None:
    reader = Reader(build_i18n("zh"), "en", site)
    start = datetime(2026, 12, 2, 9, tzinfo=SHANGHAI)
    meetings = [
        _meeting(1, start, confidential=True, title="Secret <plan>"),
        _meeting(2, start, room_id="r203", status="confirmed", title="Hall <b>show</b>"),
        _meeting(3, start, room_id="vc1", status="pending", services=()),
    ]
    (text,) = meetings_digest(reader, [DayMeetings(date(2026, 12, 2), meetings)], SUPERVISOR)
    assert "Secret" not in text and "🔒 confidential" in text
    assert "Hall &lt;b&gt;show&lt;/b&gt;" in text and "approved" in text  # class C, confirmed
    assert "awaiting approval" in text and "Services: none" in text


def test_team_digest_folds_reminders(site: SiteConfig) -> None:
    reader = Reader(build_i18n("zh"), "zh", site)
    start = datetime(2026, 12, 2, 9, tzinfo=SHANGHAI)
    refill = TaskItem(
        1,
        7,
        "tea_refill",
        "service",
        "reminder",
        "planned",
        "r101",
        start + timedelta(minutes=30),
        None,
        start,
        start + timedelta(hours=3),
        count=5,
        last_at=start + timedelta(minutes=150),
    )
    prep = TaskItem(
        2,
        7,
        "tea_prep",
        "service",
        "task",
        "planned",
        "r101",
        start - timedelta(minutes=60),
        start - timedelta(minutes=20),
        start,
        start + timedelta(hours=3),
    )
    (text,) = team_digest(reader, "service", [DayTasks(date(2026, 12, 2), [prep, refill])])
    assert "08:00→08:40" in text and "茶水准备" in text
    assert "续水 ×5，09:30–11:30" in text
    (empty,) = team_digest(reader, "av", [DayTasks(date(2026, 12, 5), []), DayTasks(date(2026, 12, 6), [])])
    assert empty.count("没有任务") == 2 and "至下一工作日的任务" in empty
