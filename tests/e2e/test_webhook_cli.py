"""`huiwu run --webhook` as a real process: it starts, sets the webhook, answers /healthz and
the webhook, logs one line per event without the token, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.site import load_site
from bot.telegram.webhook import SECRET_HEADER
from emulator.server import EmulatorServer
from tests.e2e.scaleout import SECRET, WEBHOOK_URL
from tests.support.harness import EXAMPLE_SITE, TOKEN, register_site_people
from tests.support.people import ALICE
from tests.support.wallclock import PretendClock
from tests.unit.test_settings import ENVIRONMENT

STARTUP_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_for_health(http: aiohttp.ClientSession, url: str, process: asyncio.subprocess.Process) -> dict:
    deadline = asyncio.get_running_loop().time() + STARTUP_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        if process.returncode is not None:
            raise AssertionError(f"huiwu exited with {process.returncode}")
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    return await response.json()
        except (aiohttp.ClientError, TimeoutError):  # not listening yet, or slow under load
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("huiwu did not become healthy")


@pytest.mark.wallclock
async def test_run_webhook_process(tmp_path: Path) -> None:
    webhook_port, http_port = free_port(), free_port()
    async with EmulatorServer(token=TOKEN) as server:
        server.config.rate_limits.enabled = False
        client = server.client()
        await register_site_people(client, load_site(EXAMPLE_SITE))
        env = {key: value for key, value in os.environ.items() if key.upper() not in ENVIRONMENT}
        env.update(
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE=server.base_url,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'huiwu.db'}",
            SITE_CONFIG=str(EXAMPLE_SITE),
            WEBHOOK_URL=WEBHOOK_URL,
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_PORT=str(webhook_port),
            HTTP_PORT=str(http_port),
            LOG_FORMAT="json",
            LOG_LEVEL="DEBUG",
            **PretendClock().environment(),
        )
        # a file, not a pipe: a DEBUG log would fill a pipe nobody reads and block the bot
        log_file = (tmp_path / "huiwu.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--webhook",
            cwd=tmp_path,
            env=env,
            stdout=log_file,
            stderr=log_file,
        )
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
                health = await wait_for_health(http, f"http://127.0.0.1:{http_port}/healthz", process)
                assert health["mode"] == "webhook" and health["database"]["ok"] is True
                assert server.state.webhook["url"] == WEBHOOK_URL
                assert server.state.webhook["secret_token"] == SECRET

                sent = await client.send_message(ALICE, "/help")
                update = next(
                    u for u in await client.pending_updates() if u["update_id"] == sent["update_id"]
                )
                webhook = f"http://127.0.0.1:{webhook_port}/telegram/webhook"
                async with http.post(webhook, json=update) as refused:
                    assert refused.status == 401
                async with http.post(webhook, json=update, headers={SECRET_HEADER: SECRET}) as accepted:
                    assert accepted.status == 200
                reply = await client.wait_for_message(ALICE, "/book", since=0, timeout=10)
                assert reply["chat_id"] == ALICE
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
            log_file.close()
            await client.close()
    output = (tmp_path / "huiwu.log").read_text(encoding="utf-8")
    assert process.returncode == 0, output[-2000:]
    lines = output.splitlines()
    events = [json.loads(line) for line in lines]  # every line is one JSON event
    messages = [event["msg"] for event in events]
    assert "webhook set" in messages and "stopping" in messages
    assert TOKEN.split(":", 1)[1] not in output
    assert SECRET not in output
