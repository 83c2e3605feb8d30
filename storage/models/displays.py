"""The door displays' tokens issued in chat (``/display <room>``, docs/product.md §2).

Only a digest of each token is kept: whoever reads the database cannot open a display with
it, and the link the admin was given is the only copy of the token. One row per room: issuing
a new token replaces the old one, which stops opening the display at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class DisplayToken(Base):
    __tablename__ = "display_tokens"

    room_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the token, hex."""
    issued_by_id: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime]
