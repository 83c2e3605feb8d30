"""Scale benchmarks of the database timers: lateness, restart catch-up, memory.

    uv run python bench/timers.py lateness [--tasks 100000] [--speed 1] [--window 120] [--database postgres]
    uv run python bench/timers.py catchup  [--tasks 100000] [--database postgres]
    uv run python bench/timers.py memory   [--tasks 100000] [--seconds 30]

``--database postgres``: a fresh PostgreSQL database on 127.0.0.1 (bench/_support.py), dropped
afterwards; SQLite (a temporary file) otherwise.

Seeding: one real booking is made through the booking service (so its tasks are planned by
the real planner); one of its confirmable AV tasks is then cloned ``--tasks`` times (new
occurrence numbers, new push times) with one multi-row INSERT per 5,000 rows. Everything
else is the real code: ``Workers.tick_once`` (claim with a lease, step, render, write the
outbox rows, commit) as the tick loop runs it.

* lateness — ``--tasks`` pending tasks with push times spread evenly over one hour of the
  bot's clock. The bot's clock runs ``--speed`` times faster than real time from the start
  of the hour; the bot's own tick loop (``Workers.tick_loop``: it sleeps until the earliest
  timer, at most ``tick_seconds``) runs for ``--window`` real seconds. Lateness of a task = (moment its push was handed to the outbox
  − its push time), in real seconds (bot-clock lateness ÷ speed). Speed 1 is the real load
  (28 pushes a second for 100,000 an hour); speed 6 puts the hour into 10 minutes.
* catchup — ``--tasks`` rows whose push time passed (10 min ago … 1 min ago); the time from
  the start of the process's work (build_app, migrations, first tick) until every one is
  handed to the outbox. Then where the time went: the tick's own statements and Python
  (claim, steps, state and event writes, and the pushed cards' outbox rows and links, which
  the tick writes itself) against the delivery queue (every other notice: reminders,
  escalations, cards for a private chat),
  and the CPU time this process used meanwhile (SQLite's work included, PostgreSQL's not):
  on a shared machine it is closer than the wall time to what a quiet one would take; and
  the CPU time the whole machine was busy meanwhile (PostgreSQL's server included, and
  whatever else runs: on a quiet machine, this process plus the server).
* memory — see bench/memory.py: a child process runs the bot (``--tasks`` pending rows, for
  ``--seconds``) against the emulator in this one; its current and peak RSS.

The sender does not run in lateness and catchup: they measure the hand-off to the outbox.
"""

# ruff: noqa: E501 — the benchmark prints Markdown table rows as they are

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bench._support import machine, postgres_database  # noqa: E402
from bot.app import App, build_app  # noqa: E402
from bot.services.booking import BookingRequest  # noqa: E402
from bot.services.clock import ManualClock  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.site import load_site  # noqa: E402
from storage import migrate  # noqa: E402
from storage.models import OutboxMessage, Task  # noqa: E402

TOKEN = "123456789:BENCH-token-for-the-emulator-only"
ZONE = ZoneInfo("Asia/Shanghai")
SITE = ROOT / "examples" / "site.toml"
MEETING = datetime(2026, 12, 10, 10, 0, tzinfo=ZONE)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=ZONE)


