"""People who wrote to the bot, and the teams' groups bound at run time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    department_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class ChatBinding(Base):
    """A team's group bound at run time with /bind (overrides the site file's chat_id)."""

    __tablename__ = "chat_bindings"

    team_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    bound_by_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
