"""The site file's people and places: languages, roles, departments, rooms, services, teams,
people."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

LANGUAGES = ("zh", "en")
INVOLVED_TEAMS = "@involved"


class Role(StrEnum):
    requester = "requester"
    dispatcher = "dispatcher"
    approver = "approver"
    supervisor = "supervisor"
    manager = "manager"
    admin = "admin"


class StrictModel(BaseModel):
    """Every table of the site file: unknown keys are refused (a typo is a problem, never a
    silent default) and a loaded site cannot be changed."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalText(StrictModel):
    """A piece of site text in both languages."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.zh


class SiteInfo(StrictModel):
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


class Department(StrictModel):
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


class RoomClass(StrictModel):
    min_notice_minutes: float = Field(ge=0)
    buffer_minutes: float = Field(ge=0)
    needs_approval: bool = False

    @property
    def min_notice(self) -> timedelta:
        return timedelta(minutes=self.min_notice_minutes)

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)


class Layout(StrictModel):
    id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name: LocalText
    needs_approval: bool = False
    # Words a request may use for this layout besides its names ("座谈", "U型", "boardroom").
    words: tuple[str, ...] = ()


class Room(StrictModel):
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


class ServiceDetail(StrictModel):
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


class ServiceItem(StrictModel):
    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=24)
    name: LocalText
    details: tuple[ServiceDetail, ...] = ()
    words: tuple[str, ...] = ()


class Vocabulary(StrictModel):
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


class Team(StrictModel):
    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=24)
    name: LocalText
    chat_id: int | None = None
    leader: int
    members: tuple[int, ...] = ()

    @property
    def everyone(self) -> frozenset[int]:
        return frozenset((self.leader, *self.members))


class Person(StrictModel):
    id: int
    name: str = Field(min_length=1)
    roles: tuple[Role, ...] = ()
    department: str | None = None
    language: Literal["zh", "en"] | None = None
