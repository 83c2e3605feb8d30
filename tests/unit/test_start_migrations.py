"""The start's migrations run in a child process: the long-running bot never holds Alembic.

The checks of what a started bot imported run in a fresh interpreter: this test process has
imported Alembic already (the fixtures migrate with it).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage import migrate
from storage.database import create_engine

ROOT = Path(__file__).resolve().parent.parent.parent

# Builds the bot as production does, starts and stops it, and says what it imported.
STARTED_BOT = textwrap.dedent(
    """
    import asyncio, json, sys
    from datetime import datetime
    from zoneinfo import ZoneInfo
    from pydantic import SecretStr
    from bot.app import build_app, start, stop
    from bot.services.clock import ManualClock
    from bot.settings import Settings
    from bot.site import load_site

    async def main(url: str) -> None:
        settings = Settings(
            _env_file=None, bot_token=SecretStr("1:x"), telegram_api_base="http://127.0.0.1:9",
            database_url=url, site_config="examples/site.toml", understanding_warm_up=False,
        )
        clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
        app = build_app(settings, load_site(settings.site_config), clock)
        await start(app)
        await stop(app)

    asyncio.run(main(sys.argv[1]))
    heavy = ("alembic", "mako", "pygments", "matplotlib", "openpyxl", "segno", "icalendar")
    print(json.dumps([name for name in heavy if name in sys.modules]))
    """
)


def started_bot_imports(url: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", STARTED_BOT, url], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    held: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return held


async def revision_of(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()


def test_the_newest_revision_is_read_as_alembic_reads_it() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert migrate.head_revision() == script.get_current_head()


def test_revision_files_naming_two_heads_name_none(tmp_path: Path) -> None:
    for name, revision, down in (("a", "0001", "None"), ("b", "0002", '"0001"'), ("c", "0003", '"0001"')):
        (tmp_path / f"{name}.py").write_text(
            f'revision: str = "{revision}"\ndown_revision: str | None = {down}\n'
        )
    assert migrate.head_revision(tmp_path) is None
    (tmp_path / "c.py").unlink()
    assert migrate.head_revision(tmp_path) == "0002"


@pytest.mark.sqlite_only
async def test_a_started_bot_never_imports_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    # a new database: migrated by the child process
    assert started_bot_imports(url) == []
    assert await revision_of(url) == migrate.head_revision()
    # a migrated one (every restart): only checked
    assert started_bot_imports(url) == []


@pytest.mark.sqlite_only
async def test_failed_migrations_stop_the_start_and_say_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'unknown.db'}"
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
            await connection.execute(text("INSERT INTO alembic_version VALUES ('9999')"))
        with pytest.raises(migrate.MigrationFailed, match=r"exit code 1.*9999"):
            await migrate.bring_to_head(engine, url)
    finally:
        await engine.dispose()
    assert any("9999" in record.getMessage() for record in caplog.records if record.levelname == "ERROR")
