"""`huiwu run --webhook` with one instance (SQLite): the secret, redeliveries, /healthz, /metrics.

Updates are taken from the emulator's queue (a user writes while nothing is delivering) and
POSTed to the bot's webhook by the test, so each test decides exactly what arrives how often.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.app import build_app, start_listeners, stop
from bot.ops import metrics
from bot.services.clock import ManualClock
from bot.site import load_site
from emulator.client import EmulatorClient
from emulator.server import EmulatorServer
from emulator.webhook import WebhookPusher
from storage.models import OutboxMessage, ProcessedUpdate
from storage.repositories.updates import UpdateRepository
from tests.e2e.scaleout import SECRET, WEBHOOK_URL, Instance, post_update, webhook_instance, webhook_settings
from tests.support.harness import DEFAULT_START, EXAMPLE_SITE, TOKEN, register_site_people
from tests.support.people import ALICE, WANG

JSON = dict[str, Any]
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
SAMPLE = re.compile(rf"^{NAME}(\{{{LABEL}(,{LABEL})*\}})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf)$")


@dataclass
class Hooked:
    server: EmulatorServer
    emu: EmulatorClient
    instance: Instance
    clock: ManualClock
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return self.instance.webhook_url

    async def queued(self, user_id: int, text: str) -> JSON:
        """A person writes; the update waits in the emulator's queue (nothing delivers it)."""
        sent = await self.emu.send_message(user_id, text)
        updates = [u for u in await self.emu.pending_updates() if u["update_id"] == sent["update_id"]]
        assert updates, "the emulator did not queue the update"
        return updates[0]

    async def replies(self, chat_id: int) -> list[str]:
        return [m.get("text") or "" for m in await self.emu.bot_messages(chat_id)]

    async def processed(self) -> int:
        async with self.instance.app.db.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0)


@contextlib.asynccontextmanager
async def emulator() -> AsyncIterator[tuple[EmulatorServer, EmulatorClient]]:
    server = EmulatorServer(token=TOKEN)
    server.config.rate_limits.enabled = False
    await server.start()
    emu = EmulatorClient(server.base_url)
    try:
        await register_site_people(emu, load_site(EXAMPLE_SITE))
        yield server, emu
    finally:
        await emu.close()
        await server.stop()


@pytest.fixture
async def hooked(tmp_path: Path) -> AsyncIterator[Hooked]:
    clock = ManualClock(DEFAULT_START)
    async with emulator() as (server, emu):
        database = f"sqlite+aiosqlite:///{tmp_path / 'huiwu.db'}"
        async with (
            webhook_instance(load_site(EXAMPLE_SITE), clock, database, server.base_url) as instance,
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
        ):
            yield Hooked(server, emu, instance, clock, http)


def help_replies(texts: list[str]) -> list[str]:
    return [t for t in texts if "/book" in t]


# ---- setWebhook ------------------------------------------------------------------------------


async def test_start_sets_the_webhook_with_the_secret_and_keeps_waiting_updates(tmp_path: Path) -> None:
    clock = ManualClock(DEFAULT_START)
    async with emulator() as (server, emu):
        # written while the bot was down: Telegram keeps it, and so must setWebhook
        waiting = await emu.send_message(ALICE, "/help")
        database = f"sqlite+aiosqlite:///{tmp_path / 'huiwu.db'}"
        async with webhook_instance(load_site(EXAMPLE_SITE), clock, database, server.base_url) as instance:
            info = await emu.webhook()
            assert info["url"] == WEBHOOK_URL
            assert server.state.webhook["secret_token"] == SECRET
            assert [u["update_id"] for u in await emu.pending_updates()] == [waiting["update_id"]]

            async with WebhookPusher(server.state, [instance.webhook_url]) as pusher:
                reply = await emu.wait_for_message(ALICE, "/book", since=0, timeout=10)
                assert await pusher.drained()
            assert reply["chat_id"] == ALICE
            assert pusher.deliveries[0].status == 200
        # stopping does not delete the webhook: the other instances (or the next start) serve it
        assert server.state.webhook["url"] == WEBHOOK_URL


