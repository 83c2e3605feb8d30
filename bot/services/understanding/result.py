"""What ``understand`` hands back: a plain dataclass, every field optional."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from bot.services.recurrence import RecurrenceRule


class Confidence(StrEnum):
    """How a value came to be set. A value that is not sure is never set at all."""

    stated = "stated"  # said in so many words ("明天下午2点", "for 12", "room 203")
    assumed = "assumed"  # a bare clock hour read by office hours ("两点" is 14:00, "at 9" is 09:00)
    implied = "implied"  # follows from other fields (end = start + "2 hours"; the room's only layout)


@dataclass(frozen=True)
class Problem:
    """Something the person should be told or asked about.

    ``code`` is stable (for messages and tests); ``field`` names the field it concerns;
    ``text`` is the piece of the request it is about (as typed, or as normalised).
    """

    code: str
    field: str
    text: str = ""


# The fields a booking still needs, in the order a dialog asks them. Who books (department,
# contact person and phone) comes from the person's registration, so it is not listed; nor
# is "confidential", which is "no" unless said.
BOOKING_FIELDS = ("date", "start", "end", "attendees", "room", "layout", "title", "reception_level")


@dataclass
class Understanding:
    text: str
    language: str  # "zh" or "en": the language the request was read in
    date: date | None = None  # the meeting's date in the site's zone
    start_time: time | None = None  # clock times in the site's zone, even without a date
    end_time: time | None = None
    start: datetime | None = None  # aware, UTC: set when the date and the clock time are known
    end: datetime | None = None
    duration: timedelta | None = None  # "for two hours", "开2个小时" (kept even without a start)
    attendees: int | None = None
    room_id: str | None = None
    layout: str | None = None
    reception_level: int | None = None
    title: str | None = None
    confidential: bool | None = None  # None: not mentioned
    department_id: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    notes: str | None = None  # after "备注：", "notes:"; as typed
    # service id -> its details ({"count": 4}, {"text": "年度工作会议"}, or {} when none was said)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    declined_services: tuple[str, ...] = ()  # "不要鲜花", "no flowers"
    # 「每周一」, "every Monday until March": the series the first meeting (date …) begins
    recurrence: RecurrenceRule | None = None
    # field -> how it was set (fields left unset have no entry)
    confidence: dict[str, Confidence] = field(default_factory=dict)
    # field -> the readings it could have; the field itself is left unset
    ambiguous: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # what a booking still needs, in dialog order (BOOKING_FIELDS, then required service
    # details as "services.<id>.<key>")
    missing: list[str] = field(default_factory=list)

    def problem_codes(self) -> list[str]:
        return [problem.code for problem in self.problems]

    @property
    def is_empty(self) -> bool:
        """Nothing at all was understood."""
        return not self.confidence and not self.services and not self.ambiguous and not self.problems


def choose(result: Understanding, name: str, values: list[Any], problem: str, said: str = "") -> None:
    """One distinct value is the field's; several are a question."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) == 1:
        setattr(result, name, distinct[0])
        result.confidence[name] = Confidence.stated
    elif distinct:
        result.ambiguous[name] = tuple(distinct)
        result.problems.append(Problem(problem, name, said))
