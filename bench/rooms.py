"""Free-room search with 500 rooms and a year of bookings.

    uv run python bench/rooms.py [--rooms 500] [--per-day 2] [--queries 500] [--database postgres]

The example site plus ``--rooms`` rooms (classes A/B/C in turn, capacities 10–300); a year of
confirmed bookings, ``--per-day`` per room per working day (9:00–11:00, 14:00–16:00, …),
inserted directly as rows. Then ``BookingService.free_rooms`` — what the wizard calls to
offer rooms — runs for ``--queries`` random working-day slots of the year (random start
8:00–17:30, 1–3 h, 1–200 people, layout or none), each in its own transaction, as a handler
does. Prints p50/p95/p99/max. Goal: p95 ≤ 10 ms.

``--database postgres`` runs it in a fresh database on 127.0.0.1:5432 (user postgres, trust
auth), analysed after seeding as autovacuum would, and dropped at the end; the default is a
SQLite file in a temporary folder.
"""

# ruff: noqa: E501 — the benchmark prints Markdown table rows as they are

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.services.clock import ManualClock  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.site import load_site  # noqa: E402
from storage import migrate  # noqa: E402
from storage.models import Booking  # noqa: E402

TOKEN = "123456789:BENCH-token-for-the-emulator-only"
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
ZONE = ZoneInfo("Asia/Shanghai")
FIRST_DAY = datetime(2027, 1, 4, tzinfo=ZONE)  # a Monday
LAYOUTS = {
    "A": ["discussion", "u_shape"],
    "B": ["classroom", "theatre", "u_shape"],
    "C": ["theatre", "classroom"],
}


def site_file(directory: Path, rooms: int) -> Path:
    text = (ROOT / "examples" / "site.toml").read_text(encoding="utf-8")
    for number in range(rooms):
        room_class = "ABC"[number % 3]
        capacity = {"A": 10 + number % 30, "B": 60 + number % 90, "C": 150 + number % 150}[room_class]
        text += f"""
[[rooms]]
id = "x{number:03d}"
name = {{ zh = "{number}号室", en = "Room x{number}" }}
class = "{room_class}"
capacity = {capacity}
layouts = {LAYOUTS[room_class]!r}
""".replace("'", '"')
    path = directory / "rooms.toml"
    path.write_text(text, encoding="utf-8")
    return path


def working_days() -> list[datetime]:
    return [
        FIRST_DAY + timedelta(days=d) for d in range(365) if (FIRST_DAY + timedelta(days=d)).weekday() < 5
    ]


@contextlib.asynccontextmanager
async def database_url(database: str, directory: Path) -> AsyncIterator[str]:
    if database == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        return
    import asyncpg

    name = f"huiwu_bench_rooms_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(database="postgres", timeout=3, **POSTGRES)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+asyncpg://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def run(rooms: int, per_day: int, queries: int, seed: int, database: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        async with database_url(database, directory) as url:
            await measure(directory, url, rooms, per_day, queries, seed)


async def measure(directory: Path, url: str, rooms: int, per_day: int, queries: int, seed: int) -> None:
    site = load_site(site_file(directory, rooms))
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(TOKEN),
        telegram_api_base="http://127.0.0.1:9",
        database_url=url,
        log_level="WARNING",
    )
    clock = ManualClock(FIRST_DAY - timedelta(days=7))
    app = build_app(settings, site, clock)
    await migrate.upgrade(app.db.engine)
    now = clock.now()
    started = time.perf_counter()
    rows = []
    days = working_days()
    for room in site.rooms:
        for day in days:
            for slot in range(per_day):
                start = (day.replace(hour=9) + timedelta(hours=slot * (9 // max(1, per_day)))).astimezone(UTC)
                end = start + timedelta(hours=2)
                rows.append(
                    {
                        "status": "confirmed",
                        "revision": 1,
                        "department_id": "finance",
                        "requester_id": 1001,
                        "booked_by_id": 1001,
                        "room_id": room.id,
                        "start_at": start,
                        "end_at": end,
                        "blocked_until": end + timedelta(minutes=30),
                        "attendees": 5,
                        "layout": room.layouts[0],
                        "reception_level": 3,
                        "confidential": False,
                        "title": "Seeded",
                        "contact_name": "x",
                        "contact_phone": "1",
                        "notes": "",
                        "services": {},
                        "created_at": now,
                        "updated_at": now,
                    }
                )
    for first in range(0, len(rows), 5000):
        async with app.db.transaction() as session:
            await session.execute(insert(Booking), rows[first : first + 5000])
    async with app.db.transaction() as session:
        total = await session.scalar(select(func.count()).select_from(Booking))
    if app.db.engine.dialect.name == "postgresql":
        async with app.db.engine.begin() as connection:
            await connection.execute(text("ANALYZE bookings"))
    print(f"seeded {total} bookings for {len(site.rooms)} rooms in {time.perf_counter() - started:.1f} s")
    service = app.dispatcher.workflow_data["booking_service"]
    rng = random.Random(seed)
    timings: list[float] = []
    offered = 0
    for number in range(queries + 20):
        day = rng.choice(days)
        start = day.replace(hour=8) + timedelta(minutes=30 * rng.randrange(20))
        end = start + timedelta(hours=rng.choice((1, 2, 3)))
        people = rng.randrange(1, 200)
        layout = rng.choice([None, "discussion", "classroom", "theatre"])
        began = time.perf_counter()
        async with app.db.transaction() as session:
            offers = await service.free_rooms(session, start, end, people, layout)
        if number >= 20:  # the first few warm the caches
            timings.append((time.perf_counter() - began) * 1000)
            offered += len(offers)
    await app.db.dispose()
    await app.bot.session.close()
    ordered = sorted(timings)

    def pct(share: float) -> float:
        return ordered[min(len(ordered) - 1, round(share * len(ordered)) - 1)]

    print("| rooms | bookings | queries | p50 | p95 | p99 | max | rooms offered (mean) |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {len(site.rooms)} | {total} | {len(timings)} | {statistics.median(timings):.2f} ms | {pct(0.95):.2f} ms "
        f"| {pct(0.99):.2f} ms | {max(timings):.2f} ms | {offered / len(timings):.0f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, default=500)
    parser.add_argument("--per-day", type=int, default=2)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.database}"
    )
    asyncio.run(run(args.rooms, args.per_day, args.queries, args.seed, args.database))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
