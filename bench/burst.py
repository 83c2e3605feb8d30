"""Burst benchmark: many meetings starting at the same minute, their tasks all due together.

    uv run python bench/burst.py                      # 200 meetings, the −60 min mark, SQLite
    uv run python bench/burst.py --database postgres  # the same on a fresh PostgreSQL database
    uv run python bench/burst.py --meetings 50 --at -60

The example site plus one class-A room per meeting; every meeting is booked for the same
start; the clock jumps to ``--at`` minutes before it, so every task pushed there comes due
at once (at −60: the second-level check for each involved team, the AV test, unlocking
the venue, tea preparation). The real bot (composition root, workers, sender) runs against
the Bot API emulator with Telegram's limits on (1 msg/s per chat with a burst of 3, 20 per
minute per group, 30 per second overall), in this process, on a SQLite file or (``--database
postgres``) a PostgreSQL database created for the run and dropped after it. Prints the time
until every due task is visible in its team's group, messages sent, and 429s received, then
one Markdown table row. Goal: < 60 s, zero 429s.
"""

# ruff: noqa: E501 — the benchmark prints Markdown table rows as they are

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench._support import machine, postgres_database  # noqa: E402
from bot.app import build_app, start, stop  # noqa: E402
from bot.services.booking import BookingRequest  # noqa: E402
from bot.services.clock import ManualClock  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.site import load_site  # noqa: E402
from emulator.client import EmulatorClient  # noqa: E402
from emulator.server import EmulatorServer  # noqa: E402
from storage.models import OutboxMessage, Task  # noqa: E402

TOKEN = "123456789:BENCH-token-for-the-emulator-only"
ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=ZONE)
START = datetime(2026, 12, 3, 10, 0, tzinfo=ZONE)


def site_file(directory: Path, meetings: int) -> Path:
    rooms = "".join(
        f"""
[[rooms]]
id = "b{number:03d}"
name = {{ zh = "{number}号洽谈室", en = "Talk room {number}" }}
class = "A"
capacity = 20
layouts = ["discussion"]
"""
        for number in range(1, meetings + 1)
    )
    path = directory / "burst.toml"
    path.write_text((ROOT / "examples" / "site.toml").read_text(encoding="utf-8") + rooms, encoding="utf-8")
    return path


async def run(database: str, meetings: int, at_minutes: float, limit: float) -> int:
    if database == "postgres":
        async with postgres_database() as url:
            return await run_on(url, "PostgreSQL", meetings, at_minutes, limit)
    with tempfile.TemporaryDirectory() as folder:
        return await run_on(
            f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", "SQLite", meetings, at_minutes, limit
        )


