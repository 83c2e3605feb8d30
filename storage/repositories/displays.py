"""The door displays' issued tokens (their digests), one per room. Add and flush; the entry
point owns the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.displays import DisplayToken


class DisplayTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def digest_of(self, room_id: str) -> str | None:
        """The digest of the token issued for this room, or None (none was issued)."""
        return await self.session.scalar(
            select(DisplayToken.token_digest).where(DisplayToken.room_id == room_id)
        )

    async def replace(self, room_id: str, token_digest: str, issued_by_id: int, now: datetime) -> None:
        """The room's token is now this one; the one issued before stops opening the display."""
        await self.session.execute(delete(DisplayToken).where(DisplayToken.room_id == room_id))
        self.session.add(
            DisplayToken(room_id=room_id, token_digest=token_digest, issued_by_id=issued_by_id, issued_at=now)
        )
        await self.session.flush()
