"""A booking that repeats, as people read it: "every Monday", 「每月第一个周一」, the series
line of the summary and the meetings of a series that cannot be booked as asked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from html import escape

from bot.render.errors import error_text
from bot.render.text import Reader
from bot.services.booking import BookingError
from bot.services.recurrence import Frequency, RecurrenceRule
from bot.services.series import OccurrencePlan

_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_ORDINALS_EN = ("first", "second", "third", "fourth")
_ORDINALS_ZH = ("一", "二", "三", "四")

# Problems listed in full; past this many, "… and N more" (a Telegram message holds 4096
# characters, and the summary and the buttons need their share).
LISTED = 15


def weekday_name(reader: Reader, day: date) -> str:
    return (_WEEKDAYS_ZH if reader.zh else _WEEKDAYS_EN)[day.weekday()]


def frequency_text(reader: Reader, frequency: Frequency, first: date, last_of_month: bool = False) -> str:
    """ "every Monday", "every other Monday", "the first Monday of each month", "every
    working day": the frequency read against the first meeting's day."""
    _ = reader.gettext
    weekday = weekday_name(reader, first)
    if frequency is Frequency.WEEKLY:
        return _("every {weekday}").format(weekday=weekday)
    if frequency is Frequency.BIWEEKLY:
        return _("every other {weekday}").format(weekday=weekday)
    if frequency is Frequency.MONTHLY_WEEKDAY:
        nth = (first.day - 1) // 7
        if nth >= 4 or last_of_month:
            return _("the last {weekday} of each month").format(weekday=weekday)
        ordinal = (_ORDINALS_ZH if reader.zh else _ORDINALS_EN)[nth]
        return _("the {nth} {weekday} of each month").format(nth=ordinal, weekday=weekday)
    return _("every working day")


def rule_end_text(reader: Reader, rule: RecurrenceRule) -> str:
    """How the rule ends, as the person said it: "until 2027-03-31", "10 times", or nothing."""
    _ = reader.gettext
    parts = []
    if rule.until is not None:
        parts.append(_("until {day}").format(day=rule.until.isoformat()))
    if rule.count is not None:
        parts.append(_("{count} times").format(count=rule.count))
    return ("，" if reader.zh else ", ").join(parts)


def repeat_text(reader: Reader, stored: Mapping[str, object], first: str) -> str:
    """A rule as the draft stores it ({"frequency", "until", "count"}) read against the
    first meeting's ISO day: "every Monday, until 2027-03-31"."""
    try:
        rule = RecurrenceRule.from_json(dict(stored))
        day = date.fromisoformat(first)
    except (KeyError, TypeError, ValueError):
        return ""
    end = rule_end_text(reader, rule)
    text = frequency_text(reader, rule.frequency, day, rule.last_of_month)
    comma = "，" if reader.zh else ", "
    return f"{text}{comma}{end}" if end else text


def series_line(reader: Reader, rule: RecurrenceRule, starts: Sequence[datetime], end: datetime) -> str:
    """ "every Monday 09:00–10:00, 12 meetings until 2027-03-01" (``starts``: every meeting's
    start, ``end``: the first meeting's end)."""
    first = reader.local(starts[0])
    frequency = frequency_text(reader, rule.frequency, first.date(), rule.last_of_month)
    clock = f"{first:%H:%M}–{reader.local(end):%H:%M}"
    return reader.gettext("{rule} {time}, {count} meetings until {last}").format(
        rule=frequency, time=clock, count=len(starts), last=reader.local(starts[-1]).date().isoformat()
    )


def series_extent(reader: Reader, rule: RecurrenceRule, first: date, count: int, last: date) -> str:
    """ "12 meetings, every Monday until 2027-03-01": how far a series reaches, for a line
    that otherwise names only its first meeting."""
    frequency = frequency_text(reader, rule.frequency, first, rule.last_of_month)
    return reader.gettext("{count} meetings, {rule} until {last}").format(
        count=count, rule=frequency, last=last.isoformat()
    )


def skipped_text(reader: Reader, days: Sequence[date]) -> str:
    """ "Skipped (2): Mon 14 Dec, Mon 21 Dec": the dates of a series not booked."""
    _ = reader.gettext
    shown = ", ".join(reader.short_day(day) for day in days[:LISTED])
    if len(days) > LISTED:
        shown += " " + _("… and {count} more").format(count=len(days) - LISTED)
    return _("Skipped ({count}): {days}").format(count=len(days), days=shown)


def on_behalf_series_text(reader: Reader, params: Mapping[str, object], first: date) -> str:
    """What the requester of a series booked for them reads under its first meeting: the
    extent of the series and the dates skipped (the notice's params, bot/services/series.py)."""
    try:
        rule = RecurrenceRule.from_json(dict(params["rule"]))  # type: ignore[call-overload]
        last = date.fromisoformat(str(params["last_day"]))
        skipped = [date.fromisoformat(str(day)) for day in params.get("skipped") or []]  # type: ignore[attr-defined]
        count = int(str(params["series"]))
    except (KeyError, TypeError, ValueError):
        return ""
    lines = ["🔁 " + series_extent(reader, rule, first, count, last)]
    if skipped:
        lines.append(skipped_text(reader, skipped))
    return "\n".join(lines)


def plan_problem(reader: Reader, plan: OccurrencePlan) -> str:
    return error_text(reader, BookingError(plan.problem or "", **plan.problem_params))


def problem_lines(reader: Reader, plans: Sequence[OccurrencePlan], rooms: Mapping[int, str]) -> list[str]:
    """One line per meeting that cannot be booked as asked: its day and time, and why (or the
    other room picked for it); the first ``LISTED`` of them, then how many more."""
    _ = reader.gettext
    lines = []
    troubled = [plan for plan in plans if plan.problem is not None]
    for plan in troubled[:LISTED]:
        when = reader.short_span(plan.start, plan.end)
        if plan.index in rooms:
            lines.append(
                "• "
                + _("{when}: in {room} instead").format(
                    when=when, room=escape(reader.room_name(rooms[plan.index]))
                )
            )
        else:
            colon = "：" if reader.zh else ": "
            lines.append(f"• {when}{colon}{escape(plan_problem(reader, plan), quote=False)}")
    if len(troubled) > LISTED:
        lines.append(_("… and {count} more").format(count=len(troubled) - LISTED))
    return lines
