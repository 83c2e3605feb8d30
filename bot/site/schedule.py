"""The site file's clock settings: the digest, the weekly briefing, after-care, consumables,
retention, approvals."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from pydantic import Field, field_validator

from bot.site.basics import LocalText, Role, StrictModel

# ---- daily digest, weekly briefing and after-meeting care ---------------------------------
_CLOCK_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _clock_minutes(value: str) -> tuple[int, int]:
    hour, minute = value.split(":")
    return int(hour), int(minute)


def _clock_time(value: Any) -> str:
    if not isinstance(value, str) or not _CLOCK_TIME.match(value.strip()):
        raise ValueError('must be a time of day written HH:MM, like "17:00"')
    return value.strip()


class Digest(StrictModel):
    """Tomorrow's meetings and tasks, sent at ``time`` on working days (docs/product.md §5).

    ``working_days`` are ISO weekdays (1 = Monday … 7 = Sunday); ``holidays`` are dates that
    are not working days. On the last working day before days off the digest covers every
    day up to and including the next working day.
    """

    time: str = "17:00"
    working_days: tuple[int, ...] = (1, 2, 3, 4, 5)
    holidays: tuple[date, ...] = ()

    @field_validator("time", mode="before")
    @classmethod
    def _time_of_day(cls, value: Any) -> str:
        return _clock_time(value)

    @field_validator("working_days")
    @classmethod
    def _weekdays(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("must name at least one working day")
        if any(day < 1 or day > 7 for day in value):
            raise ValueError("weekdays are 1 (Monday) to 7 (Sunday)")
        return value

    @property
    def hour_minute(self) -> tuple[int, int]:
        return _clock_minutes(self.time)

    def is_working_day(self, day: date) -> bool:
        return day.isoweekday() in self.working_days and day not in self.holidays


class Weekly(StrictModel):
    """The weekly briefing (周业务简报): ISO ``weekday`` (default Friday) at ``time``."""

    weekday: int = Field(default=5, ge=1, le=7)
    time: str = "17:00"

    @field_validator("time", mode="before")
    @classmethod
    def _time_of_day(cls, value: Any) -> str:
        return _clock_time(value)

    @property
    def hour_minute(self) -> tuple[int, int]:
        return _clock_minutes(self.time)


class Statements(StrictModel):
    """The monthly statement per department (docs/product.md §5): last month's meetings,
    no-shows, consumables and fees, sent on ``day`` of each month at ``time`` (site zone)."""

    day: int = Field(default=1, ge=1, le=28)
    """1–28, so that every month has it."""
    time: str = "09:00"

    @field_validator("time", mode="before")
    @classmethod
    def _time_of_day(cls, value: Any) -> str:
        return _clock_time(value)

    @property
    def hour_minute(self) -> tuple[int, int]:
        return _clock_minutes(self.time)


class Aftercare(StrictModel):
    """What happens when a meeting ends (docs/product.md §6)."""

    teams: tuple[str, ...] = ()
    """The teams whose groups get the "meeting ended" card (item found, consumables); empty:
    the teams with a task after the meeting (anchor "end"), else every team of the booking."""
    low_score: int = Field(default=3, ge=1, le=5)
    """A feedback score at or below this reaches the supervisor at once."""
    lookback_hours: float = Field(default=48, gt=0)
    """Meetings that ended longer ago than this get no follow-up (e.g. a new installation)."""
    currency: LocalText = LocalText(zh="元", en="CNY")


class Consumable(StrictModel):
    """An item of the consumables catalogue (会务用品), with its unit price."""

    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=24)
    name: LocalText
    unit: LocalText
    price: float = Field(ge=0, le=1_000_000)

    @field_validator("unit", mode="before")
    @classmethod
    def _one_word_for_both(cls, value: Any) -> Any:
        # ``unit = "box"`` is the same word in both languages
        return {"zh": value, "en": value} if isinstance(value, str) else value

    @property
    def price_cents(self) -> int:
        return round(self.price * 100)


class Retention(StrictModel):
    """How long finished records are kept; older ones are removed by an hourly clean-up in
    small batches (bot/jobs/retention.py)."""

    outbox_days: float = Field(default=30, ge=1, le=3650)
    """Outbox rows that were sent, merged, applied, dropped or failed, counted from when they
    were queued. Rows still to be sent are never removed."""
    processed_updates_days: float = Field(default=30, ge=2, le=3650)
    """Ids of the Telegram updates already handled. Telegram redelivers an update for 24 hours
    at most, so two days is the least that still recognises every redelivery."""
    task_events_days: float = Field(default=400, ge=31, le=36500)
    """Each task's history (pushes, reminders, escalations, presses, problems). The weekly
    briefing and the reports read it for the period they cover: keep it for a year and a
    month so a year's reports can still be made; the tasks themselves are kept."""


_OFFICE_HOURS = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$")
APPROVAL_ESCALATION_ROLES = (Role.supervisor, Role.manager)


class Approvals(StrictModel):
    """Requests waiting for the approver (docs/product.md §2): reminded after
    ``remind_after_hours`` working hours, escalated ``escalate_after_hours`` after that, and
    rejected by themselves at their start. Working hours are ``office_hours`` (site zone) on
    the working days of ``[digest]``."""

    office_hours: str = "09:00-17:00"
    remind_after_hours: float = Field(default=2, gt=0, le=500)
    escalate_after_hours: float = Field(default=2, gt=0, le=500)
    escalate_to: Role | tuple[int, ...] = Role.manager
    """A role (everyone with it), or the person ids of second approvers: people with the
    approver role who are asked only once a request is escalated."""

    @field_validator("office_hours", mode="before")
    @classmethod
    def _office_hours(cls, value: Any) -> str:
        text = value.strip() if isinstance(value, str) else ""
        match = _OFFICE_HOURS.match(text)
        if match is None:
            raise ValueError('must be two times of day written "HH:MM-HH:MM", like "09:00-17:00"')
        opening = int(match[1]) * 60 + int(match[2])
        closing = int(match[3]) * 60 + int(match[4])
        if closing > 24 * 60 or closing <= opening:
            raise ValueError("the office must close after it opens, on the same day")
        return text

    @field_validator("escalate_to", mode="before")
    @classmethod
    def _escalation_target(cls, value: Any) -> Any:
        wrong = 'must be "supervisor", "manager" or a list of person ids with the role "approver"'
        if isinstance(value, str):
            if value not in APPROVAL_ESCALATION_ROLES:
                raise ValueError(wrong)
            return Role(value)
        if isinstance(value, list | tuple):
            if not value:
                raise ValueError("must name at least one second approver (or a role)")
            if not all(isinstance(item, int) and not isinstance(item, bool) for item in value):
                raise ValueError("a list of second approvers holds person ids (whole numbers)")
            return tuple(value)
        raise ValueError(wrong)

    @property
    def office_minutes(self) -> tuple[int, int]:
        """Opening and closing, in minutes after midnight (closing may be 24:00)."""
        opening, closing = (_clock_minutes(part) for part in self.office_hours.split("-"))
        return opening[0] * 60 + opening[1], closing[0] * 60 + closing[1]

    @property
    def remind_after(self) -> timedelta:
        return timedelta(hours=self.remind_after_hours)

    @property
    def escalate_after(self) -> timedelta:
        return timedelta(hours=self.escalate_after_hours)
