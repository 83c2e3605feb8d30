"""Who may join which department: invites, moves between departments, and guessing limits.

Rules decided here:

* Invites are issued in the database by a department's admins (``departments.admins``) or a
  site admin (role ``admin``). Each has a random code (``secrets.token_urlsafe``, 22
  characters), is good for one use, and expires after ``[site] invite_valid_days``. Only the
  code's SHA-256 digest is stored. An admin can revoke a live invite.
* The site file's own assignments always win: a person it places in a department or a team
  is never moved by an invite (and PeopleService ignores any department they joined by an
  invite before).
* Someone not yet registered who opens a live invite joins its department, and the invite is
  used.
* Someone registered (a department joined earlier, or roles from the site file) who opens
  another department's invite is not moved: the invite is used for a request, which that
  department's admins approve or refuse (a site admin may too; when the department has no
  admin, the site admins are asked). The person is told that it waits and then the outcome.
* The standing invite codes of the site file (``departments.invite_code``) admit nobody. The
  people the file places in that department are greeted; for anyone else it is a failed
  attempt.
* A person with ``MAX_FAILURES`` failed attempts within ``FAILURE_WINDOW`` is refused without
  the code being looked at. Each failure is logged at WARNING with only the code's first
  characters.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.clock import Clock
from bot.services.types import Notice
from bot.site import Role, SiteConfig
from storage.models.membership import Invite, MembershipRequest
from storage.repositories.membership import (
    InviteFailureRepository,
    InviteRepository,
    MembershipRequestRepository,
)
from storage.repositories.users import UserRepository

log = logging.getLogger(__name__)

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)
CODE_BYTES = 16
"""22 characters of ``A-Z a-z 0-9 _ -``: 128 random bits, and a valid deep-link payload."""
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What Telegram allows in a start payload; anything else cannot be an invite."""
HINT_LENGTH = 4
"""How much of a code is shown in /invites and written to the log."""


