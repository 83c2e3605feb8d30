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
from tests.databases import USE_POSTGRES, database_url_for, drop_template

EXAMPLE_SITE = Path(__file__).resolve().parent.parent / "examples" / "site.toml"
# A Tuesday morning in the example site's zone.
CLOCK_START = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: tests SQLite itself; not run with HUIWU_TEST_DATABASE=postgres"
    )
    config.addinivalue_line("markers", "slow: a long fault test (deselect with -m 'not slow')")
    config.addinivalue_line(
        "markers",
        "wallclock: starts a real `huiwu run` on the real clock shifted to HUIWU_TEST_NOW "
        "(tests/support/wallclock.py); .ci/run repeats these at three moments of the week",
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    drop_template()


@pytest.fixture
def site() -> SiteConfig:
    return load_site(EXAMPLE_SITE)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(CLOCK_START)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A Database of its own, migrated: a SQLite file, or PostgreSQL (HUIWU_TEST_DATABASE=postgres)."""
    async with database_url_for(tmp_path, "test") as url:
        engine = create_engine(url, **({"pool_size": 5} if USE_POSTGRES else {}))
        if not USE_POSTGRES:  # the PostgreSQL copy comes migrated from the session's template
            await migrate.upgrade(engine)
        database = Database(engine)
        try:
            yield database
        finally:
            await database.dispose()
