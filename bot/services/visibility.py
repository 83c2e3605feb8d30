"""What each reader may see of a meeting: the one place that decides it.

Every view that shows a meeting (task cards, escalations, /today, /overdue, /mytasks, the
daily digest, the weekly briefing, calendar files, after-meeting cards, booking summaries)
asks :func:`meeting_view` and shows only what it returns; none decides on its own.

The protected parts of a meeting are its **title, organising unit, notes, contact, and the
typed texts of its service items** (the banner's wording, the names on the nameplates, any
other text detail). Room, time, attendees, layout, level, service items and their numbers
(microphones, refill interval) are never protected: the teams need them to do the work.

Who sees the protected parts (docs/product.md §2 "staff groups see room, time and tasks but
not title, unit or notes"):

* The booking's own department sees all of its own meeting, everywhere.
* **An ordinary meeting**: the service centre's supervisors, managers and dispatchers, the
  approver, an admin and the teams' staff (in their groups too) see it all. Anyone else —
  another department, a stranger, the public room feed — sees only that the room is taken.
* **A confidential meeting**, in a message: the supervisors, managers and dispatchers (they
  coordinate it, act on its escalations and call its contact) and the approver when the
  meeting needed approval (the approval request shows it). The teams' staff see room, time
  and tasks only: they need neither the title nor the names to set up the room, and the
  banner and nameplates are handed over on site by the dispatcher. Admins configure the
  site and do not need it either.
* **A confidential meeting, in a report or a file** (the weekly briefing, the daily digest,
  ``/tomorrow``, a room's .ics file and HTTP feed): nobody but its own department. A file is
  forwarded, a calendar syncs to other services and the digest is kept as text in the
  outbox, so even the supervisor's copy says only "confidential"; the meeting is still
  counted. Whoever needs the details reads them in /today, /my or an escalation.
* **The room's door display** (``Medium.door``, a screen read by whoever walks past): the
  title and unit of an ordinary meeting (what a printed sign at the door would say), never its
  notes, contact or typed service texts; of a confidential meeting nothing but that the room
  is taken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.people import PersonContext
from bot.services.types import BookingView
from bot.site import Role, SiteConfig
from storage.repositories.users import UserRepository

COORDINATORS = frozenset({Role.supervisor, Role.manager, Role.dispatcher})
"""The roles that see a confidential meeting in a message (they coordinate and escalate)."""
SEE_ORDINARY = frozenset({*COORDINATORS, Role.approver, Role.admin})
"""The roles that see an ordinary meeting of any department."""


class Medium(StrEnum):
    message = "message"
    """A message read where it is sent: a private chat, or a team's group."""
    report = "report"
    """A report or a file that leaves the chat or is kept: briefing, digest, calendar."""
    door = "door"
    """The screen at a room's door: public, read by whoever walks past."""


@dataclass(frozen=True)
class Audience:
    """Who reads: their roles, their department, whether they are a team's staff, and how."""

    roles: frozenset[Role] = frozenset()
    department_id: str | None = None
    staff: bool = False
    medium: Medium = Medium.message

    @classmethod
    def group(cls, medium: Medium = Medium.message) -> Audience:
        """Everyone in a group chat: read as a team's staff, whoever else may be there."""
        return cls(staff=True, medium=medium)

    @classmethod
    def organiser(cls, department_id: str) -> Audience:
        """The booking's own department (the requester, the organiser of a fee or feedback)."""
        return cls(frozenset({Role.requester}), department_id)

    @classmethod
    def passer_by(cls) -> Audience:
        """Whoever reads the room's door display: nobody in particular, in public."""
        return cls(medium=Medium.door)

    def in_report(self) -> Audience:
        return Audience(self.roles, self.department_id, self.staff, Medium.report)


@dataclass(frozen=True)
class MeetingFacts:
    """The parts of a meeting a view may show (whatever its source: a booking, a report row)."""

    department_id: str
    title: str
    confidential: bool
    notes: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    services: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    needs_approval: bool = False
    """The meeting went to the approver (room class or layout), who saw it in full."""


