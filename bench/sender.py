"""Sender benchmark: database time per message sent with a large outbox backlog.

    uv run python bench/sender.py                         # 100,000 rows, SQLite
    uv run python bench/sender.py --database postgres     # the same on a fresh PostgreSQL database
    uv run python bench/sender.py --rows 20000 --chats 200 --passes 50
    uv run python bench/sender.py --database postgres --analyze   # statistics as a restart takes them

Seeding: one real booking through the booking service; the booking is cloned to as many
meetings as ``--tasks`` open tasks need at one copy of its confirmable tasks each (7–14, as a
real meeting has), one after another in its room, the tasks' times moved with their meeting
(multi-row INSERTs of 2,000 bookings and 5,000 tasks). Then ``--rows`` outbox rows over
``--chats`` chats (half of them groups, half private chats), written through the real queue
(``OutboxRepository.add_many``) as a restart after an outage would find them: in a group,
task cards (mergeable); in a private chat, escalations of a task to the supervisor; one row
in ten an edit of a card queued before it in the same chat (a task that changed while its
card waited).

Measured: the sender's own work, as ``Workers._send_loop`` does it once a second at
Telegram's pace (30 messages a second overall, 20 a minute per group, 1 a second per chat):
``OutboxService.claim`` (walk the chats with waiting rows, lease, merge a burst, settle the
edits it overtakes, render every row from the current state), ``mark_sent`` for each call,
and ``waiting_chats`` (what the loop asks to know how long to sleep). Telegram is not called:
each delivery is recorded as sent at once, so the figures are this process's and its
database's alone. A fake monotonic clock moves one second per pass, so every pass sends what
the limits allow. Database time = the statements' execution plus commits and rollbacks
(SQLAlchemy engine events); wall time includes rendering and the rest of Python.

Prints the median round trip of ``SELECT 1`` (on a loaded machine every statement costs at
least that), the figures per pass and per message, then the plans of the sender's lookups at
this size, then one Markdown table row. Goal: ≤ 2 ms of database time per message sent.
"""

# ruff: noqa: E501 — the benchmark prints Markdown table rows as they are

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import event, insert, select, text  # noqa: E402

from bench._support import machine, postgres_database  # noqa: E402
from bot.app import App, build_app  # noqa: E402
from bot.delivery.notices import params_to_json  # noqa: E402
from bot.services.booking import BookingRequest  # noqa: E402
from bot.services.clock import ManualClock  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.site import load_site  # noqa: E402
from storage import migrate  # noqa: E402
from storage.database import refresh_statistics  # noqa: E402
from storage.models import Booking, Task  # noqa: E402
from storage.repositories.outbox import OutboxRepository, outbox_row  # noqa: E402