# ---- the secret ------------------------------------------------------------------------------


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_handled(hooked: Hooked) -> None:
    update = await hooked.queued(ALICE, "/help")
    refused_before = metrics.value(metrics.WEBHOOK_REJECTED, reason="secret")

    statuses = [
        await post_update(hooked.http, hooked.url, update, secret=None),
        await post_update(hooked.http, hooked.url, update, secret=""),
        await post_update(hooked.http, hooked.url, update, secret="not-the-secret"),
        await post_update(hooked.http, hooked.url, update, secret=SECRET + "x"),
    ]

    assert statuses == [401, 401, 401, 401]
    assert metrics.value(metrics.WEBHOOK_REJECTED, reason="secret") == refused_before + 4
    await asyncio.sleep(0.2)
    assert await hooked.processed() == 0
    assert await hooked.replies(ALICE) == []

    assert await post_update(hooked.http, hooked.url, update) == 200
    assert len(help_replies(await hooked.replies(ALICE))) == 1


async def test_a_body_that_is_not_an_update_is_refused(hooked: Hooked) -> None:
    async with hooked.http.post(
        hooked.url, data=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    ) as response:
        assert response.status == 400
    async with hooked.http.post(
        hooked.url, json={"message": "no id"}, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    ) as response:
        assert response.status == 400
    assert await hooked.processed() == 0


# ---- redeliveries ----------------------------------------------------------------------------


async def test_a_redelivered_update_changes_nothing_twice(hooked: Hooked) -> None:
    update = await hooked.queued(ALICE, "/help")
    duplicates_before = metrics.value(metrics.UPDATES, outcome="duplicate")

    assert [await post_update(hooked.http, hooked.url, update) for _ in range(3)] == [200, 200, 200]

    assert len(help_replies(await hooked.replies(ALICE))) == 1
    assert await hooked.processed() == 1
    assert metrics.value(metrics.UPDATES, outcome="duplicate") == duplicates_before + 2


async def test_the_same_update_posted_concurrently_is_applied_once(hooked: Hooked) -> None:
    update = await hooked.queued(WANG, "/help")

    statuses = await asyncio.gather(*(post_update(hooked.http, hooked.url, update) for _ in range(6)))

    assert list(statuses) == [200] * 6
    assert len(help_replies(await hooked.replies(WANG))) == 1
    assert await hooked.processed() == 1


async def test_a_handler_error_is_told_once_and_its_redelivery_changes_nothing(hooked: Hooked) -> None:
    update = await hooked.queued(ALICE, "/help")
    errors_before = metrics.value(metrics.HANDLER_ERRORS)
    await hooked.emu.add_fault("500", method="sendMessage", chat_id=ALICE, count=1)

    # the error handlers answer it (the person is told), so Telegram gets its 200
    assert await post_update(hooked.http, hooked.url, update) == 200
    assert await post_update(hooked.http, hooked.url, update) == 200

    replies = await hooked.replies(ALICE)
    assert len([t for t in replies if "something went wrong" in t]) == 1
    assert help_replies(replies) == []
    assert metrics.value(metrics.HANDLER_ERRORS) == errors_before + 1
    assert await hooked.processed() == 1


