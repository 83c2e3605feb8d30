"""Reader.when / when_span: a time says its day unless it is the reader's today in the site's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from aiogram.utils.i18n import I18n

from bot.render.text import Reader
from bot.site import SiteConfig
from bot.telegram.i18n import LOCALES_DIR

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Tuesday 1 December 2026, mid-morning in the site's zone
NOW = datetime(2026, 12, 1, 10, 30, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(path=LOCALES_DIR, default_locale="zh", domain="messages")


@pytest.fixture
def zh(i18n: I18n, site: SiteConfig) -> Reader:
    return Reader(i18n, "zh", site, NOW)


@pytest.fixture
def en(i18n: I18n, site: SiteConfig) -> Reader:
    return Reader(i18n, "en", site, NOW)


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("moment", "chinese", "english"),
    [
        (at(1, 11, 2), "11:02", "11:02"),
        (at(1, 0, 0), "00:00", "00:00"),
        (at(1, 23, 59), "23:59", "23:59"),
        (at(2, 11, 2), "明天 11:02", "tomorrow 11:02"),
        (at(30, 11, 3, month=11), "昨天 11:03", "yesterday 11:03"),
        (at(4, 15, 0), "12月4日（周五）15:00", "Fri 4 Dec 15:00"),
        (at(8, 9, 5), "12月8日（周二）09:05", "Tue 8 Dec 09:05"),
        (at(29, 9, 0, month=11), "11月29日（周日）09:00", "Sun 29 Nov 09:00"),
        (at(4, 15, 0, month=1, year=2027), "2027年1月4日（周一）15:00", "Mon 4 Jan 2027 15:00"),
        (at(30, 8, 0, month=11, year=2025), "2025年11月30日（周日）08:00", "Sun 30 Nov 2025 08:00"),
    ],
)
def test_a_time_names_its_day_unless_today(
    zh: Reader, en: Reader, moment: datetime, chinese: str, english: str
) -> None:
    assert zh.when(moment) == chinese
    assert en.when(moment) == english


def test_new_years_eve_reads_tomorrow_without_a_year(i18n: I18n, site: SiteConfig) -> None:
    evening = datetime(2026, 12, 31, 20, 0, tzinfo=SHANGHAI)
    morning = datetime(2027, 1, 1, 9, 0, tzinfo=SHANGHAI)
    assert Reader(i18n, "zh", site, evening).when(morning) == "明天 09:00"
    assert Reader(i18n, "en", site, evening).when(morning) == "tomorrow 09:00"


def test_the_day_is_the_sites_not_utcs(zh: Reader, en: Reader) -> None:
    # 00:10 on Wednesday in Shanghai is still Tuesday 16:10 in UTC: it is tomorrow, not today
    just_after_midnight = datetime(2026, 12, 1, 16, 10, tzinfo=UTC)
    assert zh.when(just_after_midnight) == "明天 00:10"
    assert en.when(just_after_midnight) == "tomorrow 00:10"
    # and the reader's own today is the site's: 23:50 UTC on Monday is already Tuesday 07:50 here
    early_reader = zh.at(datetime(2026, 11, 30, 23, 50, tzinfo=UTC))
    assert early_reader.when(at(1, 11, 2)) == "11:02"
    assert early_reader.when(datetime(2026, 11, 30, 15, 0, tzinfo=UTC)) == "昨天 23:00"


def test_now_given_overrides_the_readers(zh: Reader) -> None:
    assert zh.when(at(2, 11, 2), now=at(2, 8, 0)) == "11:02"
    assert zh.when(at(2, 11, 2), now=at(3, 8, 0)) == "昨天 11:02"


def test_a_reader_without_now_always_gives_the_full_date(i18n: I18n, site: SiteConfig) -> None:
    timeless = Reader(i18n, "en", site)
    assert timeless.when(at(1, 11, 2)) == "Tue 1 Dec 2026 11:02"
    assert timeless.when_span(at(1, 14), at(1, 16)) == "Tue 1 Dec 2026 14:00–16:00"


@pytest.mark.parametrize(
    ("start", "end", "chinese", "english"),
    [
        (at(1, 14), at(1, 16), "14:00–16:00", "14:00–16:00"),
        (at(2, 14), at(2, 16), "明天 14:00–16:00", "tomorrow 14:00–16:00"),
        (at(30, 14, month=11), at(30, 16, month=11), "昨天 14:00–16:00", "yesterday 14:00–16:00"),
        (at(4, 15), at(4, 17, 30), "12月4日（周五）15:00–17:30", "Fri 4 Dec 15:00–17:30"),
        (
            at(5, 1, month=1, year=2027),
            at(5, 2, month=1, year=2027),
            "2027年1月5日（周二）01:00–02:00",
            "Tue 5 Jan 2027 01:00–02:00",
        ),
        (at(1, 22), at(2, 1), "22:00 – 明天 01:00", "22:00 – tomorrow 01:00"),
    ],
)
def test_a_span_names_its_day_once(
    zh: Reader, en: Reader, start: datetime, end: datetime, chinese: str, english: str
) -> None:
    assert zh.when_span(start, end) == chinese
    assert en.when_span(start, end) == english