TOKEN = "123456789:BENCH-token-for-the-emulator-only"
ZONE = ZoneInfo("Asia/Shanghai")
SITE = ROOT / "examples" / "site.toml"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=ZONE)
MEETING = datetime(2026, 12, 3, 10, 0, tzinfo=ZONE)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class DatabaseTime:
    """Seconds spent in statements, commits and rollbacks of one engine."""

    def __init__(self, app: App) -> None:
        self.seconds = 0.0
        self.statements = 0
        self.by_statement: dict[str, list[float]] = {}
        engine = app.db.engine.sync_engine

        @event.listens_for(engine, "before_cursor_execute")
        def _before(
            conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            conn.info.setdefault("bench_started", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            took = time.perf_counter() - conn.info["bench_started"].pop()
            self.seconds += took
            self.statements += 1
            spent = self.by_statement.setdefault(" ".join(statement.split())[:110], [0.0, 0])
            spent[0] += took
            spent[1] += 1

        dialect = engine.dialect
        for name in ("do_commit", "do_rollback"):
            original = getattr(dialect, name)

            def timed(dbapi_connection: Any, _original: Any = original) -> None:
                started = time.perf_counter()
                try:
                    _original(dbapi_connection)
                finally:
                    self.seconds += time.perf_counter() - started

            setattr(dialect, name, timed)


def settings_for(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(TOKEN),
        telegram_api_base="http://127.0.0.1:9",
        database_url=database_url,
        site_config=SITE,
        log_level="WARNING",
    )


async def seed(app: App, tasks: int, rows: int, chats: int) -> int:
    """Seed the database; return the number of meetings the tasks belong to."""
    await migrate.upgrade(app.db.engine)
    service = app.dispatcher.workflow_data["booking_service"]
    async with app.db.transaction() as session:
        outcome = await service.create(
            session,
            BookingRequest(
                department_id="finance",
                requester_id=1001,
                booked_by_id=1001,
                room_id="r101",
                start=MEETING,
                end=MEETING + timedelta(hours=2),
                attendees=10,
                layout="discussion",
                reception_level=3,
                title="Bench meeting",
                contact_name="王敏",
                contact_phone="123",
            ),
        )
    now = app.clock.now()
    async with app.db.transaction() as session:
        booking = await session.get_one(Booking, outcome.booking.id)
        template = {c.key: getattr(booking, c.key) for c in Booking.__table__.columns if c.key != "id"}
        models = (
            await session.scalars(
                select(Task).where(Task.booking_id == outcome.booking.id, Task.needs_confirmation.is_(True))
            )
        ).all()
        bases = [{c.key: getattr(m, c.key) for c in Task.__table__.columns if c.key != "id"} for m in models]
    # A real meeting has its template's 7–20 tasks: the cloned tasks go to cloned meetings,
    # each with one copy of the template's confirmable tasks, so that a per-meeting read (the
    # readiness of a task card) sees one meeting's tasks, not all of them. The meetings follow
    # one another in the template's room after it, three a day three hours apart (a slot holds
    # the meeting and its buffer: PostgreSQL's exclusion constraint refuses overlapping blocks),
    # and their tasks move with them.
    meetings = -(-tasks // len(bases))
    shifts = [timedelta(days=slot // 3, hours=3 * (slot % 3)) for slot in range(1, meetings + 1)]
    clone_bookings = [
        template
        | {
            "start_at": template["start_at"] + shift,
            "end_at": template["end_at"] + shift,
            "blocked_until": template["blocked_until"] + shift,
            "title": f"Bench meeting {number}",
        }
        for number, shift in enumerate(shifts)
    ]
    booking_ids: list[int] = []
    for first in range(0, len(clone_bookings), 2000):
        async with app.db.transaction() as session:
            booking_ids += (
                await session.scalars(
                    insert(Booking).returning(Booking.id, sort_by_parameter_order=True),
                    clone_bookings[first : first + 2000],
                )
            ).all()
    moved = ("push_at", "planned_due_at", "due_at", "expires_at")
    clones = [
        base
        | {key: base[key] + shifts[number // len(bases)] for key in moved if base[key] is not None}
        | {
            "booking_id": booking_ids[number // len(bases)],
            "occurrence": 10_000 + number,
            "status": "open",
            "pushed_at": now,
            "next_at": None,
            "updated_at": now,
        }
        for number, base in ((number, bases[number % len(bases)]) for number in range(tasks))
    ]
    for first in range(0, len(clones), 5000):
        async with app.db.transaction() as session:
            await session.execute(insert(Task), clones[first : first + 5000])
    async with app.db.transaction() as session:
        task_ids = list((await session.scalars(select(Task.id).where(Task.occurrence >= 10_000))).all())

    groups = [-1_000_000_000 - number for number in range(chats // 2)]
    people = [7_000_000 + number for number in range(chats - len(groups))]
    per_chat = rows // chats
    batch: list[dict[str, Any]] = []

    sends_of: dict[int, list[int]] = {chat: [] for chat in [*groups, *people]}

    async def flush() -> None:
        """Write the batch; remember each chat's sends, for the edits of later batches."""
        nonlocal batch
        async with app.db.transaction() as session:
            ids = await OutboxRepository(session).add_many(batch)
        for row, row_id in zip(batch, ids, strict=True):
            if row["kind"] == "send" and row_id is not None:
                sends_of[row["chat_id"]].append(row_id)
        batch = []

    # chat by chat in turn, as a catch-up writes them: each chat's rows spread over the table
    next_task = 0
    for position in range(per_chat):
        for chat in [*groups, *people]:
            task_id = task_ids[next_task % len(task_ids)]
            next_task += 1
            if position % 10 == 9 and sends_of[chat]:
                batch.append(
                    outbox_row(
                        chat_id=chat,
                        now=now,
                        notice="task_card" if chat < 0 else "task_escalation",
                        params=params_to_json({"task_id": task_id}),
                        language="zh",
                        kind="edit",
                        edit_of_id=sends_of[chat][-1],
                    )
                )
            elif chat < 0:
                batch.append(
                    outbox_row(
                        chat_id=chat,
                        now=now,
                        notice="task_card",
                        params={"task_id": task_id},
                        language="zh",
                        mergeable=True,
                    )
                )
            else:
                batch.append(
                    outbox_row(
                        chat_id=chat,
                        now=now,
                        notice="task_escalation",
                        params={"task_id": task_id, "role": "supervisor", "late": True},
                        language="zh",
                    )
                )
            if len(batch) >= 5000:
                await flush()
    if batch:
        await flush()
    return meetings


async def plans(app: App) -> list[str]:
    """The plans of the sender's lookups at this size."""
    chat = -1_000_000_000
    # a step of the walk of the chats (storage/repositories/outbox.py: on PostgreSQL, one seek
    # for the next chat and its oldest row)
    step = (
        "SELECT min(chat_id) FROM outbox WHERE status IN ('pending', 'sending') AND chat_id > -2000000000"
        if app.db.is_sqlite
        else "SELECT chat_id, id FROM outbox WHERE status IN ('pending', 'sending') AND chat_id > -2000000000 ORDER BY chat_id, id LIMIT 1"
    )
    queries = {
        "chats with waiting rows": step,
        "a chat's rows in order": f"SELECT id FROM outbox WHERE status IN ('pending', 'sending') AND chat_id = {chat} ORDER BY id LIMIT 50",
        "edits waiting for a message": "SELECT id FROM outbox WHERE kind = 'edit' AND status = 'pending' AND edit_of_id IN (1, 2, 3)",
    }
    lines = []
    async with app.db.read() as session:
        for name, query in queries.items():
            explain = "EXPLAIN QUERY PLAN " if app.db.is_sqlite else "EXPLAIN "
            rows = (await session.execute(text(explain + query))).all()
            lines.append(f"  {name}: " + " / ".join(str(row[-1]).strip() for row in rows))
    return lines


async def run(
    database_url: str,
    label: str,
    rows: int,
    chats: int,
    tasks: int,
    passes: int,
    profile: bool,
    analyze: bool = False,
) -> None:
    clock = ManualClock(NOW)
    app = build_app(settings_for(database_url), load_site(SITE), clock)
    try:
        started = time.perf_counter()
        meetings = await seed(app, tasks, rows, chats)
        if analyze:
            # the statistics a restart takes (storage/migrate.py bring_to_head); the seed's own
            # migrations took them of empty tables, so PostgreSQL's planner takes the outbox for
            # a small table until autovacuum comes (and reads all of ix_outbox_open to update
            # the pass's rows by id)
            async with app.db.engine.begin() as connection:
                await refresh_statistics(connection)
        async with app.db.read() as session:
            waiting = await session.scalar(
                text("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')")
            )
        print(
            f"{label}: seeded {waiting} waiting rows over {chats} chats, {tasks} open tasks in {meetings} meetings, in {time.perf_counter() - started:.1f} s"
        )
        round_trips = []
        async with app.db.read() as session:
            for _ in range(200):
                before = time.perf_counter()
                await session.execute(text("SELECT 1"))
                round_trips.append(time.perf_counter() - before)
        round_trip = 1000 * statistics.median(round_trips)
        print(f"a round trip to the database (SELECT 1), median: {round_trip:.3f} ms")
        sender = app.workers.sender
        monotonic = FakeMonotonic()
        sender.pacer.monotonic = monotonic
        outbox = sender.outbox
        measured = DatabaseTime(app)
        message_id = 0
        messages = rows_done = 0
        pass_db: list[float] = []
        pass_wall: list[float] = []
        wall_total = 0.0
        for _ in range(passes):
            db_before, wall_before = measured.seconds, time.perf_counter()
            deliveries = await outbox.claim()
            for delivery in deliveries:
                message_id += 1
                await outbox.mark_sent(delivery, message_id if delivery.method == "send" else None)
                messages += 1
                rows_done += 1 + len(delivery.part_ids)
            await outbox.waiting_chats()
            wall = time.perf_counter() - wall_before
            wall_total += wall
            pass_db.append(measured.seconds - db_before)
            pass_wall.append(wall)
            monotonic.now += 1.0
            clock.advance(timedelta(seconds=1))
        per_message_db = 1000 * sum(pass_db) / max(1, messages)
        per_message_wall = 1000 * wall_total / max(1, messages)
        print(
            f"{passes} passes: {messages} messages ({rows_done} rows, merged parts included), "
            f"{measured.statements} statements"
        )
        print(
            f"database time per message sent: {per_message_db:.2f} ms (≈ {per_message_db / round_trip:.1f} round trips); "
            f"wall time per message: {per_message_wall:.2f} ms; "
            f"per pass: database median {1000 * statistics.median(pass_db):.1f} ms, "
            f"wall median {1000 * statistics.median(pass_wall):.1f} ms, max {1000 * max(pass_wall):.1f} ms"
        )
        if profile:
            print("statements by database time:")
            ranked = sorted(measured.by_statement.items(), key=lambda item: -item[1][0])
            for statement, (seconds, count) in ranked[:12]:
                print(f"  {1000 * seconds:8.1f} ms {int(count):6d}× {statement}")
        print("plans:")
        for line in await plans(app):
            print(line)
        print(
            f"| {label} | {waiting} | {chats} | {messages} | {per_message_db:.2f} ms | {per_message_wall:.2f} ms "
            f"| {1000 * statistics.median(pass_db):.1f} ms | {round_trip:.3f} ms | {machine()} |"
        )
    finally:
        await app.db.dispose()
        await app.bot.session.close()


@contextlib.asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    if kind == "postgres":
        async with postgres_database("huiwu_sender") as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--passes", type=int, default=60)
    parser.add_argument("--profile", action="store_true", help="list the statements that took the most time")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="refresh the planner's statistics after seeding, as the bot's start does",
    )
    args = parser.parse_args()

    async def go() -> None:
        async with database(args.database) as url:
            label = "PostgreSQL" if args.database == "postgres" else "SQLite"
            await run(url, label, args.rows, args.chats, args.tasks, args.passes, args.profile, args.analyze)

    asyncio.run(go())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
