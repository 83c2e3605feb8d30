"""The bot token never reaches the log output, not even when requests fail.

aiogram and aiohttp build request URLs as ``<api>/bot<token>/<method>``; a failed request,
a traceback or our own debugging line can carry one. The logging configured by ``huiwu run``
(bot.ops.logs.configure_logging) is installed here at DEBUG, the bot is made to fail in
every way at hand, and the whole output is searched for the token.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from aiogram.exceptions import TelegramAPIError

from bot.app import build_app, stop
from bot.ops.logs import configure_logging, secrets_of
from bot.services.clock import ManualClock
from bot.site import load_site
from bot.telegram.runtime import build_bot
from emulator.server import EmulatorServer
from tests.e2e.scaleout import SECRET, webhook_instance
from tests.support.harness import DEFAULT_START, EXAMPLE_SITE, TOKEN, harness_settings, register_site_people
from tests.support.people import ALICE

SECRET_HALF = TOKEN.split(":", 1)[1]
CLOSED = "http://127.0.0.1:1"  # nothing listens on port 1
log = logging.getLogger("tests.token")


@contextlib.contextmanager
def captured(log_format: str, secrets: list[str]) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("DEBUG", log_format, secrets, stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        logging.captureWarnings(False)


async def fail_against_a_closed_port() -> None:
    settings = harness_settings("sqlite+aiosqlite:///:memory:", CLOSED)
    bot = build_bot(settings)
    try:
        with contextlib.suppress(TelegramAPIError):
            await bot.get_me()
        try:
            await bot.send_message(ALICE, "hello")
        except TelegramAPIError:
            log.exception("sending failed")
    finally:
        await bot.session.close()


async def poll_through_failures(tmp_path: Path) -> None:
    """aiogram's own polling loop logs each failed getUpdates ("Failed to fetch updates")."""
    async with EmulatorServer(token=TOKEN) as server:
        client = server.client()
        try:
            await client.add_fault("502", method="getUpdates", count=2)
            settings = harness_settings(f"sqlite+aiosqlite:///{tmp_path / 'poll.db'}", server.base_url)
            app = build_app(settings, load_site(EXAMPLE_SITE), ManualClock(DEFAULT_START))
            dispatcher = app.dispatcher
            polling = asyncio.create_task(
                dispatcher.start_polling(
                    app.bot, handle_signals=False, close_bot_session=False, polling_timeout=1
                )
            )
            await asyncio.sleep(2.5)  # aiogram backs off 1 s, then 1.3 s … between failures
            with contextlib.suppress(RuntimeError):
                await dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(polling, 5)
            await stop(app)
        finally:
            await client.close()


async def fail_with_the_token_in_the_url() -> None:
    url = f"{CLOSED}/bot{TOKEN}/getMe"
    log.debug("calling %s", url)
    log.info("encoded %s", f"{CLOSED}/bot{quote(TOKEN, safe='')}/getMe")
    log.info("a request", extra={"url": url, "token": TOKEN})
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as session:
        try:
            async with session.get(url) as response:
                await response.read()
        except aiohttp.ClientError:
            log.exception("request to %s failed", url)
    try:
        raise RuntimeError(f"Bad gateway for {url}\nwith a second line")
    except RuntimeError:
        log.exception("unexpected")
    log.warning("the webhook secret is %s", SECRET)


async def fail_through_the_emulator(tmp_path: Path) -> None:
    """A running webhook instance whose sends fail: 500s, a 429, an unknown token."""
    async with EmulatorServer(token=TOKEN) as server:
        server.config.rate_limits.enabled = False
        client = server.client()
        try:
            site = load_site(EXAMPLE_SITE)
            await register_site_people(client, site)
            clock = ManualClock(DEFAULT_START)
            database = f"sqlite+aiosqlite:///{tmp_path / 'fail.db'}"
            async with webhook_instance(site, clock, database, server.base_url) as instance:
                await client.add_fault("500", method="sendMessage", count=2)
                await client.add_fault("429", method="sendMessage", count=1, retry_after=1)
                for _ in range(4):
                    with contextlib.suppress(TelegramAPIError):
                        await instance.app.bot.send_message(ALICE, "hello")
                async with aiohttp.ClientSession() as session:  # a wrong token: 401
                    await (await session.post(f"{server.base_url}/bot1:{'x' * 30}/getMe")).read()
                    await (await session.post(instance.webhook_url, json={"update_id": 1})).read()
        finally:
            await client.close()


@pytest.mark.parametrize("log_format", ["kv", "json"])
async def test_the_token_never_reaches_the_log(tmp_path: Path, log_format: str) -> None:
    settings = harness_settings("sqlite+aiosqlite:///:memory:", CLOSED, webhook_secret=SECRET)
    with captured(log_format, secrets_of(settings)) as stream:
        await fail_against_a_closed_port()
        await poll_through_failures(tmp_path)
        await fail_with_the_token_in_the_url()
        await fail_through_the_emulator(tmp_path)
    output = stream.getvalue()

    # the failures were logged …
    assert "Failed to fetch updates" in output
    assert "request to" in output and "unexpected" in output and "Bad gateway" in output
    assert "<redacted>" in output
    # … and no form of the token or the secret is in them
    for forbidden in (TOKEN, SECRET_HALF, quote(TOKEN, safe=""), SECRET):
        assert forbidden not in output, forbidden
    assert "123456789:<redacted>" in output  # the bot id is kept: it says which bot it was
    # one line per event
    lines = output.splitlines()
    assert len(lines) > 10
    if log_format == "json":
        events = [json.loads(line) for line in lines]
        assert {"ts", "level", "logger", "msg"} <= set(events[0])
        assert any("exc" in event for event in events)
    else:
        assert all(line.startswith("ts=") for line in lines)
