"""The site file: rooms, teams, people, services, task templates and the escalation chain.

Every rule of the product reads its numbers from here, so a site edits its TOML and the
bot follows. Validation problems are reported with their TOML path
(``rooms[3].capacity: must be > 0``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
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
    bot_username: str = "huiwu_bot"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class Department(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    name: LocalText
    invite_code: str = Field(pattern=r"^[A-Za-z0-9_-]{4,64}$")


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
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    name: LocalText
    needs_approval: bool = False


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


class ServiceItem(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=24)
    name: LocalText
    details: tuple[ServiceDetail, ...] = ()
    words: tuple[str, ...] = ()


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


class AppliesTo(_Strict):
    """Empty lists mean "any"; services match when the booking has at least one of them."""

    classes: tuple[str, ...] = ()
    levels: tuple[int, ...] = ()
    services: tuple[str, ...] = ()


class TaskTemplate(_Strict):
    """Offsets are minutes (fractions allowed, so a test site can run in seconds)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=32)
    team: str
    kind: TaskKind = TaskKind.task
    text: LocalText
    anchor: Anchor = Anchor.start
    push_offset_minutes: float
    due_offset_minutes: float | None = None
    needs_confirmation: bool = True
    applies_to: AppliesTo = AppliesTo()
    repeat_every_minutes: float | None = Field(default=None, gt=0)
    repeat_interval_detail: str | None = None
    leader_only: bool = False


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

    def department(self, department_id: str) -> Department | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def department_by_invite(self, code: str) -> Department | None:
        return next((d for d in self.departments if d.invite_code == code), None)

    def person(self, user_id: int) -> Person | None:
        return next((p for p in self.people if p.id == user_id), None)

    def roles_of(self, user_id: int) -> frozenset[Role]:
        person = self.person(user_id)
        return frozenset(person.roles) if person else frozenset()

    def people_with(self, role: Role) -> list[int]:
        return [p.id for p in self.people if role in p.roles]

    def teams_of(self, user_id: int) -> list[Team]:
        return [t for t in self.teams if user_id in t.everyone]

    def team_by_chat(self, chat_id: int) -> Team | None:
        return next((t for t in self.teams if t.chat_id == chat_id), None)


def _path(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(file)"


_FRIENDLY = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "missing": "is required",
    "extra_forbidden": "unknown key",
    "too_short": "must not be empty",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "must match {pattern}",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
}


def _friendly(error: Any) -> str:
    template = _FRIENDLY.get(error["type"])
    if template is None:
        message = str(error["msg"])
        return message.removeprefix("Value error, ")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return str(error["msg"])


def _reference_problems(site: SiteConfig) -> list[str]:
    problems: list[str] = []

    def unique(items: Iterable[str], where: str) -> None:
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item in seen:
                problems.append(f"{where}[{index}].id: duplicate id {item!r}")
            seen.add(item)

    unique((d.id for d in site.departments), "departments")
    unique((r.id for r in site.rooms), "rooms")
    unique((s.id for s in site.services), "services")
    unique((t.id for t in site.teams), "teams")
    unique((t.id for t in site.task_templates), "task_templates")
    unique((layout.id for layout in site.layouts), "layouts")
    codes: set[str] = set()
    for index, department in enumerate(site.departments):
        if department.invite_code in codes:
            problems.append(f"departments[{index}].invite_code: used by another department")
        codes.add(department.invite_code)
    layout_ids = {layout.id for layout in site.layouts}
    for index, room in enumerate(site.rooms):
        if room.room_class not in site.room_classes:
            problems.append(
                f"rooms[{index}].class: unknown room class {room.room_class!r} "
                f"(known: {', '.join(sorted(site.room_classes))})"
            )
        for position, layout in enumerate(room.layouts):
            if layout not in layout_ids:
                problems.append(f"rooms[{index}].layouts[{position}]: unknown layout {layout!r}")
    people_ids: set[int] = set()
    department_ids = {d.id for d in site.departments}
    for index, person in enumerate(site.people):
        if person.id in people_ids:
            problems.append(f"people[{index}].id: duplicate person {person.id}")
        people_ids.add(person.id)
        if person.department is not None and person.department not in department_ids:
            problems.append(f"people[{index}].department: unknown department {person.department!r}")
    chats: set[int] = set()
    for index, team in enumerate(site.teams):
        if team.chat_id is not None:
            if team.chat_id >= 0:
                problems.append(f"teams[{index}].chat_id: a group chat id is negative")
            if team.chat_id in chats:
                problems.append(f"teams[{index}].chat_id: used by another team")
            chats.add(team.chat_id)
    for role in (Role.supervisor, Role.manager):
        if site.teams and not site.people_with(role):
            problems.append(f"people: nobody has the role {role.value!r} (the escalation chain needs one)")
    team_ids = {t.id for t in site.teams}
    service_ids = {s.id for s in site.services}
    for index, template in enumerate(site.task_templates):
        where = f"task_templates[{index}]"
        if template.team != INVOLVED_TEAMS and template.team not in team_ids:
            problems.append(f"{where}.team: unknown team {template.team!r}")
        for position, service in enumerate(template.applies_to.services):
            if service not in service_ids:
                problems.append(f"{where}.applies_to.services[{position}]: unknown service {service!r}")
        for position, room_class in enumerate(template.applies_to.classes):
            if room_class not in site.room_classes:
                problems.append(f"{where}.applies_to.classes[{position}]: unknown class {room_class!r}")
        for position, level in enumerate(template.applies_to.levels):
            if level not in (1, 2, 3, 4):
                problems.append(f"{where}.applies_to.levels[{position}]: must be 1 to 4")
        if (
            template.due_offset_minutes is not None
            and template.due_offset_minutes < template.push_offset_minutes
        ):
            problems.append(f"{where}.due_offset_minutes: due before it is pushed")
        if template.needs_confirmation and template.due_offset_minutes is None:
            problems.append(f"{where}.due_offset_minutes: a confirmable task needs a due time")
        if template.kind == TaskKind.reminder and template.needs_confirmation:
            problems.append(f"{where}.needs_confirmation: a reminder cannot need confirmation")
        if template.repeat_interval_detail is not None:
            service_id, _, key = template.repeat_interval_detail.partition(".")
            service = site.service(service_id)
            if service is None or key not in {d.key for d in service.details}:
                problems.append(
                    f"{where}.repeat_interval_detail: unknown detail {template.repeat_interval_detail!r}"
                )
        for field in ("zh", "en"):
            try:
                getattr(template.text, field).format_map(_PlaceholderProbe())
            except (KeyError, ValueError, IndexError) as exc:
                problems.append(f"{where}.text.{field}: bad placeholder ({exc})")
    return problems


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


class _PlaceholderProbe(dict[str, str]):
    def __missing__(self, key: str) -> str:
        if key not in PLACEHOLDERS:
            raise KeyError(f"unknown placeholder {{{key}}}")
        return ""


class SiteConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_site(data: dict[str, Any]) -> SiteConfig:
    try:
        site = SiteConfig.model_validate(data)
    except ValidationError as exc:
        raise SiteConfigError([f"{_path(e['loc'])}: {_friendly(e)}" for e in exc.errors()]) from None
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
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SiteConfigError([f"{file}: not valid TOML ({exc})"]) from None
    return parse_site(data)
