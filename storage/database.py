"""Engine and session factory; SQLite is set up so that writers serialise instead of failing."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# The database holds confidential meetings' titles, notes and phone numbers: owner only.
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIRECTORY_MODE = 0o700
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def ensure_sqlite_directory(url: str) -> None:
    """Create an SQLite database's folder (0700) and file (0600) before SQLite opens it.

    SQLite creates its -wal and -shm files with the database file's permissions, so making the
    file private first keeps all three private; files left readable by an older version are
    made private too. A folder that already exists is left as it is (it may be shared, /tmp).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    path = Path(parsed.database)
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIRECTORY_MODE)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE))
    for suffix in SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        if companion.exists() and companion.stat().st_mode & 0o077:
            companion.chmod(PRIVATE_FILE_MODE)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    ensure_sqlite_directory(url)
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    if is_sqlite:
        kwargs.setdefault("connect_args", {"timeout": 30})
    else:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", True)
        # Each statement is planned with its own values. A prepared statement otherwise gets a
        # generic plan after five runs, kept until the table is next analysed: made while a
        # table was nearly empty (a new site, a test, the hour after a restore) it reads the
        # whole table for a key lookup, each run slower as the table grows (a catch-up's
        # dedupe-key and foreign-key checks took three times as long at 100,000 rows). The
        # statements here are short; planning each costs a fraction of a millisecond.
        kwargs.setdefault("connect_args", {"server_settings": {"plan_cache_mode": "force_custom_plan"}})
    engine = create_async_engine(url, **kwargs)
    if is_sqlite:
        _serialise_sqlite_writers(engine)
    return engine


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    """Every transaction takes SQLite's write lock up front (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes after another writer committed fails
    with "database is locked" at once; an immediate one waits for the lock instead.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # a read-only unit (Database.read) reads a WAL snapshot and takes no lock at all
        deferred = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


READ_ONLY = "huiwu_read_only"
SQLITE_ANALYSIS_LIMIT = "PRAGMA analysis_limit=1000"
"""ANALYZE reads at most 1000 rows per index: statistics good enough for SQLite's planner, in a
few milliseconds even on a large database (a PRAGMA takes no bound parameter)."""


async def refresh_statistics(connection: AsyncConnection, *, sqlite_only: bool = False) -> None:
    """Planner statistics for every table (after a start's migrations, and hourly).

    SQLite keeps none until ANALYZE runs, and without them it guesses from the shape of each
    query, not from the data; the hourly clean-up refreshes them (``sqlite_only``). On
    PostgreSQL autovacuum keeps them, but only some time after a bulk load or a restore.
    """
    if connection.dialect.name == "sqlite":
        await connection.exec_driver_sql(SQLITE_ANALYSIS_LIMIT)
    elif sqlite_only:
        return
    await connection.exec_driver_sql("ANALYZE")


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` from a readable name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@asynccontextmanager
async def exclusive(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    """Hold a PostgreSQL advisory lock named ``name`` for the block (instances starting together
    run their migrations one after the other). On SQLite it does nothing: there every
    transaction takes the database's write lock anyway (BEGIN IMMEDIATE)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    key = advisory_key(name)
    async with engine.connect() as connection:
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        await connection.commit()
        try:
            yield
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            await connection.commit()


class Database:
    """The session factory handed to every entry point (handler, job, CLI)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A unit that only reads: on SQLite it does not wait for the write lock (the tick and
        the sender hold it in turns), so a press is not kept waiting to look something up.
        Anything written in it is rolled back."""
        async with self.sessionmaker() as session:
            await session.connection(execution_options={READ_ONLY: True})
            try:
                yield session
            finally:
                await session.rollback()

    async def dispose(self) -> None:
        await self.engine.dispose()
