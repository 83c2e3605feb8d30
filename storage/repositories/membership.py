"""Invites, requests to move into a department, and failed invite attempts. Add and flush only."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.membership import Invite, InviteFailure, MembershipRequest


class InviteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        code_digest: str,
        code_hint: str,
        department_id: str,
        created_by_id: int,
        now: datetime,
        expires_at: datetime,
    ) -> Invite:
        invite = Invite(
            code_digest=code_digest,
            code_hint=code_hint,
            department_id=department_id,
            created_by_id=created_by_id,
            created_at=now,
            expires_at=expires_at,
        )
        self.session.add(invite)
        await self.session.flush()
        return invite

    async def get(self, invite_id: int) -> Invite | None:
        return await self.session.get(Invite, invite_id)

    async def by_digest(self, code_digest: str) -> Invite | None:
        return await self.session.scalar(select(Invite).where(Invite.code_digest == code_digest))

    async def claim(self, invite_id: int, user_id: int, now: datetime) -> bool:
        """Use the invite for ``user_id``; False when it was used, revoked or expired meanwhile.

        One conditional UPDATE, so of two people opening one invite at once only one gets it.
        """
        return await self._update_if_live(invite_id, now, used_by_id=user_id, used_at=now)

    async def revoke(self, invite_id: int, user_id: int, now: datetime) -> bool:
        """False when the invite was used, revoked or expired meanwhile."""
        return await self._update_if_live(invite_id, now, revoked_by_id=user_id, revoked_at=now)

    async def _update_if_live(self, invite_id: int, now: datetime, **values: object) -> bool:
        """Set ``values`` on the invite if it is still unused, unrevoked and unexpired; whether
        it was (one conditional UPDATE: of two concurrent callers only one succeeds)."""
        result = await self.session.execute(
            update(Invite)
            .where(
                Invite.id == invite_id,
                Invite.used_at.is_(None),
                Invite.revoked_at.is_(None),
                Invite.expires_at > now,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def live(self, department_ids: Collection[str], now: datetime) -> list[Invite]:
        """Unused, unrevoked, unexpired invites of these departments, the soonest to expire first."""
        if not department_ids:
            return []
        rows = await self.session.scalars(
            select(Invite)
            .where(
                Invite.department_id.in_(list(department_ids)),
                Invite.used_at.is_(None),
                Invite.revoked_at.is_(None),
                Invite.expires_at > now,
            )
            .order_by(Invite.expires_at, Invite.id)
        )
        return list(rows)


class MembershipRequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        user_id: int,
        department_id: str,
        from_department_id: str | None,
        invite_id: int | None,
        now: datetime,
    ) -> MembershipRequest:
        request = MembershipRequest(
            user_id=user_id,
            department_id=department_id,
            from_department_id=from_department_id,
            invite_id=invite_id,
            status="pending",
            created_at=now,
        )
        self.session.add(request)
        await self.session.flush()
        return request

    async def get(self, request_id: int) -> MembershipRequest | None:
        return await self.session.get(MembershipRequest, request_id)

    async def pending_of(self, user_id: int, department_id: str) -> MembershipRequest | None:
        return await self.session.scalar(
            select(MembershipRequest)
            .where(
                MembershipRequest.user_id == user_id,
                MembershipRequest.department_id == department_id,
                MembershipRequest.status == "pending",
            )
            .order_by(MembershipRequest.id)
            .limit(1)
        )

    async def decide(self, request_id: int, status: str, user_id: int, now: datetime) -> bool:
        """False when the request was decided meanwhile (another admin pressed first)."""
        result = await self.session.execute(
            update(MembershipRequest)
            .where(MembershipRequest.id == request_id, MembershipRequest.status == "pending")
            .values(status=status, decided_by_id=user_id, decided_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


class InviteFailureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count_since(self, user_id: int, since: datetime) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(InviteFailure)
            .where(InviteFailure.user_id == user_id, InviteFailure.at > since)
        )
        return int(count or 0)

    async def add(self, user_id: int, reason: str, now: datetime, forget_before: datetime) -> None:
        """Record a failure; the person's failures older than ``forget_before`` are dropped."""
        await self.session.execute(
            delete(InviteFailure).where(InviteFailure.user_id == user_id, InviteFailure.at <= forget_before)
        )
        self.session.add(InviteFailure(user_id=user_id, at=now, reason=reason[:16]))
        await self.session.flush()