@dataclass(frozen=True)
class MeetingView:
    """What a reader may be shown; a protected part is None when they may not see it."""

    confidential: bool
    title: str | None
    department_id: str | None
    notes: str | None
    contact_name: str | None
    contact_phone: str | None
    services: dict[str, dict[str, Any]]
    """Every service item; typed texts (banner wording, names) left out when protected."""

    @property
    def hidden(self) -> bool:
        """The protected parts are not for this reader (only room, time and tasks are)."""
        return self.title is None

    @property
    def banner(self) -> str | None:
        text = self.services.get("banner", {}).get("text")
        return str(text) if text not in (None, "") else None

    @property
    def nameplates(self) -> str | None:
        names = self.services.get("nameplates", {}).get("names")
        return str(names) if names not in (None, "") else None


def _sees_everything(meeting: MeetingFacts, audience: Audience) -> bool:
    if audience.department_id is not None and audience.department_id == meeting.department_id:
        return True
    if not meeting.confidential:
        return bool(audience.roles & SEE_ORDINARY) or audience.staff
    if audience.medium == Medium.report:
        return False
    if audience.roles & COORDINATORS:
        return True
    return Role.approver in audience.roles and meeting.needs_approval


def meeting_view(meeting: MeetingFacts, audience: Audience) -> MeetingView:
    """What ``audience`` may be shown of ``meeting`` (the rules are in the module's docstring)."""
    services = {service: dict(details) for service, details in meeting.services.items()}
    if audience.medium == Medium.door:
        return _door_view(meeting, services)
    if _sees_everything(meeting, audience):
        return MeetingView(
            meeting.confidential,
            meeting.title,
            meeting.department_id,
            meeting.notes,
            meeting.contact_name,
            meeting.contact_phone,
            services,
        )
    # numbers (how many microphones) are work; typed texts (a banner, names) may tell the meeting
    counts = {
        service: {key: value for key, value in details.items() if not isinstance(value, str)}
        for service, details in services.items()
    }
    return MeetingView(meeting.confidential, None, None, None, None, None, counts)


def _door_view(meeting: MeetingFacts, services: dict[str, dict[str, Any]]) -> MeetingView:
    """The door display: a sign's worth of an ordinary meeting (title and unit), nothing of a
    confidential one; never notes, contact or typed texts, whoever the meeting belongs to."""
    counts = {
        service: {key: value for key, value in details.items() if not isinstance(value, str)}
        for service, details in services.items()
    }
    if meeting.confidential:
        return MeetingView(True, None, None, None, None, None, counts)
    return MeetingView(False, meeting.title, meeting.department_id, None, None, None, counts)


def needs_approval(site: SiteConfig, room_id: str, layout_id: str) -> bool:
    """Whether a booking of this room and layout goes to the approver."""
    room = site.room(room_id)
    layout = site.layout(layout_id)
    if room is not None and room.room_class in site.room_classes and site.room_class_of(room).needs_approval:
        return True
    return bool(layout and layout.needs_approval)


def booking_facts(site: SiteConfig, view: BookingView) -> MeetingFacts:
    return MeetingFacts(
        department_id=view.department_id,
        title=view.title,
        confidential=view.confidential,
        notes=view.notes,
        contact_name=view.contact_name,
        contact_phone=view.contact_phone,
        services=view.services,
        needs_approval=needs_approval(site, view.room_id, view.layout),
    )


def audience_of(
    site: SiteConfig,
    chat_id: int | None,
    department_id: str | None = None,
    medium: Medium = Medium.message,
) -> Audience:
    """The reader of a chat: a group (a negative id) is read as staff; a person by the site file."""
    if chat_id is None:
        return Audience(department_id=department_id, medium=medium)
    if chat_id < 0:
        return Audience.group(medium)
    return Audience(site.roles_of(chat_id), department_id, bool(site.teams_of(chat_id)), medium)


def audience_of_person(person: PersonContext, medium: Medium = Medium.message) -> Audience:
    """A person who asks in a private chat, as the bot knows them."""
    return Audience(person.roles, person.department_id, bool(person.team_ids), medium)


async def audience_of_chat(
    session: AsyncSession, site: SiteConfig, chat_id: int, medium: Medium = Medium.message
) -> Audience:
    """The reader of a chat a notice goes to, with the department they registered with."""
    if chat_id < 0:
        return Audience.group(medium)
    user = await UserRepository(session).get(chat_id)
    person = site.person(chat_id)
    department = (user.department_id if user is not None else None) or (person.department if person else None)
    return audience_of(site, chat_id, department, medium)
