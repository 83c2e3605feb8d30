"""``huiwu report week --out FILE.xlsx [--week 2026-W49 | 2026-12-03] [--language zh|en]``
and ``huiwu report month --dept finance --out FILE.xlsx [--month 2026-11] [--language zh|en]``.

Writes the weekly briefing's spreadsheet (the same file /week sends) from the database named
by ``DATABASE_URL`` and the site file named by ``SITE_CONFIG``; ``--chart FILE.png`` also
writes the chart. The week defaults to the current one in the site's zone. Like ``huiwu run``
it first applies the migrations, so it works on a fresh checkout (an empty database gives an
empty but valid workbook). The files are written readable by the owner only: they name
departments and meetings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.site import SiteConfig

T = TypeVar("T")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    kinds = parser.add_subparsers(dest="report", required=True)
    week = kinds.add_parser("week", help="the weekly briefing (周业务简报) as an .xlsx file")
    week.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    week.add_argument("--week", default=None, help="2026-W49, or a date of that week (default: this week)")
    week.add_argument("--language", choices=("zh", "en"), default=None, help="default: the site's language")
    week.add_argument("--chart", type=Path, default=None, help="also write the chart as a PNG file")
    month = kinds.add_parser("month", help="a department's monthly statement as an .xlsx file")
    month.add_argument("--dept", required=True, help="the department's id in the site file (finance)")
    month.add_argument("--month", default=None, help="2026-11 (default: last month)")
    month.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    month.add_argument("--language", choices=("zh", "en"), default=None, help="default: the site's language")


def run(args: argparse.Namespace) -> int:
    if args.report == "month":
        return run_month(args)
    from bot.render.reports import chart_png, workbook_bytes
    from bot.render.text import Reader
    from bot.services.clock import SystemClock
    from bot.services.reports import ReportService, WeekError, WeekFigures, parse_week
    from bot.telegram.i18n import build_i18n

    loaded = _site()
    if loaded is None:
        return 2
    settings, site = loaded
    clock = SystemClock()
    try:
        week = parse_week(args.week, clock.now().astimezone(site.zone).date())
    except WeekError:
        print(f"--week {args.week!r}: write a week like 2026-W49 or a date like 2026-12-03", file=sys.stderr)
        return 2
    language = args.language or site.site.default_language
    reader = Reader(build_i18n(site.site.default_language), language, site)
    result: WeekFigures | None = _read_migrated(
        settings, lambda session: ReportService(site, clock).week(session, week)
    )
    if result is None:
        return 1
    write_private(args.out, workbook_bytes(reader, result))
    if args.chart is not None:
        write_private(args.chart, chart_png(reader, result))
    print(
        f"{args.out}: weekly briefing {week.label} — {len(result.meetings)} meetings, "
        f"{result.tasks} tasks due, {len(result.feedback)} feedback scores"
    )
    return 0


def run_month(args: argparse.Namespace) -> int:
    """``report month``: the same spreadsheet the department's contacts get (docs/product.md §5)."""
    from bot.render.statements import workbook_bytes
    from bot.render.text import Reader
    from bot.services.clock import SystemClock
    from bot.services.statements import DepartmentStatement, MonthError, StatementService, parse_month
    from bot.telegram.i18n import build_i18n

    loaded = _site()
    if loaded is None:
        return 2
    settings, site = loaded
    if site.department(args.dept) is None:
        known = ", ".join(d.id for d in site.departments)
        print(f"--dept {args.dept!r}: no such department in the site file (known: {known})", file=sys.stderr)
        return 2
    clock = SystemClock()
    try:
        month = parse_month(args.month, clock.now().astimezone(site.zone).date())
    except MonthError:
        print(f"--month {args.month!r}: write a month like 2026-11", file=sys.stderr)
        return 2
    language = args.language or site.site.default_language
    reader = Reader(build_i18n(site.site.default_language), language, site)
    result: DepartmentStatement | None = _read_migrated(
        settings, lambda session: StatementService(site, clock).department(session, args.dept, month)
    )
    if result is None:
        return 1
    write_private(args.out, workbook_bytes(reader, result))
    print(
        f"{args.out}: monthly statement {args.dept} {month.label} — {len(result.held)} meetings, "
        f"{result.no_shows} no-shows, consumables {result.consumables_cents / 100:.2f}"
    )
    return 0


def _site() -> tuple[Settings, SiteConfig] | None:
    """The settings and the site file, or None after printing the site file's problems."""
    from bot.settings import load_settings
    from bot.site import SiteConfigError, load_site

    settings = load_settings()
    try:
        return settings, load_site(settings.site_config)
    except SiteConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def _read_migrated(settings: Settings, read: Callable[[AsyncSession], Awaitable[T]]) -> T | None:
    """Apply the migrations (a fresh checkout works), then ``read`` in one transaction; None
    after printing why the database could not be read."""
    from storage import migrate
    from storage.database import Database, create_engine, exclusive

    async def migrated() -> T:
        db = Database(create_engine(settings.database_url))
        try:
            async with exclusive(db.engine, "huiwu:migrations"):
                await migrate.upgrade(db.engine)
            async with db.transaction() as session:
                return await read(session)
        finally:
            await db.dispose()

    try:
        return asyncio.run(migrated())
    except (OperationalError, ProgrammingError) as exc:
        print(f"cannot read the database ({exc.orig})", file=sys.stderr)
        return None


def write_private(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` readable and writable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT
