"""The site file: rooms, teams, people, services, task templates and the escalation chain.

Every rule of the product reads its numbers from here, so a site edits its TOML and the
bot follows. Validation problems are reported with their TOML path
(``rooms[3].capacity: must be > 0``).
"""

from __future__ import annotations

import re
import tomllib
import types
from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from string import Formatter
from typing import Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

LANGUAGES = ("zh", "en")
INVOLVED_TEAMS = "@involved"


class Role(StrEnum):
    requester = "requester"
    dispatcher = "dispatcher"
    approver = "approver"
    supervisor = "supervisor"
    manager = "manager"
    admin = "admin"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalText(_Strict):
    """A piece of site text in both languages."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.zh


class SiteInfo(_Strict):
    name: LocalText
    timezone: str = "Asia/Shanghai"
    default_language: Literal["zh", "en"] = "zh"
    # Telegram usernames: 5-32 letters, digits and underscores, written without the "@".
    bot_username: str = Field(default="huiwu_bot", pattern=r"^[A-Za-z][A-Za-z0-9_]{4,31}$")
    # How long an invite issued with /invite stays valid (it is also good for one use only).
    # Fractions are allowed, so a test site can let invites expire within hours.
    invite_valid_days: float = Field(default=7, gt=0, le=365)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class Department(_Strict):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    name: LocalText
    # The standing invite code of earlier versions. It admits nobody any more (it never
    # expired and could be guessed): invites are issued with /invite. Kept so that old site
    # files still load and the people this file places in the department are greeted by it.
    invite_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{4,64}$")
    # Other names a request may use for the unit ("财务", "finance"): read by the request reader.
    aliases: tuple[str, ...] = ()
    # The department's administrators: they issue and revoke its invites and decide who may
    # move into it from elsewhere. Each is placed in this department by [[people]].
    admins: tuple[int, ...] = ()


class RoomClass(_Strict):
    min_notice_minutes: float = Field(ge=0)
    buffer_minutes: float = Field(ge=0)
    needs_approval: bool = False

    @property
    def min_notice(self) -> timedelta:
        return timedelta(minutes=self.min_notice_minutes)

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)


class Layout(_Strict):
    id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name: LocalText
    needs_approval: bool = False
    # Words a request may use for this layout besides its names ("座谈", "U型", "boardroom").
    words: tuple[str, ...] = ()


class Room(_Strict):
    id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name: LocalText
    aliases: tuple[str, ...] = ()
    building: str = ""
    floor: int = 1
    room_class: str = Field(alias="class")
    capacity: int = Field(gt=0)
    layouts: tuple[str, ...] = Field(min_length=1)
    equipment: tuple[str, ...] = ()
    # The secret in the link of the room's door display (/rooms/<id>/display?token=…): long
    # enough not to be guessed, URL-safe so the link needs no escaping. None: no display.
    display_token: str | None = Field(
        default=None, min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$", repr=False
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DetailKind(StrEnum):
    text = "text"
    number = "number"


class ServiceDetail(_Strict):
    key: str = Field(pattern=r"^[a-z0-9_]+$")
    kind: DetailKind = DetailKind.text
    label: LocalText
    required: bool = False
    min: int | None = None
    max: int | None = None
    default: int | str | None = None
    # For the request reader: words that name this detail ("续水", "refill"), and for a number
    # detail the units its number is written with ("分钟", "minutes"). A number with one of
    # the units next to one of the words fills the detail.
    words: tuple[str, ...] = ()
    units: tuple[str, ...] = ()

    @field_validator("default", mode="before")
    @classmethod
    def _whole_number_or_text(cls, value: Any) -> Any:
        # One clear message instead of one per member of the union.
        if (
            value is None
            or isinstance(value, str)
            or (isinstance(value, int) and not isinstance(value, bool))
        ):
            return value
        raise ValueError("must be a whole number or a text")


class ServiceItem(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=24)
    name: LocalText
    details: tuple[ServiceDetail, ...] = ()
    words: tuple[str, ...] = ()


class Vocabulary(_Strict):
    """Words the request reader looks for besides the names of rooms, layouts and services.

    A list given in the site file replaces the default list.
    """

    confidential: tuple[str, ...] = ("保密", "涉密", "机密", "confidential", "classified", "closed-door")
    not_confidential: tuple[str, ...] = (
        "不保密",
        "无需保密",
        "不需要保密",
        "不用保密",
        "不涉密",
        "非涉密",
        "非保密",
        "not confidential",
        "non-confidential",
        "nonconfidential",
    )
    # Cue words next to which "2级" / "level 2" is the reception level.
    reception_level: tuple[str, ...] = (
        "接待级别",
        "接待等级",
        "接待规格",
        "接待",
        "reception level",
        "reception",
        "hospitality level",
    )
    # Cue words after which (with ":" / "为" / "是", or a quotation) comes the meeting's title.
    title: tuple[str, ...] = (
        "会议名称",
        "会议主题",
        "会议题目",
        "会议标题",
        "会议内容",
        "主题",
        "名称",
        "标题",
        "题目",
        "meeting title",
        "meeting name",
        "title",
        "subject",
        "topic",
    )


class Team(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=24)
    name: LocalText
    chat_id: int | None = None
    leader: int
    members: tuple[int, ...] = ()

    @property
    def everyone(self) -> frozenset[int]:
        return frozenset((self.leader, *self.members))


class Person(_Strict):
    id: int
    name: str = Field(min_length=1)
    roles: tuple[Role, ...] = ()
    department: str | None = None
    language: Literal["zh", "en"] | None = None


class Anchor(StrEnum):
    start = "start"
    end = "end"


class TaskKind(StrEnum):
    task = "task"
    check = "check"
    reminder = "reminder"


class ExpiryFrom(StrEnum):
    """What a template's ``expires_after_minutes`` counts from."""

    start = "start"
    end = "end"
    due = "due"