async def test_an_unreachable_database_answers_500_and_the_redelivery_is_applied_once(
    hooked: Hooked, monkeypatch: pytest.MonkeyPatch
) -> None:
    update = await hooked.queued(ALICE, "/help")
    remember = UpdateRepository.remember
    calls = 0

    async def database_down_once(self: UpdateRepository, update_id: int, now: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OperationalError("SELECT processed_updates", {}, ConnectionRefusedError("database down"))
        return await remember(self, update_id, now)

    monkeypatch.setattr(UpdateRepository, "remember", database_down_once)
    failed_before = metrics.value(metrics.UPDATES, outcome="failed")

    assert await post_update(hooked.http, hooked.url, update) == 500  # Telegram will try again
    assert metrics.value(metrics.UPDATES, outcome="failed") == failed_before + 1
    assert await hooked.replies(ALICE) == []
    assert await post_update(hooked.http, hooked.url, update) == 200
    assert await post_update(hooked.http, hooked.url, update) == 200
    assert len(help_replies(await hooked.replies(ALICE))) == 1
    assert await hooked.processed() == 1


# ---- /healthz --------------------------------------------------------------------------------


async def get_json(http: aiohttp.ClientSession, url: str) -> tuple[int, JSON]:
    async with http.get(url) as response:
        return response.status, await response.json()


async def test_healthz_reports_the_database_the_outbox_and_the_timers(hooked: Hooked) -> None:
    app = hooked.instance.app
    status, body = await get_json(hooked.http, hooked.instance.operations_url + "/healthz")
    assert status == 200
    assert body["status"] == "ok"
    assert body["mode"] == "webhook"
    assert body["instance"] == app.settings.instance_name
    assert body["database"]["ok"] is True and body["database"]["latency_ms"] >= 0
    assert body["redis"] is None
    assert body["outbox"] == {"backlog": 0, "pending": 0, "sending": 0, "oldest_due_lag_seconds": None}
    assert body["timers"] == {"due": 0, "lag_seconds": None}

    # the sender stops; a message due 30 s ago waits
    await app.workers.stop()
    await asyncio.sleep(0.2)
    now = hooked.clock.now()
    async with app.db.transaction() as session:
        session.add(
            OutboxMessage(
                chat_id=ALICE,
                kind="send",
                text="waiting",
                status="pending",
                attempts=0,
                mergeable=False,
                not_before=now - timedelta(seconds=30),
                created_at=now - timedelta(seconds=30),
            )
        )
    status, body = await get_json(hooked.http, hooked.instance.operations_url + "/healthz")
    assert status == 200
    assert body["outbox"] == {"backlog": 1, "pending": 1, "sending": 0, "oldest_due_lag_seconds": 30.0}


async def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = webhook_settings(
        "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", "http://127.0.0.1:1", http_port=0
    )
    app = build_app(settings, load_site(EXAMPLE_SITE), ManualClock(DEFAULT_START))
    try:
        await start_listeners(app, webhook=False)
        url = app.servers[0].base_url
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            status, body = await get_json(http, url + "/healthz")
            async with http.get(url + "/metrics") as response:
                exposition = await response.text()
                metrics_status = response.status
    finally:
        await stop(app)
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is False and body["database"]["error"]
    assert "outbox" not in body
    assert metrics_status == 200  # Prometheus still scrapes, and sees the database down
    assert "huiwu_database_up 0.0" in exposition.splitlines()


# ---- /metrics --------------------------------------------------------------------------------


async def test_metrics_are_prometheus_text_with_counters_and_gauges(hooked: Hooked) -> None:
    update = await hooked.queued(ALICE, "/help")
    handled_before = metrics.value(metrics.UPDATES, outcome="handled")
    assert await post_update(hooked.http, hooked.url, update) == 200
    assert await post_update(hooked.http, hooked.url, update) == 200

    async with hooked.http.get(hooked.instance.operations_url + "/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        body = await response.text()

    samples: dict[str, float] = {}
    for line in body.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$", line), line
            continue
        assert SAMPLE.match(line), line
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    assert samples['huiwu_updates_total{outcome="handled"}'] == handled_before + 1
    assert samples['huiwu_updates_total{outcome="duplicate"}'] >= 1
    for name in (
        'huiwu_messages_sent_total{method="send"}',
        "huiwu_telegram_429_total",
        'huiwu_outbox_depth{status="pending"}',
        "huiwu_outbox_oldest_due_seconds",
        "huiwu_tick_lag_seconds",
        "huiwu_timers_due",
        "huiwu_database_up",
        "huiwu_update_seconds_count",
    ):
        assert name in samples, name
    assert samples["huiwu_database_up"] == 1
    assert f'huiwu_info{{instance="{hooked.instance.app.settings.instance_name}",mode="webhook"}}' in samples
    assert "# TYPE huiwu_escalations_total counter" in body


async def test_the_sender_counts_its_sends_and_429s(hooked: Hooked) -> None:
    app = hooked.instance.app
    sent_before = metrics.value(metrics.MESSAGES_SENT, method="send")
    limited_before = metrics.value(metrics.RATE_LIMITED)
    await hooked.emu.add_fault("429", method="sendMessage", chat_id=ALICE, count=1, retry_after=1)
    now = hooked.clock.now()
    async with app.db.transaction() as session:
        session.add(
            OutboxMessage(
                chat_id=ALICE,
                kind="send",
                text="from the outbox",
                status="pending",
                attempts=0,
                mergeable=False,
                not_before=now,
                created_at=now,
            )
        )
    app.workers.wake.set()

    message = await hooked.emu.wait_for_message(ALICE, "from the outbox", since=0, timeout=10)

    assert message["text"] == "from the outbox"
    assert metrics.value(metrics.RATE_LIMITED) == limited_before + 1
    for _ in range(50):  # the count follows the call's answer by a moment
        if metrics.value(metrics.MESSAGES_SENT, method="send") == sent_before + 1:
            break
        await asyncio.sleep(0.05)
    assert metrics.value(metrics.MESSAGES_SENT, method="send") == sent_before + 1
