"""Database size after a year of the example site's traffic, before and after the clean-up.

    uv run python bench/storage_year.py [--bookings 11] [--updates-per-booking 25] [--days 365]

One working day is run through the real bot on SQLite: ``--bookings`` meetings in the example
site's rooms (the two approval rooms approved), the clock moved minute by minute through the
day with the real tick, clock jobs (digest, weekly briefing, after-care) and sender (into the
Bot API emulator, in this process); every task a team must confirm is confirmed by its leader
five minutes after it is pushed; ``--updates-per-booking`` handled update ids per meeting (the
booking dialog's steps) and one per press. The rows that day left in the tables that grow
(bookings and their revisions, tasks, task events and links, outbox, update ids, after-care
follow-ups and prompts) are then copied onto every working day (Monday to Friday) of the
``--days`` from it, ids and times moved forward together (ids grow with time, as they do).

Printed: the database's size and each table's share (``dbstat``, indexes included) after the
year; the clean-up (bot/jobs/retention.py) run once on the day after, as the hourly job would
after a year without one — records removed, batches, longest and 99th-percentile batch (each
batch is one write transaction: the longest time the write lock was held); the pages in use
after it and the file after VACUUM. With the hourly job running all year the file stops
growing at about the size in use after the clean-up (freed pages are reused).
"""

# ruff: noqa: E501 — the benchmark prints Markdown table rows as they are

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import Table, insert, select  # noqa: E402

from bench._support import machine  # noqa: E402
from bot.app import App, build_app, stop  # noqa: E402
from bot.delivery.queue import queue  # noqa: E402
from bot.jobs import run_clock_jobs  # noqa: E402
from bot.jobs.retention import prune  # noqa: E402
from bot.services.booking import BookingRequest  # noqa: E402
from bot.services.clock import ManualClock  # noqa: E402
from bot.services.tasks import TaskActions  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.site import SiteConfig, load_site  # noqa: E402
from emulator.client import EmulatorClient  # noqa: E402
from emulator.server import EmulatorServer  # noqa: E402
from storage import migrate  # noqa: E402
from storage.models import Base, ProcessedUpdate, Task  # noqa: E402

TOKEN = "123456789:BENCH-token-for-the-emulator-only"
SITE = ROOT / "examples" / "site.toml"
ZONE = ZoneInfo("Asia/Shanghai")
DAY = date(2025, 12, 9)  # a Tuesday: the year's first working day
APPROVER = 2101

# (room, start hour, minutes, hours, attendees, layout, services): a busy working day
MEETINGS: list[tuple[str, int, int, float, int, str, dict[str, dict[str, Any]]]] = [
    ("r101", 9, 0, 1.5, 12, "discussion", {"tea": {}, "microphones": {}}),
    ("r102", 9, 30, 1, 8, "discussion", {"tea": {}}),
    ("r301", 9, 0, 2, 80, "classroom", {"projector": {}, "microphones": {"count": 4}, "water": {}}),
    ("vc1", 10, 0, 2, 60, "theatre", {"video": {}, "microphones": {}}),
    ("r101", 11, 0, 1, 10, "u_shape", {"water": {}}),
    ("r102", 14, 0, 1.5, 20, "discussion", {"tea": {"refill_minutes": 30}, "flowers": {}}),
    (
        "r301",
        14,
        0,
        2,
        120,
        "theatre",
        {"banner": {"text": "年度工作会议"}, "microphones": {}, "recording": {}},
    ),
    ("r203", 14, 30, 2.5, 250, "theatre", {"banner": {"text": "表彰大会"}, "photography": {}, "signage": {}}),
    ("r101", 14, 30, 1, 15, "discussion", {"tea": {}}),
    ("r101", 16, 0, 1, 10, "discussion", {}),
    ("r102", 16, 30, 1, 6, "discussion", {"bottled_water": {}}),
    ("r301", 16, 45, 1, 40, "classroom", {"projector": {}}),
]

GROWING = (
    "bookings",
    "booking_revisions",
    "tasks",
    "task_events",
    "task_messages",
    "outbox",
    "processed_updates",
    "followups",
    "prompts",
)
SOFT_REFERENCES = {("outbox", "edit_of_id"): "outbox", ("outbox", "merged_into_id"): "outbox"}
SOFT_REFERENCES[("task_messages", "outbox_id")] = "outbox"


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, clock_time(hour, minute), tzinfo=ZONE)


async def emulator_for(site: SiteConfig) -> tuple[EmulatorServer, EmulatorClient]:
    server = EmulatorServer(token=TOKEN)
    server.config.rate_limits.enabled = False  # the sizes, not the pacing, are measured
    await server.start()
    emu = EmulatorClient(server.base_url)
    for person in site.people:
        await emu.create_user(person.id, person.name, language_code="zh-hans")
    for team in site.teams:
        for member in sorted(team.everyone - {p.id for p in site.people}):
            await emu.create_user(member, f"staff {member}", language_code="zh-hans")
        if team.chat_id is not None:
            await emu.create_group(team.chat_id, team.name.zh, sorted(team.everyone))
    return server, emu