class AppliesTo(_Strict):
    """Empty lists mean "any"; services match when the booking has at least one of them."""

    classes: tuple[str, ...] = ()
    levels: tuple[int, ...] = ()
    services: tuple[str, ...] = ()


class TaskTemplate(_Strict):
    """Offsets are minutes (fractions allowed, so a test site can run in seconds).

    ``name`` is the short label of the task in lists (/today, change notices); without it
    the start of ``text`` is used. A repeating template (``repeat_every_minutes``) makes one
    task per interval: the first one interval after the push offset, then every interval
    while the meeting lasts.

    ``expires_after_minutes`` (counted from ``expires_from``: the meeting's start or end, or
    the task's due time, the default) is when the task's window closes: still open then, it
    is recorded as missed. Without it a task ends at the start when it is due by the start,
    at the end when it is due by the end, else 12 hours after its due time
    (:func:`bot.services.planning.expiry`).
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=32)
    team: str
    kind: TaskKind = TaskKind.task
    name: LocalText | None = None
    text: LocalText
    anchor: Anchor = Anchor.start
    push_offset_minutes: float
    due_offset_minutes: float | None = None
    needs_confirmation: bool = True
    applies_to: AppliesTo = AppliesTo()
    repeat_every_minutes: float | None = Field(default=None, gt=0)
    repeat_interval_detail: str | None = None
    leader_only: bool = False
    expires_after_minutes: float | None = None
    expires_from: ExpiryFrom | None = None
    verifies: tuple[str, ...] = ()
    """Templates this check verifies (the hotline's check 3: checks 1 and 2). Its card is the
    meeting's readiness card, and it is confirmed over an unconfirmed one of them, or over an
    open problem of the meeting, only with an explicit "confirm anyway"."""

    @property
    def expiry_from(self) -> ExpiryFrom:
        return self.expires_from or ExpiryFrom.due


class ChainStep(_Strict):
    role: Literal["supervisor", "manager"]
    wait_minutes: float = Field(ge=0)


class Escalation(_Strict):
    reminder_after_due_minutes: float = Field(default=0, ge=0)
    chain: tuple[ChainStep, ...] = (
        ChainStep(role="supervisor", wait_minutes=10),
        ChainStep(role="manager", wait_minutes=10),
    )
    repeat_every_minutes: float = Field(default=0, ge=0)
    max_repeats: int = Field(default=0, ge=0)


# ---- daily digest, weekly briefing and after-meeting care ---------------------------------
_CLOCK_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _clock_minutes(value: str) -> tuple[int, int]:
    hour, minute = value.split(":")
    return int(hour), int(minute)


def _clock_time(value: Any) -> str:
    if not isinstance(value, str) or not _CLOCK_TIME.match(value.strip()):
        raise ValueError('must be a time of day written HH:MM, like "17:00"')
    return value.strip()


class Digest(_Strict):
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


class Weekly(_Strict):
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


class Aftercare(_Strict):
    """What happens when a meeting ends (docs/product.md §6)."""

    teams: tuple[str, ...] = ()
    """The teams whose groups get the "meeting ended" card (item found, consumables); empty:
    the teams with a task after the meeting (anchor "end"), else every team of the booking."""
    low_score: int = Field(default=3, ge=1, le=5)
    """A feedback score at or below this reaches the supervisor at once."""
    lookback_hours: float = Field(default=48, gt=0)
    """Meetings that ended longer ago than this get no follow-up (e.g. a new installation)."""
    currency: LocalText = LocalText(zh="元", en="CNY")


class Consumable(_Strict):
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


class Retention(_Strict):
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


class Approvals(_Strict):
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


class SiteConfig(_Strict):
    site: SiteInfo
    departments: tuple[Department, ...] = Field(min_length=1)
    room_classes: dict[str, RoomClass] = Field(min_length=1)
    layouts: tuple[Layout, ...] = Field(min_length=1)
    rooms: tuple[Room, ...] = Field(min_length=1)
    services: tuple[ServiceItem, ...] = ()
    teams: tuple[Team, ...] = ()
    people: tuple[Person, ...] = ()
    escalation: Escalation = Escalation()
    task_templates: tuple[TaskTemplate, ...] = ()
    digest: Digest = Digest()
    weekly: Weekly = Weekly()
    aftercare: Aftercare = Aftercare()
    consumables: tuple[Consumable, ...] = ()
    vocabulary: Vocabulary = Vocabulary()
    retention: Retention = Retention()
    approvals: Approvals = Approvals()

    # ---- look-ups -------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.site.timezone)

    def room(self, room_id: str) -> Room | None:
        return next((r for r in self.rooms if r.id == room_id), None)

    def room_class_of(self, room: Room) -> RoomClass:
        return self.room_classes[room.room_class]

    def layout(self, layout_id: str) -> Layout | None:
        return next((item for item in self.layouts if item.id == layout_id), None)

    def service(self, service_id: str) -> ServiceItem | None:
        return next((s for s in self.services if s.id == service_id), None)

    def team(self, team_id: str) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)

    def task_template(self, template_id: str) -> TaskTemplate | None:
        return next((t for t in self.task_templates if t.id == template_id), None)

    @property
    def readiness_templates(self) -> frozenset[str]:
        """The checks whose card is the meeting's readiness card (they verify others)."""
        return frozenset(t.id for t in self.task_templates if t.verifies)

    def department(self, department_id: str) -> Department | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def department_by_invite(self, code: str) -> Department | None:
        """The department whose (retired) standing ``invite_code`` this is."""
        return next((d for d in self.departments if d.invite_code == code), None)

    def administered_departments(self, user_id: int) -> list[Department]:
        """Every department for a site admin; a department admin's own departments."""
        if Role.admin in self.roles_of(user_id):
            return list(self.departments)
        return [d for d in self.departments if user_id in d.admins]

    def placed_department(self, user_id: int) -> str | None:
        """The department the site file puts this person in (``people.department``)."""
        person = self.person(user_id)
        return person.department if person is not None else None

    def placed_by_site(self, user_id: int) -> bool:
        """The site file decides where this person belongs: a department or a team.

        An invite never moves such a person, and a department they joined by invite before
        does not count for them.
        """
        return self.placed_department(user_id) is not None or bool(self.teams_of(user_id))

    def person(self, user_id: int) -> Person | None:
        return next((p for p in self.people if p.id == user_id), None)

    def roles_of(self, user_id: int) -> frozenset[Role]:
        person = self.person(user_id)
        return frozenset(person.roles) if person else frozenset()

    def people_with(self, role: Role) -> list[int]:
        return [p.id for p in self.people if role in p.roles]

    def teams_of(self, user_id: int) -> list[Team]:
        return [t for t in self.teams if user_id in t.everyone]

    def consumable(self, consumable_id: str) -> Consumable | None:
        return next((c for c in self.consumables if c.id == consumable_id), None)

    def team_by_chat(self, chat_id: int) -> Team | None:
        return next((t for t in self.teams if t.chat_id == chat_id), None)


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _path(loc: Iterable[Any]) -> str:
    """A pydantic location as a TOML path: ``rooms[3].capacity``, ``room_classes."A 1"``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = str(part) if _BARE_KEY.match(str(part)) else f'"{part}"'
            text += f".{key}" if text else key
    return text or "(file)"


_FRIENDLY = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "missing": "is required",
    "extra_forbidden": "unknown key",
    "too_short": "must not be empty",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "must match {pattern}",
    "string_type": "must be a text (a quoted string)",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "tuple_type": "must be a list ([...])",
    "list_type": "must be a list ([...])",
    "dict_type": "must be a table ({{ key = value, ... }} or a [section])",
    "model_type": "must be a table ({{ key = value, ... }} or a [section])",
    "model_attributes_type": "must be a table ({{ key = value, ... }} or a [section])",
}


def _number(value: Any) -> Any:
    """``0.0`` reads as ``0`` in a message about minutes."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that holds the key at ``loc`` (for listing the keys it does accept)."""
    annotation: Any = SiteConfig
    for part in loc[:-1]:
        annotation = _unwrap_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next((f for name, f in annotation.model_fields.items() if part in (name, f.alias)), None)
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) in (tuple, list) and isinstance(part, int):
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) is dict and isinstance(part, str):
            annotation = get_args(annotation)[1]
        else:
            return None
    annotation = _unwrap_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _friendly(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        model = _model_at(tuple(error["loc"]))
        if model is not None:
            keys = sorted(f.alias or name for name, f in model.model_fields.items())
            return f"unknown key (allowed here: {', '.join(keys)})"
    template = _FRIENDLY.get(error["type"])
    if template is None:
        message = str(error["msg"])
        return message.removeprefix("Value error, ")
    try:
        context = {key: _number(value) for key, value in (error.get("ctx") or {}).items()}
        return template.format(**context)
    except (KeyError, IndexError):
        return str(error["msg"])


def _structure_problems(exc: ValidationError) -> list[str]:
    errors = exc.errors()
    locations = [tuple(e["loc"]) for e in errors]
    problems = []
    for error, loc in zip(errors, locations, strict=True):
        # A list whose only item is invalid is also "too short" after validation: the item's
        # own problem is the one worth reading.
        if error["type"] == "too_short" and any(
            other[: len(loc)] == loc and len(other) > len(loc) for other in locations
        ):
            continue
        problems.append(f"{_path(loc)}: {_friendly(error)}")
    return problems


def _known(values: Iterable[str]) -> str:
    return ", ".join(sorted(values)) or "none"


def _reference_problems(site: SiteConfig) -> list[str]:
    problems: list[str] = []

    def unique(items: Iterable[str], where: str) -> None:
        first: dict[str, int] = {}
        for index, item in enumerate(items):
            if item in first:
                problems.append(
                    f"{where}[{index}].id: duplicate id {item!r} (already used by {where}[{first[item]}])"
                )
            else:
                first[item] = index

    unique((d.id for d in site.departments), "departments")
    unique((r.id for r in site.rooms), "rooms")
    unique((s.id for s in site.services), "services")
    unique((t.id for t in site.teams), "teams")
    unique((t.id for t in site.task_templates), "task_templates")
    unique((layout.id for layout in site.layouts), "layouts")
    unique((c.id for c in site.consumables), "consumables")
    codes: dict[str, int] = {}
    for index, department in enumerate(site.departments):
        if department.invite_code is not None and department.invite_code in codes:
            problems.append(
                f"departments[{index}].invite_code: {department.invite_code!r} is already the invite code "
                f"of departments[{codes[department.invite_code]}]"
            )
        elif department.invite_code is not None:
            codes[department.invite_code] = index
    layout_ids = {layout.id for layout in site.layouts}
    for index, room in enumerate(site.rooms):
        if room.room_class not in site.room_classes:
            problems.append(
                f"rooms[{index}].class: unknown room class {room.room_class!r} "
                f"(known: {_known(site.room_classes)})"
            )
        for position, layout in enumerate(room.layouts):
            if layout not in layout_ids:
                problems.append(
                    f"rooms[{index}].layouts[{position}]: unknown layout {layout!r} "
                    f"(known: {_known(layout_ids)})"
                )
    for index, service in enumerate(site.services):
        problems.extend(_detail_problems(service, f"services[{index}]"))
    people_ids: dict[int, int] = {}
    department_ids = {d.id for d in site.departments}
    for index, person in enumerate(site.people):
        if person.id in people_ids:
            problems.append(
                f"people[{index}].id: duplicate person {person.id} (already people[{people_ids[person.id]}])"
            )
        else:
            people_ids[person.id] = index
        if person.department is not None and person.department not in department_ids:
            problems.append(
                f"people[{index}].department: unknown department {person.department!r} "
                f"(known: {_known(department_ids)})"
            )
    problems.extend(_department_admin_problems(site, people_ids))
    chats: dict[int, int] = {}
    for index, team in enumerate(site.teams):
        if team.chat_id is not None:
            if team.chat_id >= 0:
                problems.append(
                    f"teams[{index}].chat_id: must be negative (a group's chat id, like -1001234567890)"
                )
            if team.chat_id in chats:
                problems.append(f"teams[{index}].chat_id: already the group of teams[{chats[team.chat_id]}]")
            else:
                chats[team.chat_id] = index
    # The supervisor hears of every problem report; the chain names whoever else it needs.
    needed_roles = [Role.supervisor, *(Role(step.role) for step in site.escalation.chain)]
    for role in dict.fromkeys(needed_roles):
        if site.teams and not site.people_with(role):
            problems.append(f"people: nobody has the role {role.value!r} (the escalation chain needs one)")
    team_ids = {t.id for t in site.teams}
    service_ids = {s.id for s in site.services}
    for index, template in enumerate(site.task_templates):
        problems.extend(_template_problems(site, template, f"task_templates[{index}]", team_ids, service_ids))
    for position, team_id in enumerate(site.aftercare.teams):
        if team_id not in team_ids:
            problems.append(
                f"aftercare.teams[{position}]: unknown team {team_id!r} (known: {_known(team_ids)})"
            )
    problems.extend(_approval_problems(site))
    return problems


def _approval_problems(site: SiteConfig) -> list[str]:
    """Whoever a waiting request is escalated to must exist; second approvers must be
    approvers, and someone must be left to be asked first."""
    target = site.approvals.escalate_to
    approvals_needed = any(c.needs_approval for c in site.room_classes.values()) or any(
        layout.needs_approval for layout in site.layouts
    )
    if isinstance(target, Role):
        # left at its default, a site without a manager simply escalates to nobody
        named = "escalate_to" in site.approvals.model_fields_set
        if approvals_needed and named and not site.people_with(target):
            return [
                f"approvals.escalate_to: nobody has the role {target.value!r} "
                "(requests waiting for approval are escalated to them)"
            ]
        return []
    problems: list[str] = []
    approvers = set(site.people_with(Role.approver))
    for position, person_id in enumerate(target):
        if person_id not in approvers:
            problems.append(
                f"approvals.escalate_to[{position}]: {person_id} is not a person with the role "
                f"'approver' (approvers: {_known(str(a) for a in sorted(approvers))})"
            )
    if approvals_needed and not approvers - set(target):
        problems.append(
            "approvals.escalate_to: every approver is a second approver; "
            "at least one must be left to be asked first"
        )
    return problems


def _department_admin_problems(site: SiteConfig, people_ids: dict[int, int]) -> list[str]:
    """A department's admins belong to it: listed in [[people]] with its ``department``.

    Whoever decides who joins a department sees what its members see, so the file says so
    in so many words instead of the admin list placing people by itself.
    """
    problems: list[str] = []
    for index, department in enumerate(site.departments):
        seen: set[int] = set()
        for position, admin in enumerate(department.admins):
            at = f"departments[{index}].admins[{position}]"
            if admin in seen:
                problems.append(f"{at}: {admin} is listed twice")
                continue
            seen.add(admin)
            if admin not in people_ids:
                problems.append(
                    f"{at}: {admin} is not in [[people]] (list them with department = {department.id!r})"
                )
                continue
            placed = site.placed_department(admin)
            if placed is not None and site.department(placed) is None:
                continue  # reported as people[i].department already
            if placed != department.id:
                where = "no department" if placed is None else f"department {placed!r}"
                problems.append(
                    f"{at}: people[{people_ids[admin]}] ({admin}) has {where}, not {department.id!r} "
                    f"(a department's admin belongs to it)"
                )
    return problems


def _detail_problems(service: ServiceItem, where: str) -> list[str]:
    problems: list[str] = []
    keys: dict[str, int] = {}
    for position, detail in enumerate(service.details):
        at = f"{where}.details[{position}]"
        if detail.key in keys:
            problems.append(
                f"{at}.key: duplicate key {detail.key!r} (already {where}.details[{keys[detail.key]}])"
            )
        else:
            keys[detail.key] = position
        if detail.kind == DetailKind.text:
            if detail.default is not None and not isinstance(detail.default, str):
                problems.append(f"{at}.default: a text detail needs a text default")
            continue
        if detail.min is not None and detail.max is not None and detail.min > detail.max:
            problems.append(f"{at}.max: must be >= min ({detail.min})")
        elif detail.default is not None and not isinstance(detail.default, int):
            problems.append(f"{at}.default: a number detail needs a whole-number default")
        elif isinstance(detail.default, int) and (
            (detail.min is not None and detail.default < detail.min)
            or (detail.max is not None and detail.default > detail.max)
        ):
            low = "" if detail.min is None else f" >= {detail.min}"
            high = "" if detail.max is None else f" <= {detail.max}"
            joint = " and" if low and high else ""
            problems.append(f"{at}.default: must be{low}{joint}{high} (got {detail.default})")
    return problems


def _template_problems(
    site: SiteConfig, template: TaskTemplate, where: str, team_ids: set[str], service_ids: set[str]
) -> list[str]:
    problems: list[str] = []
    if template.team != INVOLVED_TEAMS and template.team not in team_ids:
        problems.append(
            f"{where}.team: unknown team {template.team!r} (known: {_known(team_ids)}, or {INVOLVED_TEAMS!r})"
        )
    for position, service in enumerate(template.applies_to.services):
        if service not in service_ids:
            problems.append(
                f"{where}.applies_to.services[{position}]: unknown service {service!r} "
                f"(known: {_known(service_ids)})"
            )
    for position, room_class in enumerate(template.applies_to.classes):
        if room_class not in site.room_classes:
            problems.append(
                f"{where}.applies_to.classes[{position}]: unknown room class {room_class!r} "
                f"(known: {_known(site.room_classes)})"
            )
    for position, level in enumerate(template.applies_to.levels):
        if level not in (1, 2, 3, 4):
            problems.append(f"{where}.applies_to.levels[{position}]: must be 1 to 4 (got {level})")
    if template.due_offset_minutes is not None and template.due_offset_minutes < template.push_offset_minutes:
        problems.append(
            f"{where}.due_offset_minutes: due ({_number(template.due_offset_minutes)}) before it is pushed "
            f"(push_offset_minutes = {_number(template.push_offset_minutes)})"
        )
    if template.kind == TaskKind.reminder and template.needs_confirmation:
        problems.append(f"{where}.needs_confirmation: a reminder cannot need confirmation (set it to false)")
    elif template.repeat_every_minutes is not None and template.needs_confirmation:
        problems.append(
            f"{where}.needs_confirmation: a repeating task is a reminder and cannot need confirmation "
            "(set it to false)"
        )
    elif template.needs_confirmation and template.due_offset_minutes is None:
        problems.append(
            f"{where}.due_offset_minutes: is required when needs_confirmation = true (a confirmable task "
            "needs a due time)"
        )
    known_templates = {t.id for t in site.task_templates}
    for position, verified in enumerate(template.verifies):
        if verified not in known_templates or verified == template.id:
            problems.append(
                f"{where}.verifies[{position}]: {verified!r} is not another task template "
                f"(known: {_known(known_templates - {template.id})})"
            )
    if template.verifies and not template.needs_confirmation:
        problems.append(f"{where}.verifies: a check that verifies others needs confirmation")
    if template.name is not None:
        for language in LANGUAGES:
            if len(getattr(template.name, language)) > 40:
                problems.append(f"{where}.name.{language}: must be at most 40 characters")
    if template.repeat_interval_detail is not None:
        at = f"{where}.repeat_interval_detail"
        service_id, _, key = template.repeat_interval_detail.partition(".")
        owner = site.service(service_id)
        detail = next((d for d in owner.details if d.key == key), None) if owner else None
        if detail is None:
            problems.append(
                f"{at}: unknown detail {template.repeat_interval_detail!r} "
                "(write <service id>.<detail key>, like tea.refill_minutes)"
            )
        elif detail.kind != DetailKind.number:
            problems.append(f"{at}: {template.repeat_interval_detail!r} is not a number detail")
        if template.repeat_every_minutes is None:
            problems.append(f"{at}: needs repeat_every_minutes (the interval when the booking gives none)")
    problems += _expiry_problems(template, where)
    for language in LANGUAGES:
        problem = _placeholder_problem(getattr(template.text, language))
        if problem:
            problems.append(f"{where}.text.{language}: {problem}")
    return problems


def _expiry_problems(template: TaskTemplate, where: str) -> list[str]:
    """The expiry must close the window after the task's own time, for every meeting, and
    not after the start (the end) for a task due by the start (the end), which ends there."""
    at = f"{where}.expires_after_minutes"
    after = template.expires_after_minutes
    if after is None:
        if template.expires_from is not None:
            return [f"{where}.expires_from: needs expires_after_minutes (how long after it)"]
        return []
    if template.repeat_every_minutes is not None:
        return [f"{at}: a repeating reminder ends when the next one comes; remove it"]
    own = template.due_offset_minutes
    if own is None:
        if template.expiry_from == ExpiryFrom.due:
            return [f"{at}: counts from the due time, but there is no due_offset_minutes (set expires_from)"]
        own = template.push_offset_minutes
    what = "due time" if template.due_offset_minutes is not None else "push time"
    anchor = template.anchor.value
    # the expiry as (anchor, minutes); the meeting's end is never before its start
    if template.expiry_from == ExpiryFrom.due:
        if after < 0:
            return [f"{at}: must be >= 0 when counted from the due time (got {_number(after)})"]
        expires_anchor, expires = anchor, own + after
    else:
        expires_anchor, expires = template.expiry_from.value, after
    # from the start for a task anchored at the end: before it for a long enough meeting
    if expires < own or (expires_anchor, anchor) == ("start", "end"):
        return [
            f"{at}: the task could expire before its {what} "
            f"({_number(own)} min from the {anchor}); count from the {anchor} or the due time"
        ]
    if own <= 0 and (expires_anchor != anchor or expires > 0):
        # due by the anchor, it ends there at the latest
        return [
            f"{at}: a task due by the meeting's {anchor} ends at the {anchor}; the expiry must "
            f"not be after it (it is {_number(expires)} min from the {expires_anchor})"
        ]
    return []


PLACEHOLDERS = frozenset(
    {
        "room",
        "date",
        "start",
        "end",
        "attendees",
        "title",
        "unit",
        "level",
        "layout",
        "banner",
        "microphones",
        "services",
        "due",
    }
)


def _placeholder_problem(text: str) -> str | None:
    """Why ``text`` cannot be filled in with the task placeholders, or None.

    Only plain ``{name}`` placeholders are accepted: no positions, attributes, indexes,
    conversions or format specs, so that filling one in can never fail at run time.
    """
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in Formatter().parse(text)]
    except ValueError as exc:
        return f"bad placeholder syntax ({exc}; write a literal brace as {{{{ or }}}})"
    for name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            if not name:
                return f"{{}} names no placeholder: write one of {_known(PLACEHOLDERS)}"
            return f"unknown placeholder {{{name}}} (known: {_known(PLACEHOLDERS)})"
        if spec or conversion:
            return f"placeholder {{{name}}} takes no format spec or conversion: write {{{name}}}"
    return None


class SiteConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_site(data: dict[str, Any]) -> SiteConfig:
    try:
        site = SiteConfig.model_validate(data)
    except ValidationError as exc:
        raise SiteConfigError(_structure_problems(exc)) from None
    problems = _reference_problems(site)
    if problems:
        raise SiteConfigError(problems)
    return site


def load_site(path: str | Path) -> SiteConfig:
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise SiteConfigError([f"{file}: cannot read ({exc.strerror})"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SiteConfigError([f"{file}: not valid TOML (not UTF-8 text: byte {exc.start})"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SiteConfigError([f"{file}: not valid TOML ({exc})"]) from None
    return parse_site(data)
