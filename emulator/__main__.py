"""Run the emulator standalone: ``python -m emulator --port 8081``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from .config import EmulatorConfig
from .server import EmulatorServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", help="accept only this bot token (default: any)")
    parser.add_argument("--bot-username", default="huiwu_bot")
    parser.add_argument("--bot-name", default="Huiwu")
    parser.add_argument("--no-privacy", action="store_true", help="the bot sees every group message")
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--lenient-html", action="store_true", help="accept a bare '&' like Telegram does")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    config = EmulatorConfig(
        bot_username=args.bot_username,
        bot_first_name=args.bot_name,
        token=args.token,
        privacy_mode=not args.no_privacy,
        strict_html=not args.lenient_html,
    )
    config.rate_limits.enabled = not args.no_rate_limits
    server = EmulatorServer(args.host, args.port, config=config)
    await server.start()
    print(f"Telegram Bot API emulator on {server.base_url} (control API: {server.control_url})")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main() -> None:
    asyncio.run(_serve(_parser().parse_args()))


if __name__ == "__main__":
    main()