async def settle(app: App) -> None:
    while await app.workers.send_pending():
        pass


async def one_day(
    app: App, site: SiteConfig, clock: ManualClock, bookings: int, updates_per_booking: int
) -> None:
    """The template day, through the real services; its update ids recorded as handled."""
    data = app.dispatcher.workflow_data
    service, delivery = data["booking_service"], data["delivery"]
    clock.set(local(DAY - timedelta(days=2), 9))
    for number, (room, hour, minute, hours, attendees, layout, services) in enumerate(MEETINGS[:bookings]):
        start = local(DAY, hour, minute)
        requester = 1001 if number % 2 == 0 else 1002
        async with app.db.transaction() as session:
            outcome = await service.create(
                session,
                BookingRequest(
                    department_id="finance" if requester == 1001 else "office",
                    requester_id=requester,
                    booked_by_id=requester,
                    room_id=room,
                    start=start,
                    end=start + timedelta(hours=hours),
                    attendees=attendees,
                    layout=layout,
                    reception_level=2 + number % 3,
                    title=f"第{number + 1}次工作例会 / meeting {number + 1}",
                    contact_name="王敏",
                    contact_phone="010-6512 3456",
                    services=services,
                ),
            )
            await delivery.deliver(session, outcome.notices)
        if outcome.booking.status == "pending":
            async with app.db.transaction() as session:
                decided = await service.decide(session, outcome.booking.id, APPROVER, True)
                await delivery.deliver(session, decided.notices)
        await settle(app)
    actions = TaskActions(site, clock)
    presses = 0
    moment, end = local(DAY - timedelta(days=1), 9), local(DAY + timedelta(days=1), 9)
    while moment <= end:
        clock.set(moment)
        await app.workers.tick_once()
        if moment.minute % 5 == 0:
            async with app.db.transaction() as session:
                due = (
                    await session.scalars(
                        select(Task).where(
                            Task.status == "open", Task.pushed_at <= moment - timedelta(minutes=5)
                        )
                    )
                ).all()
            for task in due:
                team = site.team(task.team_id)
                assert team is not None
                async with app.db.transaction() as session:
                    result = await actions.confirm(session, task.id, team.leader)
                    await queue(session, delivery, result.outgoing)
                presses += 1
        if moment.minute % 15 == 0:
            await run_clock_jobs(app.jobs)
        await settle(app)
        moment += timedelta(minutes=1)
    updates = bookings * updates_per_booking + presses
    async with app.db.transaction() as session:
        await session.execute(
            insert(ProcessedUpdate),
            [
                {"update_id": 500_000 + n, "at": local(DAY, 8) + timedelta(seconds=n * 36_000 // updates)}
                for n in range(updates)
            ],
        )
    print(f"template day: {bookings} meetings, {presses} presses, {updates} update ids")


def working_days_after(day: date, days: int) -> list[date]:
    """Monday to Friday after ``day``, in order: the copies get ids in the order of their time,
    as rows written day after day do."""
    return [day + timedelta(days=n) for n in range(1, days) if (day + timedelta(days=n)).isoweekday() <= 5]


async def copy_year(app: App, days: list[date]) -> dict[str, int]:
    """Every growing table's rows of the template day, once per day in ``days``."""
    tables = {name: Base.metadata.tables[name] for name in GROWING if name in Base.metadata.tables}
    async with app.db.read() as session:
        template = {
            name: [dict(row._mapping) for row in (await session.execute(select(table))).all()]
            for name, table in tables.items()
        }
    spans = {
        name: 1 + max((_key(table, row) for row in template[name]), default=0)
        for name, table in tables.items()
    }
    ordered = [table for table in Base.metadata.sorted_tables if table.name in tables]
    copied = dict.fromkeys(tables, 0)
    for number, day in enumerate(days, start=1):
        shift = datetime.combine(day, clock_time()) - datetime.combine(DAY, clock_time())
        async with app.db.transaction() as session:
            for table in ordered:
                rows = [_moved(table, row, number, shift, spans) for row in template[table.name]]
                for first in range(0, len(rows), 2000):
                    await session.execute(insert(table), rows[first : first + 2000])
                copied[table.name] += len(rows)
    return copied


def _key(table: Table, row: dict[str, Any]) -> int:
    column = next(iter(table.primary_key.columns))
    value = row[column.name]
    return int(value) if isinstance(value, int) else 0


def _moved(
    table: Table, row: dict[str, Any], number: int, shift: timedelta, spans: dict[str, int]
) -> dict[str, Any]:
    moved = dict(row)
    for column in table.columns:
        value = moved[column.name]
        if value is None:
            continue
        target = None
        if column.primary_key and isinstance(value, int) and len(table.primary_key.columns) == 1:
            target = table.name
        for key in column.foreign_keys:
            target = key.column.table.name
        target = SOFT_REFERENCES.get((table.name, column.name), target)
        if target is not None and target in spans:
            moved[column.name] = value + number * spans[target]
        elif isinstance(value, datetime):
            moved[column.name] = value + shift
    if table.name == "outbox" and moved.get("dedupe_key"):
        moved["dedupe_key"] = f"{moved['dedupe_key']}~{number}"
    if table.name == "prompts":
        moved["message_id"] = moved["message_id"] + number * 10_000_000
    return moved


def sizes(path: Path) -> tuple[int, int, dict[str, int], dict[str, int]]:
    """File bytes, bytes in use, bytes per table (its indexes included), rows per table; read
    with a connection of its own, outside the bot's (which holds no transaction then)."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        owners = dict(connection.execute("SELECT name, tbl_name FROM sqlite_schema").fetchall())
        per: dict[str, int] = {}
        for name, size in connection.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            table = owners.get(name, name)
            per[table] = per.get(table, 0) + int(size)
        rows = {
            name: int(connection.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0])
            for name in GROWING
            if name in Base.metadata.tables
        }
    return pages * page_size, (pages - free) * page_size, per, rows


def vacuum(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("VACUUM")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def mb(value: float) -> str:
    return f"{value / 1_000_000:.1f} MB"


async def run(bookings: int, updates_per_booking: int, days: int) -> None:
    site = load_site(SITE)
    server, emu = await emulator_for(site)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "year.db"
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=SecretStr(TOKEN),
            telegram_api_base=server.base_url,
            database_url=f"sqlite+aiosqlite:///{path}",
            site_config=SITE,
            log_level="WARNING",
            per_chat_interval_seconds=0.0,
            group_per_minute=10_000,
            global_per_second=10_000,
        )
        clock = ManualClock(local(DAY - timedelta(days=2), 9))
        app = build_app(settings, site, clock)
        try:
            await migrate.upgrade(app.db.engine)
            started = time.perf_counter()
            await one_day(app, site, clock, bookings, updates_per_booking)
            print(f"(the day took {time.perf_counter() - started:.0f} s)")
            year = working_days_after(DAY, days)
            started = time.perf_counter()
            copied = await copy_year(app, year)
            print(f"copied onto {len(year)} more working days in {time.perf_counter() - started:.0f} s")
            file_bytes, used, per, rows = sizes(path)
            print(f"\nafter a year ({len(year) + 1} working days): file {mb(file_bytes)}, in use {mb(used)}")
            print("| table | rows | size (with its indexes) |")
            print("|---|---|---|")
            for name in sorted(per, key=lambda n: -per[n])[:12]:
                print(f"| {name} | {rows.get(name, '')} | {mb(per[name])} |")
            now = local(year[-1] + timedelta(days=1), 12) if year else local(DAY + timedelta(days=1), 12)
            clock.set(now)
            started = time.perf_counter()
            report = await prune(app.db, site.retention, now, budget=3600.0)
            took = time.perf_counter() - started
            batches = sorted(report.batch_seconds)
            p99 = batches[min(len(batches) - 1, round(0.99 * len(batches)))] if batches else 0.0
            after_file, after_used, _, after_rows = sizes(path)
            await app.db.dispose()  # VACUUM wants the database to itself
            vacuumed = vacuum(path)
            retention = site.retention
            print(
                f"\nclean-up (outbox {retention.outbox_days:g} d, update ids {retention.processed_updates_days:g} d, "
                f"task events {retention.task_events_days:g} d) in {took:.1f} s: removed {report.outbox} outbox rows, "
                f"{report.processed_updates} update ids, {report.task_events} task events in {report.batches} batches; "
                f"batch median {statistics.median(batches) * 1000 if batches else 0:.1f} ms, p99 {p99 * 1000:.1f} ms, "
                f"longest {report.longest_batch * 1000:.1f} ms"
            )
            print(f"after it: file {mb(after_file)}, in use {mb(after_used)}; after VACUUM {mb(vacuumed)}")
            print(f"machine: {machine()}")
            print(
                "\n| working days | meetings | tasks | outbox rows | update ids | task events | file after a year "
                "| in use after the clean-up | after VACUUM | clean-up batches | longest batch |"
            )
            print("|---|---|---|---|---|---|---|---|---|---|---|")
            print(
                f"| {len(year) + 1} | {rows['bookings']} | {rows['tasks']} | {rows['outbox']} → {after_rows['outbox']} "
                f"| {rows['processed_updates']} → {after_rows['processed_updates']} "
                f"| {rows['task_events']} → {after_rows['task_events']} | {mb(file_bytes)} | {mb(after_used)} "
                f"| {mb(vacuumed)} | {report.batches} | {report.longest_batch * 1000:.1f} ms |"
            )
            del copied
        finally:
            await stop(app)
            with contextlib.suppress(Exception):
                await emu.close()
            await server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--bookings", type=int, default=11, help=f"meetings on a working day (at most {len(MEETINGS)})"
    )
    parser.add_argument("--updates-per-booking", type=int, default=25)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    asyncio.run(run(min(args.bookings, len(MEETINGS)), args.updates_per_booking, args.days))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
