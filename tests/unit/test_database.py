"""The unit-of-work helpers of storage/database.py, and who a person is (read, or written)."""

from __future__ import annotations

import asyncio
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.services.clock import ManualClock
from bot.services.people import PeopleService
from bot.site import SiteConfig
from storage.database import Database, create_engine
from storage.models import User

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


async def test_a_read_does_not_wait_for_a_writer(db: Database) -> None:
    """A writer holds SQLite's write lock (BEGIN IMMEDIATE); a read goes on meanwhile, while a
    second writer waits for the first."""
    async with db.transaction() as writer:
        writer.add(User(id=1, first_name="甲", username=None, created_at=NOW))
        await writer.flush()
        async with db.read() as reader:
            seen = await asyncio.wait_for(reader.scalar(select(func.count()).select_from(User)), timeout=2)
        assert seen == 0  # the writer's row is not committed yet
        if db.is_sqlite:
            second = asyncio.create_task(_write(db, 2))
            await asyncio.sleep(0.3)
            assert not second.done()  # writers take turns
    if db.is_sqlite:
        await asyncio.wait_for(second, timeout=5)
    async with db.read() as reader:
        assert await reader.scalar(select(func.count()).select_from(User)) == (2 if db.is_sqlite else 1)


async def _write(db: Database, user_id: int) -> None:
    async with db.transaction() as session:
        session.add(User(id=user_id, first_name="乙", username=None, created_at=NOW))


async def test_what_a_read_unit_writes_is_rolled_back(db: Database) -> None:
    async with db.read() as session:
        session.add(User(id=7, first_name="丙", username=None, created_at=NOW))
        await session.flush()
    async with db.read() as session:
        assert await session.get(User, 7) is None


@pytest.mark.parametrize(
    ("first_name", "username", "known"),
    [("王敏", "wm", True), ("王敏敏", "wm", False), ("王敏", None, False)],
)
async def test_a_person_is_recognised_by_reading_only_while_their_record_is_current(
    db: Database, site: SiteConfig, clock: ManualClock, first_name: str, username: str | None, known: bool
) -> None:
    people = PeopleService(site)
    async with db.read() as session:
        assert await people.recognise(session, 1001, "王敏", "wm") is None  # never seen
    async with db.transaction() as session:
        first = await people.identify(session, 1001, "王敏", "wm", clock.now())
    async with db.read() as session:
        again = await people.recognise(session, 1001, first_name, username)
    assert (again == first) if known else (again is None)


@pytest.mark.sqlite_only
async def test_the_database_and_its_wal_files_are_private_to_the_owner(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'huiwu.db'}")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("CREATE TABLE notes (body TEXT)"))
            await connection.execute(text("INSERT INTO notes VALUES ('confidential')"))
            await connection.commit()
            created = sorted(path.name for path in folder.iterdir())
            modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}
    finally:
        await engine.dispose()
    assert created == ["huiwu.db", "huiwu.db-shm", "huiwu.db-wal"]
    assert modes == dict.fromkeys(created, 0o600)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


@pytest.mark.sqlite_only
async def test_a_database_left_readable_by_an_older_version_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "huiwu.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    await engine.dispose()
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
