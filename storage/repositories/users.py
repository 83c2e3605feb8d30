"""People known to the bot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    @staticmethod
    def is_current(user: User, first_name: str, username: str | None) -> bool:
        return user.first_name == first_name[:128] and user.username == username

    async def upsert(self, user_id: int, first_name: str, username: str | None, now: datetime) -> User:
        user = await self.session.get(User, user_id)
        if user is None:
            user = User(id=user_id, first_name=first_name[:128], username=username, created_at=now)
            self.session.add(user)
        else:
            user.first_name = first_name[:128]
            user.username = username
        await self.session.flush()
        return user