class MembershipError(Exception):
    """A rule said no; ``code`` picks the message, ``params`` fill it."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class JoinStatus(StrEnum):
    joined = "joined"
    already_member = "already_member"
    placed_by_site = "placed_by_site"
    awaiting_approval = "awaiting_approval"
    already_waiting = "already_waiting"
    rate_limited = "rate_limited"
    # failed attempts, each counted towards the limit
    invalid = "invalid"
    expired = "expired"
    used = "used"
    retired = "retired"


FAILURES = frozenset({JoinStatus.invalid, JoinStatus.expired, JoinStatus.used, JoinStatus.retired})


@dataclass(frozen=True)
class JoinResult:
    status: JoinStatus
    department_id: str | None = None
    request_id: int | None = None
    notices: list[Notice] = field(default_factory=list)


@dataclass(frozen=True)
class IssuedInvite:
    id: int
    code: str
    department_id: str
    expires_at: datetime


@dataclass(frozen=True)
class InviteView:
    id: int
    hint: str
    department_id: str
    created_by_id: int
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class MoveRequestView:
    id: int
    user_id: int
    department_id: str
    from_department_id: str | None
    status: str
    decided_by_id: int | None


@dataclass(frozen=True)
class Decision:
    request: MoveRequestView
    notices: list[Notice] = field(default_factory=list)
    placed_by_site: bool = False
    """Approved, but the site file now places the person: refused instead."""


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def invite_link(site: SiteConfig, code: str) -> str:
    return f"https://t.me/{site.site.bot_username}?start={code}"


def _invite_view(invite: Invite) -> InviteView:
    return InviteView(
        id=invite.id,
        hint=invite.code_hint,
        department_id=invite.department_id,
        created_by_id=invite.created_by_id,
        created_at=invite.created_at,
        expires_at=invite.expires_at,
    )


def move_request_view(request: MembershipRequest) -> MoveRequestView:
    return MoveRequestView(
        id=request.id,
        user_id=request.user_id,
        department_id=request.department_id,
        from_department_id=request.from_department_id,
        status=request.status,
        decided_by_id=request.decided_by_id,
    )


async def find_move_request(session: AsyncSession, request_id: int) -> MoveRequestView | None:
    """A request to move into a department as it is now, or None if there is none."""
    request = await MembershipRequestRepository(session).get(request_id)
    return move_request_view(request) if request is not None else None


class MembershipService:
    def __init__(self, site: SiteConfig, clock: Clock) -> None:
        self.site = site
        self.clock = clock

    # ---- who may do what ----------------------------------------------------------------
    def may_administer(self, user_id: int, department_id: str) -> bool:
        """Issue and revoke the department's invites, decide who moves into it."""
        return any(d.id == department_id for d in self.site.administered_departments(user_id))

    def deciders(self, department_id: str) -> list[int]:
        """Who is asked about a move into the department: its admins, else the site admins."""
        department = self.site.department(department_id)
        admins = list(department.admins) if department is not None else []
        return admins or self.site.people_with(Role.admin)

    # ---- invites --------------------------------------------------------------------------
    async def issue(self, session: AsyncSession, actor_id: int, department_id: str) -> IssuedInvite:
        if not self.site.administered_departments(actor_id):
            raise MembershipError("not_allowed")
        if self.site.department(department_id) is None:
            raise MembershipError("unknown_department")
        if not self.may_administer(actor_id, department_id):
            raise MembershipError("not_allowed")
        now = self.clock.now()
        code = secrets.token_urlsafe(CODE_BYTES)
        invite = await InviteRepository(session).add(
            code_digest=code_digest(code),
            code_hint=code[:HINT_LENGTH],
            department_id=department_id,
            created_by_id=actor_id,
            now=now,
            expires_at=now + timedelta(days=self.site.site.invite_valid_days),
        )
        log.info("invite %s into %s issued by %s", invite.id, department_id, actor_id)
        return IssuedInvite(invite.id, code, department_id, invite.expires_at)

    async def live_invites(self, session: AsyncSession, actor_id: int) -> list[InviteView]:
        """The live invites of every department the person administers."""
        departments = [d.id for d in self.site.administered_departments(actor_id)]
        invites = await InviteRepository(session).live(departments, self.clock.now())
        return [_invite_view(invite) for invite in invites]

    async def revoke(self, session: AsyncSession, actor_id: int, invite_id: int) -> InviteView:
        invites = InviteRepository(session)
        invite = await invites.get(invite_id)
        if invite is None or not self.may_administer(actor_id, invite.department_id):
            # the same answer either way: a press must not tell which invites exist
            raise MembershipError("not_allowed")
        if not await invites.revoke(invite_id, actor_id, self.clock.now()):
            raise MembershipError("not_live")
        log.info("invite %s into %s revoked by %s", invite_id, invite.department_id, actor_id)
        return _invite_view(invite)

    # ---- joining --------------------------------------------------------------------------
    async def redeem(self, session: AsyncSession, user_id: int, code: str) -> JoinResult:
        """Someone opened ``t.me/<bot>?start=<code>``."""
        now = self.clock.now()
        failures = InviteFailureRepository(session)
        if await failures.count_since(user_id, now - FAILURE_WINDOW) >= MAX_FAILURES:
            log.warning("invite attempt by %s refused unread: too many failed attempts", user_id)
            return JoinResult(JoinStatus.rate_limited)
        result = await self._redeem(session, user_id, code, now)
        if result.status in FAILURES:
            await failures.add(user_id, result.status.value, now, forget_before=now - FAILURE_WINDOW)
            log.warning(
                "invite attempt by %s failed (%s): code %r…", user_id, result.status.value, code[:HINT_LENGTH]
            )
        return result

    async def _redeem(self, session: AsyncSession, user_id: int, code: str, now: datetime) -> JoinResult:
        if not CODE_PATTERN.fullmatch(code):
            return JoinResult(JoinStatus.invalid)
        standing = self.site.department_by_invite(code)
        if standing is not None:
            if self.site.placed_department(user_id) == standing.id:
                return JoinResult(JoinStatus.already_member, standing.id)
            return JoinResult(JoinStatus.retired)
        invites = InviteRepository(session)
        invite = await invites.by_digest(code_digest(code))
        if (
            invite is None
            or invite.revoked_at is not None
            or self.site.department(invite.department_id) is None
        ):
            return JoinResult(JoinStatus.invalid)
        department_id = invite.department_id
        requests = MembershipRequestRepository(session)
        if invite.used_at is not None:
            # the same person opening their link again is told where they stand
            if invite.used_by_id == user_id:
                if await requests.pending_of(user_id, department_id) is not None:
                    return JoinResult(JoinStatus.already_waiting, department_id)
                if await self._current_department(session, user_id) == department_id:
                    return JoinResult(JoinStatus.already_member, department_id)
            return JoinResult(JoinStatus.used)
        if invite.expires_at <= now:
            return JoinResult(JoinStatus.expired)
        if self.site.placed_by_site(user_id):
            placed = self.site.placed_department(user_id)
            status = JoinStatus.already_member if placed == department_id else JoinStatus.placed_by_site
            return JoinResult(status, department_id)
        users = UserRepository(session)
        user = await users.get(user_id) or await users.upsert(user_id, "", None, now)
        if user.department_id == department_id:
            return JoinResult(JoinStatus.already_member, department_id)
        registered = user.department_id is not None or bool(self.site.roles_of(user_id))
        if registered:
            if await requests.pending_of(user_id, department_id) is not None:
                return JoinResult(JoinStatus.already_waiting, department_id)
            if not await invites.claim(invite.id, user_id, now):
                return JoinResult(JoinStatus.used)
            request = await requests.add(
                user_id=user_id,
                department_id=department_id,
                from_department_id=user.department_id,
                invite_id=invite.id,
                now=now,
            )
            log.info("%s asks to move from %s into %s", user_id, user.department_id, department_id)
            notices = [
                Notice("membership_request", chat_id=decider, params={"request_id": request.id})
                for decider in self.deciders(department_id)
                if decider != user_id
            ]
            return JoinResult(JoinStatus.awaiting_approval, department_id, request.id, notices)
        if not await invites.claim(invite.id, user_id, now):
            return JoinResult(JoinStatus.used)
        user.department_id = department_id
        await session.flush()
        log.info("%s joined %s with invite %s", user_id, department_id, invite.id)
        return JoinResult(JoinStatus.joined, department_id)

    async def _current_department(self, session: AsyncSession, user_id: int) -> str | None:
        placed = self.site.placed_department(user_id)
        if placed is not None or self.site.placed_by_site(user_id):
            return placed
        user = await UserRepository(session).get(user_id)
        return user.department_id if user is not None else None

    # ---- moves between departments --------------------------------------------------------
    async def move_request(self, session: AsyncSession, request_id: int) -> MoveRequestView | None:
        return await find_move_request(session, request_id)

    async def decide(self, session: AsyncSession, actor_id: int, request_id: int, approve: bool) -> Decision:
        requests = MembershipRequestRepository(session)
        request = await requests.get(request_id)
        if request is None or not self.may_administer(actor_id, request.department_id):
            raise MembershipError("not_allowed")
        if request.status != "pending":
            raise MembershipError("already_decided", status=request.status)
        now = self.clock.now()
        placed = approve and self.site.placed_by_site(request.user_id)
        status = "approved" if approve and not placed else "refused"
        if not await requests.decide(request_id, status, actor_id, now):
            raise MembershipError("already_decided")
        await session.refresh(request)
        if status == "approved":
            users = UserRepository(session)
            user = await users.get(request.user_id) or await users.upsert(request.user_id, "", None, now)
            user.department_id = request.department_id
            await session.flush()
        log.info("move of %s into %s %s by %s", request.user_id, request.department_id, status, actor_id)
        notice = Notice("membership_decided", chat_id=request.user_id, params={"request_id": request_id})
        return Decision(move_request_view(request), [notice], placed_by_site=placed)