class ScaledClock:
    """The bot's clock: ``start`` at ``begin()``, then ``speed`` times real time."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.start, self.speed = start.astimezone(UTC), speed
        self.real0: float | None = None

    def begin(self) -> None:
        self.real0 = time.perf_counter()

    def now(self) -> datetime:
        if self.real0 is None:
            return self.start
        return self.start + timedelta(seconds=(time.perf_counter() - self.real0) * self.speed)


def settings_for(database_url: str, api_base: str = "http://127.0.0.1:9", **extra: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(TOKEN),
        telegram_api_base=api_base,
        database_url=database_url,
        site_config=SITE,
        log_level="WARNING",
        **extra,
    )


async def seed(app: App, clock_now: datetime, pushes: list[datetime]) -> None:
    """One real booking; its AV test task cloned once per push time, still to be pushed."""
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
    async with app.db.transaction() as session:
        model = (
            await session.scalars(
                select(Task).where(Task.booking_id == outcome.booking.id, Task.needs_confirmation.is_(True))
            )
        ).first()
        assert model is not None
        base = {c.key: getattr(model, c.key) for c in Task.__table__.columns if c.key != "id"}
    rows = []
    for number, push in enumerate(pushes):
        due = push + timedelta(days=1)  # no reminder inside the measured window
        rows.append(
            base
            | {
                "occurrence": 10_000 + number,
                "push_at": push,
                "next_at": push,
                "due_at": due,
                "planned_due_at": due,
                "expires_at": due + timedelta(days=1),
                "status": "planned",
                "stage": 0,
                "steps": 0,
                "late": False,
                "pushed_at": None,
                "lease_until": None,
                "leased_by": None,
                "updated_at": clock_now,
            }
        )
    for first in range(0, len(rows), 5000):
        async with app.db.transaction() as session:
            await session.execute(insert(Task), rows[first : first + 5000])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


@contextlib.asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    """The URL of an empty database of ``kind`` (sqlite or postgres), removed afterwards."""
    if kind == "postgres":
        async with postgres_database("huiwu_timers") as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"


async def lateness(tasks: int, speed: float, window: float, tick: float, kind: str) -> None:
    async with database(kind) as url:
        hour_start = MEETING - timedelta(days=2)
        clock = ScaledClock(hour_start, speed)
        app = build_app(settings_for(url, tick_seconds=tick), load_site(SITE), clock)
        pushes = [hour_start + timedelta(seconds=5 + 3600 * i / tasks) for i in range(tasks)]
        t0 = time.perf_counter()
        await seed(app, hour_start, pushes)
        print(f"seeded {tasks} pending tasks over one hour of bot time in {time.perf_counter() - t0:.1f} s")
        ticks: list[float] = []
        tick_once = app.workers.tick_once

        async def timed_tick() -> int:
            started = time.perf_counter()
            steps = await tick_once()
            ticks.append(time.perf_counter() - started)
            return steps

        app.workers.tick_once = timed_tick  # type: ignore[method-assign]
        clock.begin()
        loop = asyncio.create_task(app.workers.tick_loop())
        await asyncio.sleep(window)
        await app.workers.stop()
        await loop
        end = clock.now()
        async with app.db.transaction() as session:
            pushed = (
                await session.execute(select(Task.push_at, Task.pushed_at).where(Task.pushed_at.is_not(None)))
            ).all()
            missed = list(
                (
                    await session.scalars(
                        select(Task.push_at).where(Task.pushed_at.is_(None), Task.push_at <= end)
                    )
                ).all()
            )
            outbox = await session.scalar(select(func.count()).select_from(OutboxMessage))
        late = [max(0.0, (p.pushed_at - p.push_at).total_seconds() / speed) for p in pushed]
        # still unpushed at the end of the window: at least this late (counted, not hidden)
        late += [
            (end - (push_at if push_at.tzinfo else push_at.replace(tzinfo=UTC))).total_seconds() / speed
            for push_at in missed
        ]
        await app.db.dispose()
        await app.bot.session.close()
        print(
            f"| {kind} | {tasks} | {speed:g}× ({3600 / speed:.0f} s per bot hour) | {window:g} s | {tick:g} s | {len(late)} "
            f"| {len(missed)} | {statistics.median(late):.3f} s | {percentile(late, 0.99):.3f} s | {max(late):.3f} s "
            f"| {len(ticks)} | {statistics.median(ticks) * 1000:.1f} ms | {outbox} |"
        )


class PhaseTimer:
    """Wall time spent inside the tick's own work (claim, steps, writes) and inside the
    delivery queue, summed over a catch-up. On PostgreSQL several catch-up loops run at once
    (bot/workers.py): a phase counts the time while at least one call of it is running, so
    overlapping calls are not counted twice."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {"tick": 0.0, "queue": 0.0}
        self._running: dict[str, int] = {"tick": 0, "queue": 0}
        self._since: dict[str, float] = {"tick": 0.0, "queue": 0.0}

    def wrap(self, phase: str, function: Any) -> Any:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            if self._running[phase] == 0:
                self._since[phase] = time.perf_counter()
            self._running[phase] += 1
            try:
                return await function(*args, **kwargs)
            finally:
                self._running[phase] -= 1
                if self._running[phase] == 0:
                    self.seconds[phase] += time.perf_counter() - self._since[phase]

        return timed


