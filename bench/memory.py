"""Memory of one bot instance holding pending tasks: the RSS of the bot's process alone.

    uv run python bench/memory.py [--tasks 100000] [--seconds 30] [--without-understanding]
    uv run python bench/timers.py memory [--tasks 100000] [--seconds 30]   (the same, delegated)

This process seeds the database (one real booking through the booking service, one of its
AV tasks cloned ``--tasks`` times with push times three days ahead, see ``timers.seed``) and
then runs the Bot API emulator. A child process, which carries neither the seeding nor the
emulator, starts the bot the way production does: ``build_app``, ``start`` (migrations, the
jionlp/dateparser warm-up, scheduler, tick and sender loops) and long polling against the
emulator. The child says when it has started and again after ``--seconds``; each time this
process reads ``VmRSS`` and ``VmHWM`` (peak) from ``/proc/<child>/status``. Then the child
stops and exits.

``--without-understanding`` is for the breakdown only: the child skips ``warm_up``, so
jionlp and dateparser are not loaded (in production they would be loaded by the first
free-text request instead). The child also lists which heavy optional packages it holds.
"""

# ruff: noqa: E501 — the benchmark prints Markdown table rows as they are

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def status(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM of ``pid``, in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


# --- the parent: seeding, the emulator, the readings ---------------------------------------


async def run(tasks: int, seconds: float, *, understanding: bool = True) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from timers import NOW, TOKEN, seed, settings_for

    from bot.app import build_app
    from bot.services.clock import ManualClock
    from bot.site import load_site
    from emulator.server import EmulatorServer

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        clock = ManualClock(NOW)
        seeder = build_app(settings_for(url), load_site(SITE), clock)
        now = clock.now()
        await seed(seeder, now, [now + timedelta(days=3, seconds=i) for i in range(tasks)])
        await seeder.db.dispose()
        await seeder.bot.session.close()

        server = EmulatorServer(token=TOKEN)
        await server.start()
        command = [sys.executable, __file__, "--child", "--url", url, "--api", server.base_url]
        command += ["--token", TOKEN, "--now", NOW.isoformat(), "--seconds", str(seconds)]
        if not understanding:
            command.append("--without-understanding")
        child = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert child.stdin is not None and child.stdout is not None
        readings: dict[str, tuple[float, float]] = {}
        report: dict[str, object] = {}
        try:
            while len(readings) < 2:
                line = (await child.stdout.readline()).decode()
                if not line:
                    raise RuntimeError(f"the bot process ended early (exit code {await child.wait()})")
                if line.startswith(READY):
                    message = json.loads(line[len(READY) :])
                    readings[message["stage"]] = status(child.pid)
                    report.update(message)
            child.stdin.write(b"stop\n")
            await child.stdin.drain()
            code = await child.wait()
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
            await server.stop()
        if code != 0:
            raise RuntimeError(f"the bot process exited with {code}")

    started, after = readings["started"], readings["measured"]
    print(
        f"| pending tasks in the database | understanding warmed up | RSS after start | RSS after {seconds:g} s | peak RSS (VmHWM) |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| {report['pending']} | {'yes' if understanding else 'no'} | {started[0]:.0f} MB | {after[0]:.0f} MB | {after[1]:.0f} MB |"
    )
    print(f"(the bot's process only; heavy packages it holds: {', '.join(report['modules']) or 'none'})")  # type: ignore[arg-type]


# --- the child: one bot instance, as production starts it ----------------------------------


def say(stage: str, **data: object) -> None:
    print(READY + json.dumps({"stage": stage, **data}), flush=True)


async def child(url: str, api: str, token: str, now: datetime, seconds: float, understanding: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from pydantic import SecretStr
    from sqlalchemy import func, select

    import bot.app
    from bot.app import build_app, start, stop
    from bot.services.clock import ManualClock
    from bot.settings import Settings
    from bot.site import load_site
    from storage.models import Task

    if not understanding:
        bot.app.warm_up = lambda: None  # type: ignore[assignment]  # the breakdown only
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(token),
        telegram_api_base=api,
        database_url=url,
        site_config=SITE,
        log_level="WARNING",
    )
    app = build_app(settings, load_site(SITE), ManualClock(now))
    await start(app)
    polling = asyncio.create_task(
        app.dispatcher.start_polling(
            app.bot, handle_signals=False, close_bot_session=False, polling_timeout=1
        )
    )
    say("started")
    await asyncio.sleep(seconds)
    async with app.db.transaction() as session:
        pending = await session.scalar(select(func.count()).select_from(Task).where(Task.status == "planned"))
    say("measured", pending=pending, modules=[name for name in HEAVY if name in sys.modules])
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await app.dispatcher.stop_polling()
    await polling
    await stop(app)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--without-understanding", action="store_true", help="skip the jionlp/dateparser warm-up"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    args = parser.parse_args()
    understanding = not args.without_understanding
    if args.child:
        now = datetime.fromisoformat(args.now)
        asyncio.run(child(args.url, args.api, args.token, now, args.seconds, understanding))
        return 0
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    asyncio.run(run(args.tasks, args.seconds, understanding=understanding))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
