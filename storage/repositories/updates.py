"""Update ids already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate


class UpdateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def remember(self, update_id: int, now: datetime) -> bool:
        """True the first time an update id is seen."""
        if await self.session.get(ProcessedUpdate, update_id) is not None:
            return False
        self.session.add(ProcessedUpdate(update_id=update_id, at=now))
        await self.session.flush()
        return True

    async def forget(self, update_id: int) -> None:
        await self.session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.update_id == update_id))
