"""Who someone is to the bot: roles and places from the site file, else the department joined
by invite (bot/services/membership.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.strict import clean_text
from bot.site import Role, SiteConfig
from storage.models import User
from storage.repositories.users import UserRepository


@dataclass(frozen=True)
class PersonContext:
    user_id: int
    name: str
    language: str | None
    department_id: str | None
    roles: frozenset[Role]
    team_ids: tuple[str, ...]

    @property
    def registered(self) -> bool:
        return self.department_id is not None or bool(self.roles) or bool(self.team_ids)

    @property
    def can_book(self) -> bool:
        return self.department_id is not None or Role.dispatcher in self.roles

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))


MAX_NAME = 128  # the users table's first_name column


def shown_name(first_name: str) -> str:
    """A Telegram name as it is stored and shown to groups and supervisors: one line, without
    the invisible characters that could make it look like another name or reverse the text."""
    return clean_text(first_name, MAX_NAME)


_NAMES = "huiwu_known_names"
"""``session.info`` key: {user id: name or None} read in a session that :func:`remember_names`."""


def remember_names(session: AsyncSession) -> None:
    """Within ``session``, a name once read is not read again, nor a missing one looked for
    again (the identity map keeps neither: it holds a user only while someone refers to it,
    and never an absent one).

    For a read-only unit that renders many messages (the sender's claimed batch names the
    same leaders and assignees on card after card); a unit that may write a name must not."""
    session.info.setdefault(_NAMES, {})


async def known_name(session: AsyncSession, site: SiteConfig, user_id: int) -> str | None:
    """A person's name as it is (not escaped): the site file's, else the Telegram name they
    last came with; None when neither is known."""
    person = site.person(user_id)
    if person is not None:
        return person.name
    names: dict[int, str | None] | None = session.info.get(_NAMES)
    if names is not None and user_id in names:
        return names[user_id]
    user = await UserRepository(session).get(user_id)
    name = user.first_name if user is not None and user.first_name else None
    if names is not None:
        names[user_id] = name
    return name


class PeopleService:
    def __init__(self, site: SiteConfig) -> None:
        self.site = site

    async def identify(
        self, session: AsyncSession, user_id: int, first_name: str, username: str | None, now: datetime
    ) -> PersonContext:
        """Who this is; their record is created, or its name updated, as needed."""
        user = await UserRepository(session).upsert(user_id, shown_name(first_name), username, now)
        return self._context(user)

    async def recognise(
        self, session: AsyncSession, user_id: int, first_name: str, username: str | None
    ) -> PersonContext | None:
        """Who this is, by reading only; None when their record is missing or out of date
        (then :meth:`identify` in a writing transaction)."""
        user = await UserRepository(session).get(user_id)
        if user is None or not UserRepository.is_current(user, shown_name(first_name), username):
            return None
        return self._context(user)

    def _context(self, user: User) -> PersonContext:
        user_id = user.id
        person = self.site.person(user_id)
        # The site file's own assignment always wins: a person it places in a department or a
        # team keeps that place, whatever department an invite once gave them.
        placed = self.site.placed_by_site(user_id)
        department = self.site.placed_department(user_id) if placed else user.department_id
        roles = set(person.roles) if person else set()
        if department is not None:
            roles.add(Role.requester)
        return PersonContext(
            user_id=user_id,
            name=person.name if person else user.first_name,
            language=user.language or (person.language if person else None),
            department_id=department,
            roles=frozenset(roles),
            team_ids=tuple(team.id for team in self.site.teams_of(user_id)),
        )

    async def set_language(self, session: AsyncSession, user_id: int, language: str) -> None:
        user = await UserRepository(session).get(user_id)
        if user is not None:
            user.language = language
            await session.flush()
