"""How a booking repeats (bot/services/recurrence.py): the dates each rule gives, its bounds,
and the clear refusals (docs/product.md §2)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.recurrence import Frequency, RecurrenceError, RecurrenceRule, expand

SHANGHAI = ZoneInfo("Asia/Shanghai")


def weekdays(day: date) -> bool:
    return day.isoweekday() <= 5


def at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def days_of(rule: RecurrenceRule, first: datetime, **bounds: int) -> list[date]:
    occurrences = expand(rule, first, first + timedelta(hours=1), SHANGHAI, weekdays, **bounds)
    return [occurrence.start.date() for occurrence in occurrences]


def test_weekly_for_four_times_keeps_the_wall_clock_time() -> None:
    occurrences = expand(
        RecurrenceRule(Frequency.WEEKLY, count=4), at(2026, 12, 7), at(2026, 12, 7, 10), SHANGHAI, weekdays
    )
    assert [o.start for o in occurrences] == [at(2026, 12, d) for d in (7, 14, 21, 28)]
    assert [o.end - o.start for o in occurrences] == [timedelta(hours=1)] * 4
    assert [o.index for o in occurrences] == [0, 1, 2, 3]


def test_every_two_weeks_until_a_date_includes_that_date() -> None:
    rule = RecurrenceRule(Frequency.BIWEEKLY, until=date(2027, 1, 4))
    assert days_of(rule, at(2026, 12, 7)) == [date(2026, 12, 7), date(2026, 12, 21), date(2027, 1, 4)]


def test_monthly_on_the_first_monday() -> None:
    rule = RecurrenceRule(Frequency.MONTHLY_WEEKDAY, count=4)
    assert days_of(rule, at(2026, 12, 7)) == [
        date(2026, 12, 7),
        date(2027, 1, 4),
        date(2027, 2, 1),
        date(2027, 3, 1),
    ]


def test_monthly_from_a_fifth_week_is_the_last_weekday_of_each_month() -> None:
    rule = RecurrenceRule(Frequency.MONTHLY_WEEKDAY, count=3)
    # 2026-12-29 is the fifth Tuesday of December
    assert days_of(rule, at(2026, 12, 29)) == [date(2026, 12, 29), date(2027, 1, 26), date(2027, 2, 23)]


def test_every_working_day_skips_weekends_and_holidays() -> None:
    holiday = date(2026, 12, 9)
    rule = RecurrenceRule(Frequency.WORKDAYS, count=5)
    occurrences = expand(
        rule,
        at(2026, 12, 7),
        at(2026, 12, 7, 10),
        SHANGHAI,
        lambda day: weekdays(day) and day != holiday,
    )
    assert [o.start.date() for o in occurrences] == [
        date(2026, 12, 7),
        date(2026, 12, 8),
        date(2026, 12, 10),
        date(2026, 12, 11),
        date(2026, 12, 14),
    ]


def test_without_an_end_the_series_stops_at_the_horizon() -> None:
    days = days_of(RecurrenceRule(Frequency.WEEKLY), at(2026, 12, 7), horizon_days=30)
    assert days[-1] <= date(2027, 1, 6) and len(days) == 5


def test_a_count_past_the_largest_number_is_refused_with_the_bounds() -> None:
    with pytest.raises(RecurrenceError) as caught:
        days_of(RecurrenceRule(Frequency.WEEKLY, count=10_000), at(2026, 12, 7))
    assert caught.value.code == "series_too_long"
    assert caught.value.params == {"days": 366, "occurrences": 260}


def test_an_end_past_the_horizon_is_refused() -> None:
    with pytest.raises(RecurrenceError) as caught:
        days_of(RecurrenceRule(Frequency.WEEKLY, until=date(2028, 1, 1)), at(2026, 12, 7))
    assert caught.value.code == "series_too_long"


def test_working_days_for_a_year_are_more_than_the_largest_number() -> None:
    rule = RecurrenceRule(Frequency.WORKDAYS, until=date(2027, 12, 1))
    with pytest.raises(RecurrenceError) as caught:
        days_of(rule, at(2026, 12, 7), max_occurrences=100)
    assert caught.value.code == "series_too_long"


def test_an_end_before_the_start_is_refused_naming_both_dates() -> None:
    with pytest.raises(RecurrenceError) as caught:
        days_of(RecurrenceRule(Frequency.WEEKLY, until=date(2026, 12, 1)), at(2026, 12, 7))
    assert caught.value.code == "series_end_before_start"
    assert caught.value.params == {"start": "2026-12-07", "until": "2026-12-01"}


def test_a_count_below_one_is_refused() -> None:
    with pytest.raises(RecurrenceError) as caught:
        days_of(RecurrenceRule(Frequency.WEEKLY, count=0), at(2026, 12, 7))
    assert caught.value.code == "series_count_invalid"


def test_a_rule_survives_its_json() -> None:
    for rule in (
        RecurrenceRule(Frequency.WEEKLY, count=3),
        RecurrenceRule(Frequency.MONTHLY_WEEKDAY, until=date(2027, 6, 30)),
        RecurrenceRule(Frequency.WORKDAYS),
    ):
        assert RecurrenceRule.from_json(rule.to_json()) == rule


def test_the_last_weekday_of_each_month_is_not_the_fourth() -> None:
    """25 Dec 2026 is both the fourth and the last Friday; January 2027 has five Fridays, so
    "the last Friday" is 29 Jan there, where "the fourth Friday" would be 22 Jan."""
    first = at(2026, 12, 25, 15)
    last = RecurrenceRule(Frequency.MONTHLY_WEEKDAY, count=3, last_of_month=True)
    fourth = RecurrenceRule(Frequency.MONTHLY_WEEKDAY, count=3)
    assert days_of(last, first) == [date(2026, 12, 25), date(2027, 1, 29), date(2027, 2, 26)]
    assert days_of(fourth, first) == [date(2026, 12, 25), date(2027, 1, 22), date(2027, 2, 26)]
    assert RecurrenceRule.from_json(last.to_json()) == last
    assert RecurrenceRule.from_json({"frequency": "weekly"}) == RecurrenceRule(Frequency.WEEKLY)
