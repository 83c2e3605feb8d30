"""Memory of one bot instance holding pending tasks: the RSS of the bot's process alone.

    uv run python bench/memory.py [--tasks 100000] [--seconds 30] [--reader warm|lazy]
                                  [--work-every 5] [--report-every 60] [--database postgres]
    uv run python bench/timers.py memory [--tasks 100000] [--seconds 30]   (the same, delegated)

This process seeds the database (SQLite in a temporary file, or with ``--database postgres`` a
fresh PostgreSQL database on 127.0.0.1, dropped afterwards; one real booking through the booking service, one of its
AV tasks cloned ``--tasks`` times with push times three days ahead, see ``timers.seed``) and
then runs the Bot API emulator. A child process, which carries neither the seeding nor the
emulator, starts the bot the way production does: ``build_app``, ``start`` (migrations,
scheduler, tick and sender loops) and long polling against the emulator.

``--reader warm`` (the default, ``UNDERSTANDING_WARM_UP=true``): the one-sentence reader's
libraries (jionlp, dateparser) are loaded in a background thread by ``start``, and the child
waits for them before it says it has started. ``--reader lazy`` (``UNDERSTANDING_WARM_UP=
false``): they are loaded by the first typed request, if any.

While the bot runs, this process does its work every ``--work-every`` seconds (0: none): a
person types a booking request in one message (王敏 in Chinese and Alice in English in turn),
the bot reads it and opens the booking dialog, and the person presses the first button of the
answer. This process reads ``VmRSS`` and ``VmHWM`` (peak) from ``/proc/<child>/status`` when the
child has started, every ``--report-every`` seconds and after ``--seconds``, one table row each.
An hour of work: ``--seconds 3600 --report-every 600``.
"""

# ruff: noqa: E501 — the benchmark prints Markdown table rows as they are

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "examples" / "site.toml"
READY = "HUIWU-BENCH "
HEAVY = (
    "matplotlib",
    "openpyxl",
    "icalendar",
    "jionlp",
    "dateparser",
    "numpy",
    "PIL",
    "redis",
    "alembic",
    "pygments",
)
# (person, language, a request typed in one message)
REQUESTS = (
    (1001, "zh-hans", "明天下午2点到4点 第一会议室 12人 年度工作会议"),
    (1002, "en", "Book Meeting Room 1 for 12 people on 3 December 2-3:30pm, title: budget review"),
)


