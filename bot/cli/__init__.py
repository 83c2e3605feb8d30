"""The `huiwu` command: run the bot, check a site file, apply migrations."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.cli import report as report_cli
from bot.ops.logs import configure_logging, secrets_of
from bot.sandbox import cli as sandbox_cli
from bot.settings import Settings, load_settings
from bot.site import SiteConfigError, load_site


def _configure_logging(settings: Settings) -> None:
    """One line per event (LOG_FORMAT kv or json) on stderr; no secret ever in it."""
    configure_logging(settings.log_level, settings.log_format, secrets_of(settings))


def _check_config(path: Path) -> int:
    try:
        site = load_site(path)
    except SiteConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{path}: {len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    print(
        f"{path}: OK — {len(site.rooms)} rooms, {len(site.teams)} teams, "
        f"{len(site.people)} people, {len(site.task_templates)} task templates"
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    _configure_logging(settings)
    problem = settings.token_problem() or (settings.webhook_problem() if args.webhook else None)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        site = load_site(settings.site_config)
    except SiteConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        print(f"{settings.site_config}: the bot does not start with an invalid site file", file=sys.stderr)
        return 2
    from bot.app import build_app, run_polling, run_webhook
    from bot.ops.lease import InstanceNameTaken
    from bot.ops.web import ListenerError

    app = build_app(settings, site)
    try:
        asyncio.run(run_webhook(app) if args.webhook else run_polling(app))
    except KeyboardInterrupt:
        pass
    except (InstanceNameTaken, ListenerError) as error:
        print(error, file=sys.stderr)
        return 2
    except Exception:  # one structured (and redacted) line, not a bare traceback
        logging.getLogger("bot").exception("huiwu stopped on an error")
        return 1
    return 0


def _migrate(args: argparse.Namespace) -> int:
    settings = load_settings()
    _configure_logging(settings)
    from storage import migrate
    from storage.database import create_engine, exclusive

    async def upgrade() -> None:
        engine = create_engine(settings.database_url)
        try:
            async with exclusive(engine, "huiwu:migrations"):
                await migrate.upgrade(engine, args.revision)
        finally:
            await engine.dispose()

    asyncio.run(upgrade())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="huiwu", description="Huiwu (会务) meeting-services bot")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="serve Telegram's webhook (WEBHOOK_URL, WEBHOOK_SECRET); several instances may run",
    )
    check = commands.add_parser("check-config", help="validate a site file")
    check.add_argument("file", type=Path)
    upgrade = commands.add_parser("migrate", help="apply database migrations")
    upgrade.add_argument("revision", nargs="?", default="head")
    sandbox_cli.add_arguments(commands.add_parser("sandbox", help="try the bot in a browser, no Telegram"))
    report_cli.add_arguments(
        commands.add_parser("report", help="write a report (the weekly briefing, a monthly statement)")
    )
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        return sandbox_cli.run(args)
    if args.command == "report":
        return report_cli.run(args)
    if args.command == "check-config":
        return _check_config(args.file)
    if args.command == "migrate":
        return _migrate(args)
    return _run(args)
