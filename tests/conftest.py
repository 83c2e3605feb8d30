"""Fixtures every test suite may use: the example site, a manual clock, a migrated database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.services.clock import ManualClock
from bot.site import SiteConfig, load_site
from storage import migrate
from storage.database import Database, create_engine

EXAMPLE_SITE = Path(__file__).resolve().parent.parent / "examples" / "site.toml"
# A Tuesday morning in the example site's zone.
CLOCK_START = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def site() -> SiteConfig:
    return load_site(EXAMPLE_SITE)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(CLOCK_START)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A Database on a migrated SQLite file of its own."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    await migrate.upgrade(engine)
    database = Database(engine)
    try:
        yield database
    finally:
        await database.dispose()
