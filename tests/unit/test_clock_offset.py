"""CLOCK_OFFSET_SECONDS runs the bot as if it were another moment (tests, demonstrations)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_app, stop
from bot.services.clock import OffsetClock, SystemClock
from bot.settings import Settings
from bot.site import SiteConfig
from tests.support.wallclock import WORKING_DAY_MORNING, PretendClock, pretended_moment

TOKEN = "123456789:AAHuiwuTestTokenForTheEmulatorOnly_xyz"


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(bot_token=TOKEN, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", **values)  # type: ignore[arg-type]


async def test_the_bot_clock_follows_the_offset(site: SiteConfig, tmp_path: Path) -> None:
    friday_17_in_shanghai = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    pretend = PretendClock(friday_17_in_shanghai)
    offset = float(pretend.environment()["CLOCK_OFFSET_SECONDS"])
    app = build_app(_settings(tmp_path, clock_offset_seconds=offset), site)
    try:
        assert isinstance(app.workers.clock, OffsetClock)
        assert abs(app.workers.clock.now() - friday_17_in_shanghai) < timedelta(seconds=5)
    finally:
        await stop(app)


async def test_no_offset_is_the_system_clock(site: SiteConfig, tmp_path: Path) -> None:
    app = build_app(_settings(tmp_path), site)
    try:
        assert isinstance(app.workers.clock, SystemClock)
    finally:
        await stop(app)


def test_the_pretended_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUIWU_TEST_NOW", raising=False)
    assert pretended_moment() == WORKING_DAY_MORNING
    monkeypatch.setenv("HUIWU_TEST_NOW", "2026-12-05T19:00+08:00")
    assert pretended_moment() == datetime(2026, 12, 5, 11, 0, tzinfo=UTC)
    for refused in ("2026-12-05T19:00", "2026-12-05T23:50+08:00"):
        monkeypatch.setenv("HUIWU_TEST_NOW", refused)
        with pytest.raises(ValueError):
            pretended_moment()
