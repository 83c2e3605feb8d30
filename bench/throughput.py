"""Booking throughput: N requesters booking at once; bookings per minute; no double booking.

    uv run python bench/throughput.py --db sqlite   [--requesters 50] [--attempts 20]
    uv run python bench/throughput.py --db postgres [--requesters 50] [--attempts 20] [--instances 2]

Not the chat dialog: each simulated requester calls ``BookingService.create`` (validation,
room lock, conflict check, insert, task planning, notices delivered to the outbox) in a
transaction of its own, as the wizard's Confirm button does, ``--attempts`` times in a row,
for a random room of three (r101, r102, r301) and a random slot of the next four weeks
(start 8:00–18:00 on the half hour, 1–2 h) — many attempts collide on purpose. All
requesters run concurrently. With PostgreSQL, ``--instances`` app instances (separate
composition roots, engines and connection pools, in one process) share the database and the
requesters are spread over them. After the run one SQL query looks for two active bookings
of one room whose times (with the turnover buffer) overlap: it must find none.
"""

# ruff: noqa: E501 — the benchmark prints Markdown table rows as they are

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import and_, func, select  # noqa: E402
from sqlalchemy.orm import aliased  # noqa: E402

from bench.timers import SITE, settings_for  # noqa: E402
from bot.app import App, build_app  # noqa: E402
from bot.services.booking import BookingError, BookingRequest  # noqa: E402
from bot.services.clock import ManualClock  # noqa: E402
from bot.site import load_site  # noqa: E402
from storage import migrate  # noqa: E402
from storage.models import Booking  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=ZONE)
ROOMS = {"r101": "discussion", "r102": "discussion", "r301": "classroom"}
ACTIVE = ("pending_approval", "confirmed", "in_progress")


async def requester(app: App, number: int, attempts: int, rng: random.Random, tally: dict[str, int]) -> None:
    service = app.dispatcher.workflow_data["booking_service"]
    delivery = app.dispatcher.workflow_data["delivery"]
    for _ in range(attempts):
        room = rng.choice(list(ROOMS))
        day = NOW.replace(hour=0) + timedelta(days=rng.randrange(1, 29))
        start = day.replace(hour=8) + timedelta(minutes=30 * rng.randrange(21))
        request = BookingRequest(
            department_id="finance",
            requester_id=1001,
            booked_by_id=1001,
            room_id=room,
            start=start,
            end=start + timedelta(hours=rng.choice((1, 2))),
            attendees=10,
            layout=ROOMS[room],
            reception_level=3,
            title=f"Requester {number}",
            contact_name="王敏",
            contact_phone="123",
            services={"tea": {}},
        )
        try:
            async with app.db.transaction() as session:
                outcome = await service.create(session, request)
                await delivery.deliver(session, outcome.notices)
            tally["booked"] += 1
        except BookingError as error:
            tally[error.code] = tally.get(error.code, 0) + 1
        except Exception as error:
            tally[type(error).__name__] = tally.get(type(error).__name__, 0) + 1


async def overlaps(app: App) -> int:
    a, b = aliased(Booking), aliased(Booking)
    async with app.db.transaction() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(a)
                .join(b, and_(a.room_id == b.room_id, a.id < b.id))
                .where(
                    a.status.in_(ACTIVE),
                    b.status.in_(ACTIVE),
                    a.start_at < b.blocked_until,
                    b.start_at < a.blocked_until,
                )
            )
            or 0
        )


async def run(db: str, requesters: int, attempts: int, instances: int, seed: int) -> None:
    site = load_site(SITE)
    clock = ManualClock(NOW)
    with tempfile.TemporaryDirectory() as folder:
        database = None
        if db == "sqlite":
            urls = [f"sqlite+aiosqlite:///{folder}/bench.db"] * instances
        else:
            import asyncpg

            database = f"huiwu_bench_{uuid.uuid4().hex[:8]}"
            admin = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres")
            await admin.execute(f'CREATE DATABASE "{database}"')
            await admin.close()
            urls = [f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"] * instances
        apps = [
            build_app(settings_for(url, instance_name=f"bench-{n}"), site, clock)
            for n, url in enumerate(urls)
        ]
        try:
            await migrate.upgrade(apps[0].db.engine)
            tally: dict[str, int] = {"booked": 0}
            rng = random.Random(seed)
            jobs = [
                requester(apps[n % len(apps)], n, attempts, random.Random(rng.random()), tally)
                for n in range(requesters)
            ]
            began = time.perf_counter()
            await asyncio.gather(*jobs)
            elapsed = time.perf_counter() - began
            double = await overlaps(apps[0])
            async with apps[0].db.transaction() as session:
                stored = await session.scalar(select(func.count()).select_from(Booking))
        finally:
            for app in apps:
                await app.db.dispose()
                await app.bot.session.close()
            if database is not None:
                import asyncpg

                admin = await asyncpg.connect(
                    host="127.0.0.1", port=5432, user="postgres", database="postgres"
                )
                await admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
                await admin.close()
    attempted = requesters * attempts
    refused = {k: v for k, v in tally.items() if k != "booked"}
    print(
        "| database | instances | requesters | attempts | booked | refused (why) | time | bookings/min | attempts/min | double bookings |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {db} | {instances} | {requesters} | {attempted} | {tally['booked']} (stored {stored}) "
        f"| {', '.join(f'{k} {v}' for k, v in sorted(refused.items()))} | {elapsed:.1f} s "
        f"| {tally['booked'] / elapsed * 60:.0f} | {attempted / elapsed * 60:.0f} | {double} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requesters", type=int, default=50)
    parser.add_argument("--attempts", type=int, default=20)
    parser.add_argument("--instances", type=int, default=None)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    instances = args.instances or (2 if args.db == "postgres" else 1)
    print(
        f"{platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    asyncio.run(run(args.db, args.requesters, args.attempts, instances, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
