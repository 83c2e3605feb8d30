"""Migrations walk up and down one revision at a time, and the head matches the models.

SQLite always; PostgreSQL when one answers on 127.0.0.1:5432 (user postgres, trust auth),
in a fresh database of its own that is dropped at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.database import create_engine
from storage.models import Base

POSTGRES_HOST = "127.0.0.1"
POSTGRES_PORT = 5432
POSTGRES_USER = "postgres"


def revisions_base_to_head() -> list[tuple[str, str]]:
    """(revision, the revision below it or "base"), oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
    steps = []
    for revision in script.walk_revisions():
        down = revision.down_revision
        assert not isinstance(down, tuple | list), f"{revision.revision} is a merge; walk it by hand"
        steps.append((revision.revision, down or "base"))
    return list(reversed(steps))


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def schema_differences(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        return await connection.run_sync(_differences)


async def walk_up(engine: AsyncEngine, steps: list[tuple[str, str]]) -> None:
    for revision, _ in steps:
        await migrate.upgrade(engine, revision)
        assert await current_revision(engine) == revision


async def walk_down(engine: AsyncEngine, steps: list[tuple[str, str]]) -> None:
    for revision, below in reversed(steps):
        assert await current_revision(engine) == revision
        await migrate.downgrade(engine, below)
        assert await current_revision(engine) == (None if below == "base" else below)


async def up_down_up(engine: AsyncEngine) -> None:
    steps = revisions_base_to_head()
    assert steps, "no migrations found"
    model_tables = set(Base.metadata.tables)

    await walk_up(engine, steps)
    assert await tables(engine) == model_tables | {"alembic_version"}
    assert await schema_differences(engine) == [], "the migrations lag the models (storage/models/)"

    await walk_down(engine, steps)
    assert await tables(engine) <= {"alembic_version"}

    await walk_up(engine, steps)
    assert await tables(engine) == model_tables | {"alembic_version"}
    assert await schema_differences(engine) == []


def test_there_is_one_line_of_revisions() -> None:
    steps = revisions_base_to_head()

    assert steps[0][1] == "base"
    for (_, below), (previous, _) in zip(steps[1:], steps, strict=False):
        assert below == previous


# ---- SQLite -------------------------------------------------------------------------------------


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'huiwu.db'}")
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_sqlite_upgrade_downgrade_upgrade(sqlite_engine: AsyncEngine) -> None:
    await up_down_up(sqlite_engine)


async def test_sqlite_upgrade_to_head_twice_changes_nothing(sqlite_engine: AsyncEngine) -> None:
    await migrate.upgrade(sqlite_engine)
    await migrate.upgrade(sqlite_engine, "head")

    assert await current_revision(sqlite_engine) == revisions_base_to_head()[-1][0]
    assert await schema_differences(sqlite_engine) == []


# ---- PostgreSQL ---------------------------------------------------------------------------------


async def _admin_connection() -> Any:
    import asyncpg

    return await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database="postgres", timeout=3
    )


@pytest.fixture
async def postgres_engine() -> AsyncIterator[AsyncEngine]:
    try:
        admin = await _admin_connection()
    except (OSError, TimeoutError) as exc:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_HOST}:{POSTGRES_PORT} ({exc})")
    except Exception as exc:  # authentication and other server refusals
        pytest.skip(f"PostgreSQL at {POSTGRES_HOST}:{POSTGRES_PORT} refused the connection ({exc})")
    name = f"huiwu_migrations_{uuid.uuid4().hex[:16]}"
    engine: AsyncEngine | None = None
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        engine = create_engine(
            f"postgresql+asyncpg://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}", pool_size=2
        )
        yield engine
    finally:
        if engine is not None:
            await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_postgres_upgrade_downgrade_upgrade(postgres_engine: AsyncEngine) -> None:
    await up_down_up(postgres_engine)


async def test_postgres_refuses_overlapping_bookings_after_upgrade(postgres_engine: AsyncEngine) -> None:
    """The exclusion constraint is PostgreSQL-only, so compare_metadata cannot see it."""
    await migrate.upgrade(postgres_engine)

    async with postgres_engine.connect() as connection:
        found = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_constraint WHERE conname = 'ex_bookings_room_time' AND contype = 'x'"
            )
        )
    assert found == 1

    await migrate.downgrade(postgres_engine, "base")
    async with postgres_engine.connect() as connection:
        left = await connection.scalar(
            text("SELECT count(*) FROM pg_constraint WHERE conname = 'ex_bookings_room_time'")
        )
    assert left == 0