async def run_on(database_url: str, label: str, meetings: int, at_minutes: float, limit: float) -> int:
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        site = load_site(site_file(directory, meetings))
        server = EmulatorServer(token=TOKEN)
        server.config.rate_limits.enabled = True
        await server.start()
        emu = EmulatorClient(server.base_url)
        for person in site.people:
            await emu.create_user(person.id, person.name, language_code="zh-hans")
        for team in site.teams:
            for member in sorted(team.everyone - {p.id for p in site.people}):
                await emu.create_user(member, f"staff {member}", language_code="zh-hans")
            assert team.chat_id is not None
            await emu.create_group(team.chat_id, team.name.zh, sorted(team.everyone))
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=SecretStr(TOKEN),
            telegram_api_base=server.base_url,
            database_url=database_url,
            log_level="WARNING",
        )
        clock = ManualClock(NOW)
        app = build_app(settings, site, clock)
        await start(app)
        try:
            data = app.dispatcher.workflow_data
            async with app.db.transaction() as session:
                for number in range(1, meetings + 1):
                    outcome = await data["booking_service"].create(
                        session,
                        BookingRequest(
                            department_id="finance",
                            requester_id=1001,
                            booked_by_id=1001,
                            room_id=f"b{number:03d}",
                            start=START,
                            end=START + timedelta(hours=2),
                            attendees=10,
                            layout="discussion",
                            reception_level=3,
                            title=f"Meeting {number}",
                            contact_name="王敏",
                            contact_phone="123",
                            services={"tea": {}},
                        ),
                    )
                    await data["delivery"].deliver(session, outcome.notices)
            moment = START + timedelta(minutes=at_minutes)
            # everything due before the burst goes out first, so the burst is only the burst
            earlier = moment - timedelta(minutes=1)
            clock.set(earlier)
            warm_up = time.monotonic()
            while True:
                async with app.db.transaction() as session:
                    waiting = await session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status.in_(("pending", "sending")))
                    )
                    unpushed = await session.scalar(
                        select(func.count())
                        .select_from(Task)
                        .where(Task.status == "planned", Task.next_at <= earlier)
                    )
                if not waiting and not unpushed:
                    break
                await asyncio.sleep(0.5)
            print(
                f"(the tasks due before it — a late start: {time.monotonic() - warm_up:.1f} s to deliver; "
                "now waiting 61 s so the groups' minute budgets are fresh)"
            )
            await asyncio.sleep(61)
            async with app.db.transaction() as session:
                due = (
                    await session.scalars(select(Task).where(Task.push_at <= moment, Task.push_at > earlier))
                ).all()
                # every team of the example site has its group
                chats = {team.id: team.chat_id for team in site.teams if team.chat_id is not None}
                expected = {(chats[t.team_id], t.id) for t in due}
            per_group = {chat: sum(1 for c, _ in expected if c == chat) for chat in chats.values()}
            print(
                f"{meetings} meetings at {START:%H:%M}; clock to {at_minutes:+g} min: "
                f"{len(expected)} tasks due at once "
                f"({', '.join(f'{chat}: {n}' for chat, n in per_group.items() if n)})"
            )
            before = await emu.stats()
            async with app.db.transaction() as session:
                last_row = await session.scalar(select(func.max(OutboxMessage.id))) or 0
            began = time.monotonic()
            clock.set(moment)  # the workers' loops (tick, sender) take it from here
            seen: set[tuple[int, int]] = set()
            finished = None
            enqueued = None
            ids = [task_id for _, task_id in expected]
            while time.monotonic() - began < limit:
                if enqueued is None:
                    async with app.db.transaction() as session:
                        left = await session.scalar(
                            select(func.count())
                            .select_from(Task)
                            .where(Task.id.in_(ids), Task.status == "planned")
                        )
                    if not left:
                        enqueued = time.monotonic() - began
                for chat in {c for c, _ in expected}:
                    for message in await emu.bot_messages(chat):
                        for number in re.findall(r"#(\d+)", message.get("text") or ""):
                            seen.add((chat, int(number)))
                if expected <= seen:
                    finished = time.monotonic() - began
                    break
                await asyncio.sleep(0.25)
            after = await emu.stats()
            async with app.db.transaction() as session:
                rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.id > last_row))).all()
            merged = sum(1 for r in rows if r.status == "merged")
            messages = after["messages_sent"] - before["messages_sent"]
            limited = after["rate_limited"] - before["rate_limited"]
            stats = app.workers.sender.stats
            print(f"every task pushed (its message queued) after {enqueued or float('nan'):.1f} s")
            print(f"machine: {machine()}")
            if finished is None:
                missing = len(expected - seen)
                print(f"NOT DONE after {limit:.0f} s: {missing} of {len(expected)} tasks not visible")
            else:
                print(f"every task visible in its group after {finished:.1f} s")
            print(
                f"messages sent: {messages} (tasks merged into another message: {merged}); "
                f"429s received: {limited} (sender saw {stats['retry_after']}); "
                f"per group: "
                + ", ".join(
                    f"{chat}: {sum(1 for r in rows if r.chat_id == chat and r.status == 'sent')}"
                    for chat in per_group
                    if per_group[chat]
                )
            )
            print(
                "| database | meetings | clock to | tasks due | all pushed after | all visible after | messages sent | merged | 429s |"
            )
            print("|---|---|---|---|---|---|---|---|---|")
            visible = (
                f"{finished:.1f} s"
                if finished is not None
                else f"not done in {limit:.0f} s ({len(expected - seen)} missing)"
            )
            print(
                f"| {label} | {meetings} | {at_minutes:+g} min | {len(expected)} | {enqueued or float('nan'):.1f} s "
                f"| {visible} | {messages} | {merged} | {limited} |"
            )
            return 0 if finished is not None and finished < 60 and limited == 0 else 1
        finally:
            await stop(app)
            with contextlib.suppress(Exception):
                await emu.close()
            await server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--meetings", type=int, default=200)
    parser.add_argument("--at", type=float, default=-60, help="minutes before the start to jump to")
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()
    return asyncio.run(run(args.database, args.meetings, args.at, args.timeout))


if __name__ == "__main__":
    raise SystemExit(main())
