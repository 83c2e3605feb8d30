"""Which database the tests run on: SQLite files (the default) or PostgreSQL.

``HUIWU_TEST_DATABASE=postgres`` makes the ``db`` fixture, the end-to-end harness and the fault
tests use PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth). The schema is migrated
once per test session into a template database; every test then gets a copy of its own
(``CREATE DATABASE … TEMPLATE``, a few tens of milliseconds), dropped when the test ends, and
the template is dropped when the session ends. Tests marked ``sqlite_only`` test SQLite itself
and are deselected in that run (``-m "not sqlite_only"``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, TypedDict

import pytest


class PostgresServer(TypedDict):
    """Where the PostgreSQL of the tests answers (trust auth)."""

    host: str
    port: int
    user: str


POSTGRES: PostgresServer = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
BACKEND = os.environ.get("HUIWU_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
if BACKEND not in ("sqlite", "postgres", "postgresql"):
    raise RuntimeError(f"HUIWU_TEST_DATABASE must be sqlite or postgres, not {BACKEND!r}")
USE_POSTGRES = BACKEND != "sqlite"

_template: str | None = None
_sqlite_template: Path | None = None
_run = uuid.uuid4().hex[:10]


def postgres_url(name: str, host: str = POSTGRES["host"], port: int = POSTGRES["port"]) -> str:
    return f"postgresql+asyncpg://{POSTGRES['user']}@{host}:{port}/{name}"


async def admin_connection() -> Any:
    import asyncpg

    try:
        return await asyncpg.connect(database="postgres", timeout=3, **POSTGRES)
    except Exception as error:  # not running, refused, authentication …
        if USE_POSTGRES:
            raise RuntimeError(
                f"HUIWU_TEST_DATABASE=postgres but PostgreSQL does not answer: {error}"
            ) from error
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({error})")


async def _migrated_template() -> str:
    """The session's template database, migrated to head (created on first use)."""
    global _template
    if _template is None:
        from storage import migrate
        from storage.database import create_engine

        name = f"huiwu_test_template_{_run}"
        admin = await admin_connection()
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        engine = create_engine(postgres_url(name), pool_size=1)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        _template = name
    return _template


@contextlib.asynccontextmanager
async def postgres_test_database(migrated: bool = True) -> AsyncIterator[str]:
    """A database of this test's own (migrated to head unless ``migrated=False``); its URL."""
    template = await _migrated_template() if migrated else "template0"
    name = f"huiwu_test_{_run}_{uuid.uuid4().hex[:10]}"
    admin = await admin_connection()
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        yield postgres_url(name)
    finally:
        with contextlib.suppress(Exception):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def database_url_for(tmp_path: Path, name: str = "huiwu") -> AsyncIterator[str]:
    """The URL of a migrated database for one test: a SQLite file in ``tmp_path`` (a copy of
    the session's template), or a PostgreSQL database of its own when the run is on PostgreSQL."""
    if USE_POSTGRES:
        async with postgres_test_database() as url:
            yield url
    else:
        path = tmp_path / f"{name}.db"
        if not path.exists():  # a test that starts the bot again finds its data again
            shutil.copy(await _migrated_sqlite_template(), path)
        yield f"sqlite+aiosqlite:///{path}"


async def _migrated_sqlite_template() -> Path:
    """The session's SQLite file migrated to head, copied for each test: a started bot
    migrates a new database in a child process (storage/migrate.py), seconds per test."""
    global _sqlite_template
    if _sqlite_template is None:
        from storage import migrate
        from storage.database import create_engine

        path = Path(tempfile.mkdtemp(prefix="huiwu-test-template-")) / "template.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        with contextlib.closing(sqlite3.connect(path)) as connection:  # all in the file, no WAL
            connection.execute("PRAGMA journal_mode=DELETE")
        _sqlite_template = path
    return _sqlite_template


def _in_fresh_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _drop(name: str) -> None:
    admin = await admin_connection()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def drop_template() -> None:
    """At the end of the session."""
    global _template, _sqlite_template
    if _sqlite_template is not None:
        shutil.rmtree(_sqlite_template.parent, ignore_errors=True)
        _sqlite_template = None
    if _template is not None:
        _in_fresh_loop(_drop(_template))
        _template = None
