"""Apply Alembic migrations: at start (in a short child process), by ``huiwu migrate`` and in tests.

Alembic (with Mako and Pygments, which it imports) costs the long-running bot about 12 MB that it
would hold until it stops, for work done once at start. So the bot's start (:func:`bring_to_head`)
never imports it: a database already at the newest revision (every restart) is only checked, by
reading ``alembic_version`` and the revision files; one that needs migrating is migrated by
``python -m storage.migrate`` in a child process, which ends when the migrations have run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine, refresh_statistics

if TYPE_CHECKING:
    from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ROOT / "storage" / "migrations" / "versions"
URL_VARIABLE = "DATABASE_URL"
"""How the child is told the database (the environment, not its command line: ``ps`` shows that)."""

log = logging.getLogger(__name__)


class MigrationFailed(RuntimeError):
    """The migrations' child process failed: the bot must not start on an old schema."""


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "storage" / "migrations"))
    config.attributes["configure_logging"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    from alembic import command

    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
        await refresh_statistics(connection)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    from alembic import command

    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


_REVISION = re.compile(r"^(down_)?revision\s*(?::[^=]*)?=\s*(?:[\"'](\w+)[\"']|None)", re.MULTILINE)


def head_revision(versions: Path = VERSIONS) -> str | None:
    """The newest revision, read from the revision files without Alembic; None when the files
    do not name exactly one (branches, or a file this reading does not understand): then the
    child is asked, and Alembic decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        for match in _REVISION.finditer(path.read_text(encoding="utf-8")):
            if match[2] is not None:
                (parents if match[1] else revisions).add(match[2])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if len(rows) == 1 else None


async def bring_to_head(engine: AsyncEngine, url: str) -> None:
    """The start's migrations (the caller holds the migrations' lock): none when the database
    is at the newest revision, else in a child process; then fresh planner statistics."""
    async with engine.begin() as connection:
        head = head_revision()
        if head is not None and await connection.run_sync(_current_revision) == head:
            await refresh_statistics(connection)
            return
    database = make_url(url).database
    if make_url(url).get_backend_name() == "sqlite" and database in (None, "", ":memory:"):
        await upgrade(engine)  # a database only this process can see: no child could migrate it
        return
    await _upgrade_in_child(url)


async def _upgrade_in_child(url: str) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "storage.migrate",
        env={**os.environ, URL_VARIABLE: url},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, errors = await child.communicate()
    said = errors.decode(errors="replace").strip()
    if child.returncode != 0:
        for line in said.splitlines():
            log.error("migrations: %s", line)
        last = said.splitlines()[-1] if said else "no message"
        raise MigrationFailed(f"the migrations failed (exit code {child.returncode}): {last}")
    if said:
        log.warning("migrations: %s", said)


async def _upgrade_alone(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def main() -> int:
    """``python -m storage.migrate``: upgrade the database named by ``DATABASE_URL`` to head."""
    url = os.environ.get(URL_VARIABLE)
    if not url:
        print(f"storage.migrate: {URL_VARIABLE} is not set", file=sys.stderr)
        return 2
    asyncio.run(_upgrade_alone(url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