def status(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM of ``pid``, in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


# --- the parent: seeding, the emulator, the work, the readings ------------------------------


def _first_button(message: dict[str, Any]) -> str | None:
    """The callback data of the message's first inline button (the dialog's window has some)."""
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return next((b["callback_data"] for row in keyboard for b in row if b.get("callback_data")), None)


class Work:
    """A person types a request, the bot answers, the person presses the answer's first button."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.turns = itertools.cycle(REQUESTS)
        self.requests = self.answered = self.presses = self.failures = 0

    async def prepare(self) -> None:
        for user, language, _ in REQUESTS:
            await self.emulator.create_user(user, f"person {user}", language_code=language)

    async def once(self) -> None:
        user, _, text = next(self.turns)
        self.requests += 1
        try:
            since = await self.emulator.current_seq()
            await self.emulator.send_message(user, text)
            answer = await self.emulator.wait_for_message(user, _first_button, since=since, timeout=15)
            self.answered += 1
            data = _first_button(answer)
            assert data is not None
            click = await self.emulator.click_button(user, user, answer["message_id"], data)
            await self.emulator.wait_for_callback_answer(click["callback_query_id"], timeout=15)
            self.presses += 1
        except Exception:  # counted and shown; the readings go on
            self.failures += 1


async def run(
    tasks: int,
    seconds: float,
    *,
    reader: str = "warm",
    work_every: float = 5.0,
    report_every: float | None = None,
    kind: str = "sqlite",
) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.timers import NOW, TOKEN, database, seed, settings_for
    from bot.app import build_app
    from bot.services.clock import ManualClock
    from bot.site import load_site
    from emulator.client import EmulatorClient
    from emulator.server import EmulatorServer

    async with database(kind) as url:
        clock = ManualClock(NOW)
        seeder = build_app(settings_for(url), load_site(SITE), clock)
        now = clock.now()
        await seed(seeder, now, [now + timedelta(days=3, seconds=i) for i in range(tasks)])
        await seeder.db.dispose()
        await seeder.bot.session.close()

        server = EmulatorServer(token=TOKEN)
        server.config.rate_limits.enabled = False
        await server.start()
        emulator = EmulatorClient(server.base_url)
        work = Work(emulator)
        await work.prepare()
        command = [sys.executable, __file__, "--child", "--url", url, "--api", server.base_url]
        command += ["--token", TOKEN, "--now", NOW.isoformat(), "--reader", reader]
        child = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert child.stdin is not None and child.stdout is not None

        async def hear() -> dict[str, Any]:
            assert child.stdout is not None
            while True:
                line = (await child.stdout.readline()).decode()
                if not line:
                    raise RuntimeError(f"the bot process ended early (exit code {await child.wait()})")
                if line.startswith(READY):
                    message: dict[str, Any] = json.loads(line[len(READY) :])
                    return message

        async def tell(word: str) -> None:
            assert child.stdin is not None
            child.stdin.write(f"{word}\n".encode())
            await child.stdin.drain()

        readings: list[tuple[str, float, float]] = []
        try:
            began = await hear()
            rss, peak = status(child.pid)
            readings.append((f"after start ({began['start_seconds']:.1f} s)", rss, peak))
            started = time.monotonic()
            checkpoints = [seconds]
            if report_every:
                checkpoints = sorted(
                    {*(report_every * n for n in range(1, int(seconds // report_every) + 1)), seconds}
                )
            for checkpoint in checkpoints:
                while (left := started + checkpoint - time.monotonic()) > 0:
                    if work_every > 0:
                        turn = time.monotonic()
                        await work.once()
                        await asyncio.sleep(max(0.0, min(work_every - (time.monotonic() - turn), left)))
                    else:
                        await asyncio.sleep(left)
                rss, peak = status(child.pid)
                readings.append((f"after {checkpoint:g} s", rss, peak))
            await tell("report")
            report = await hear()
            await tell("stop")
            code = await child.wait()
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
            await emulator.close()
            await server.stop()
        if code != 0:
            raise RuntimeError(f"the bot process exited with {code}")

    print(
        f"database: {kind}; pending tasks: {report['pending']}; reader: {reader}; work every {work_every:g} s: "
        f"{work.requests} typed requests ({work.answered} answered), {work.presses} presses, {work.failures} failures"
    )
    print("| when | RSS | peak RSS (VmHWM) |")
    print("|---|---|---|")
    for when, rss, peak in readings:
        print(f"| {when} | {rss:.0f} MB | {peak:.0f} MB |")
    print(f"(the bot's process only; heavy packages it holds: {', '.join(report['modules']) or 'none'})")


# --- the child: one bot instance, as production starts it ----------------------------------


def say(stage: str, **data: object) -> None:
    print(READY + json.dumps({"stage": stage, **data}), flush=True)


async def child(url: str, api: str, token: str, now: datetime, reader: str) -> None:
    sys.path.insert(0, str(ROOT))
    from pydantic import SecretStr
    from sqlalchemy import func, select

    from bot.app import build_app, start, stop
    from bot.services.clock import ManualClock
    from bot.settings import Settings
    from bot.site import load_site
    from storage.models import Task

    began = time.monotonic()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(token),
        telegram_api_base=api,
        database_url=url,
        site_config=SITE,
        log_level="WARNING",
        understanding_warm_up=reader == "warm",
    )
    app = build_app(settings, load_site(SITE), ManualClock(now))
    await start(app)
    polling = asyncio.create_task(
        app.dispatcher.start_polling(
            app.bot, handle_signals=False, close_bot_session=False, polling_timeout=1
        )
    )
    if reader == "warm":  # wait for start's background warm-up (and what it gives back after)
        await asyncio.gather(*app.one_off)
    say("started", start_seconds=time.monotonic() - began)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # "report"
    async with app.db.transaction() as session:
        pending = await session.scalar(select(func.count()).select_from(Task).where(Task.status == "planned"))
    from bot.services.understanding import jionlp_time

    # jionlp's time extractor leaves no jionlp module in sys.modules (jionlp_time): named apart
    extractor = ["jionlp's time extractor"] if jionlp_time.loaded() else []
    say("measured", pending=pending, modules=extractor + [name for name in HEAVY if name in sys.modules])
    await loop.run_in_executor(None, sys.stdin.readline)  # "stop"
    await app.dispatcher.stop_polling()
    await polling
    await stop(app)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--reader",
        choices=["warm", "lazy"],
        default="warm",
        help="jionlp/dateparser loaded at start in the background (warm) or by the first typed request (lazy)",
    )
    parser.add_argument(
        "--work-every", type=float, default=5.0, help="seconds between typed requests; 0: idle"
    )
    parser.add_argument("--report-every", type=float, default=None, help="a reading every so many seconds")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.url, args.api, args.token, datetime.fromisoformat(args.now), args.reader))
        return 0
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.1f}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    asyncio.run(
        run(
            args.tasks,
            args.seconds,
            reader=args.reader,
            work_every=args.work_every,
            report_every=args.report_every,
            kind=args.database,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
