"""The whole site file (:class:`SiteConfig`) and its look-ups."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import Field

from bot.site.basics import (
    Department,
    Layout,
    Person,
    Role,
    Room,
    RoomClass,
    ServiceItem,
    SiteInfo,
    StrictModel,
    Team,
    Vocabulary,
)
from bot.site.checkin import CheckIn
from bot.site.schedule import Aftercare, Approvals, Consumable, Digest, Retention, Statements, Weekly
from bot.site.series import Series
from bot.site.tasks import Escalation, TaskTemplate


class SiteConfig(StrictModel):
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
    statements: Statements = Statements()
    checkin: CheckIn = CheckIn()
    series: Series = Series()

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
