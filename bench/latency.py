"""Button latency: a press on a task's Done button → the bot's answerCallbackQuery.

    uv run python bench/latency.py [--open 10000] [--presses 300]

The example site; one real booking, one of its confirmable tasks cloned into ``--open`` open
(pushed, unconfirmed) tasks of that task's team (see bench/timers.py for the seeding). The real bot
(composition root, long polling, workers, sender) runs against the Bot API emulator with
limits off. An AV team member presses Done on ``--presses`` different open tasks one after
the other (button data ``t:<id>:d`` on a message in the team's group; each press confirms a
task: a transaction, a task event, edits queued). Latency = from the emulator accepting the
press (the control-API call that creates the update) to the emulator recording the bot's
answerCallbackQuery, measured by the caller around ``click_button`` + the long-polled
answer — so it includes the control API's own HTTP round trips. Goal: p99 ≤ 50 ms.
"""

# ruff: noqa: E501 — the benchmark prints Markdown table rows as they are

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, update  # noqa: E402

from bench.timers import MEETING, SITE, TOKEN, seed, settings_for  # noqa: E402
from bot.app import build_app, start, stop  # noqa: E402
from bot.services.clock import ManualClock  # noqa: E402
from bot.site import load_site  # noqa: E402
from emulator.client import EmulatorClient  # noqa: E402
from emulator.server import EmulatorServer  # noqa: E402
from storage.models import Task  # noqa: E402


async def run(open_tasks: int, presses: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = EmulatorServer(token=TOKEN)
        server.config.rate_limits.enabled = False
        await server.start()
        emu = EmulatorClient(server.base_url)
        site = load_site(SITE)
        for person in site.people:
            await emu.create_user(person.id, person.name, language_code="zh-hans")
        for team in site.teams:
            for member in sorted(team.everyone - {p.id for p in site.people}):
                await emu.create_user(member, f"staff {member}", language_code="zh-hans")
            assert team.chat_id is not None
            await emu.create_group(team.chat_id, team.name.zh, sorted(team.everyone))
        clock = ManualClock(MEETING - timedelta(days=2))
        now = clock.now()
        app = build_app(
            settings_for(f"sqlite+aiosqlite:///{folder}/bench.db", server.base_url),
            site,
            clock,
        )
        await seed(app, now, [now - timedelta(minutes=5)] * open_tasks)
        async with app.db.transaction() as session:  # pushed and waiting for Done
            await session.execute(
                update(Task)
                .where(Task.occurrence >= 10_000)
                .values(status="open", pushed_at=now - timedelta(minutes=5), next_at=now + timedelta(hours=5))
            )
            ids = list((await session.scalars(select(Task.id).where(Task.status == "open"))).all())
            team_id = await session.scalar(select(Task.team_id).where(Task.occurrence >= 10_000).limit(1))
        team = next(t for t in site.teams if t.id == team_id)
        assert team.chat_id is not None
        group, presser = team.chat_id, team.leader  # the leader may press every task of the team
        print(f"{len(ids)} open tasks of the {team_id} team; its leader {presser} presses Done in {group}")
        await start(app)
        polling = asyncio.create_task(
            app.dispatcher.start_polling(
                app.bot, handle_signals=False, close_bot_session=False, polling_timeout=10
            )
        )
        anchor = await app.bot.send_message(group, "bench")
        rng = random.Random(5)
        chosen = rng.sample(ids, presses + 20)
        timings: list[float] = []
        confirmed = 0
        for number, task_id in enumerate(chosen):
            began = time.perf_counter()
            click = await emu.click_button(presser, group, anchor.message_id, f"t:{task_id}:d", forge=True)
            answer = await emu.wait_for_callback_answer(click["callback_query_id"], timeout=10)
            elapsed = (time.perf_counter() - began) * 1000
            if number >= 20:  # warm-up
                timings.append(elapsed)
                confirmed += "已记录" in (answer.get("text") or "")
        async with app.db.transaction() as session:
            done = await session.scalar(select(func.count()).select_from(Task).where(Task.status == "done"))
        await app.dispatcher.stop_polling()
        await polling
        await stop(app)
        await emu.close()
        await server.stop()
        ordered = sorted(timings)

        def pct(share: float) -> float:
            return ordered[min(len(ordered) - 1, round(share * len(ordered)) - 1)]

        print("| open tasks | presses | p50 | p95 | p99 | max | answered 'recorded' | done in DB |")
        print("|---|---|---|---|---|---|---|---|")
        print(
            f"| {len(ids)} | {len(timings)} | {statistics.median(timings):.1f} ms | {pct(0.95):.1f} ms "
            f"| {pct(0.99):.1f} ms | {max(timings):.1f} ms | {confirmed} | {done} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--presses", type=int, default=300)
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    asyncio.run(run(args.open, args.presses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
