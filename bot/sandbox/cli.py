"""``huiwu sandbox``: the emulator, the bot and the chat page, on one local URL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from datetime import datetime
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8080, help="the page's port (default 8080)")
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    parser.add_argument("--site", type=Path, default=None, help="the site file (default examples/site.toml)")
    parser.add_argument(
        "--start",
        default=None,
        metavar="'YYYY-MM-DD HH:MM'",
        help="the sandbox's time at start, in the site's zone (default: now)",
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    start_at = None
    if args.start:
        try:
            start_at = datetime.fromisoformat(args.start)
        except ValueError:
            print(f"--start {args.start!r}: use YYYY-MM-DD HH:MM", file=sys.stderr)
            return 2
    from bot.site import SiteConfigError

    try:
        return asyncio.run(serve(args.host, args.port, args.site, start_at))
    except SiteConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


async def serve(host: str, port: int, site: Path | None, start_at: datetime | None) -> int:
    # First of all, so that Ctrl-C during the (slow) imports and start-up still stops cleanly.
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stopping.set)

    from aiohttp import web

    from bot.sandbox.runtime import Sandbox, default_site_path
    from bot.sandbox.web import build_web_app

    sandbox = Sandbox(site_path=site or default_site_path(), start_at=start_at)
    runner = web.AppRunner(
        build_web_app(sandbox), handler_cancellation=True, access_log=None, shutdown_timeout=1.0
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        print(f"cannot listen on {host}:{port}: {exc.strerror or exc}; try --port", file=sys.stderr)
        return 1
    try:
        await sandbox.start()
        if not stopping.is_set():
            shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
            print(f"Huiwu sandbox: http://{shown}:{port}  (Ctrl-C to stop)", flush=True)
        await stopping.wait()
    finally:
        print("stopping the sandbox…", file=sys.stderr, flush=True)
        await runner.cleanup()
        await sandbox.stop()
    return 0