async def catchup(tasks: int, kind: str) -> None:
    import bot.workers as workers_module

    async with database(kind) as url:
        clock = ManualClock(MEETING - timedelta(days=2))
        now = clock.now()
        seeder = build_app(settings_for(url), load_site(SITE), clock)
        await seed(seeder, now, [now - timedelta(seconds=60 + 540 * i / tasks) for i in range(tasks)])
        await seeder.db.dispose()
        await seeder.bot.session.close()
        # "process start": a new app on the same database, as after a restart
        started = time.perf_counter()
        app = build_app(settings_for(url), load_site(SITE), clock)
        await migrate.upgrade(app.db.engine)
        ready = time.perf_counter()
        cpu = time.process_time()
        machine_busy = busy_cpu_seconds()
        phases = PhaseTimer()
        app.workers.timers.tick = phases.wrap("tick", app.workers.timers.tick)  # type: ignore[method-assign]
        real_queue = workers_module.queue
        workers_module.queue = phases.wrap("queue", real_queue)  # type: ignore[attr-defined]
        passes = 0
        try:
            while True:
                passes += 1
                steps = await app.workers.tick_once()
                if not steps:
                    break
        finally:
            workers_module.queue = real_queue  # type: ignore[attr-defined]
        done = time.perf_counter()
        cpu = time.process_time() - cpu
        machine_busy = busy_cpu_seconds() - machine_busy
        async with app.db.transaction() as session:
            left = await session.scalar(
                select(func.count()).select_from(Task).where(Task.status == "planned")
            )
            outbox = await session.scalar(select(func.count()).select_from(OutboxMessage))
            late = await session.scalar(select(func.count()).select_from(Task).where(Task.late.is_(True)))
            doubled = await session.scalar(
                select(func.count()).select_from(
                    select(OutboxMessage.dedupe_key)
                    .where(OutboxMessage.dedupe_key.is_not(None))
                    .group_by(OutboxMessage.dedupe_key)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
        await app.db.dispose()
        await app.bot.session.close()
        rest = (done - ready) - phases.seconds["tick"] - phases.seconds["queue"]
        print(
            f"| {kind} | {tasks} | {ready - started:.2f} s | {done - started:.2f} s | {tasks / (done - ready):.0f} /s "
            f"| {left} | {outbox} | {doubled} | {late} | {phases.seconds['tick']:.2f} s | {phases.seconds['queue']:.2f} s "
            f"| {rest:.2f} s | {cpu:.2f} s | {machine_busy:.2f} s |"
        )


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy since boot (every process, PostgreSQL's
    server included), from /proc/stat; 0 where there is none."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


async def memory(tasks: int, seconds: float) -> None:
    """Moved to bench/memory.py: the emulator in this process, the measured bot in a child."""
    from bench.memory import run

    await run(tasks, seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["lateness", "catchup", "memory"])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--window", type=float, default=120.0)
    parser.add_argument("--tick", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    if os.environ.get("HUIWU_BENCH_CHILD") != "1":
        print(machine())
    if args.mode == "lateness":
        print(
            "| database | tasks | bot clock | window | longest sleep | pushed | overdue unpushed | p50 | p99 | max | ticks | tick median | outbox rows |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        asyncio.run(lateness(args.tasks, args.speed, args.window, args.tick, args.database))
    elif args.mode == "catchup":
        print(
            "| database | overdue rows | start (build + migrate) | all handed to the outbox | rate | left | outbox rows "
            "| doubled keys | marked late | in the tick | in the queue | rest (transactions, bookings) | this process's CPU "
            "| the machine's CPU |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        asyncio.run(catchup(args.tasks, args.database))
    else:
        asyncio.run(memory(args.tasks, args.seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
