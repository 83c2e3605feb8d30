"""Faults around delivery, through the emulator and a real database, each bounded in time:

* Telegram answering 429 for a long stretch, and a total Bot API outage: everything arrives
  after recovery, once, in order per chat.
* Two instances on one PostgreSQL database, one dying with outbox rows claimed: the rows are
  taken over when their lease ends and delivered once.
* PostgreSQL unreachable for a while (the app talks to it through a TCP proxy the test stops
  and starts): the bot keeps running, /healthz says so, and it catches up afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.app import start_listeners
from bot.delivery.outbox import OutboxService
from bot.delivery.pacing import Limits, Pacer
from bot.delivery.sender import Sender
from bot.telegram.gateway import TelegramGateway
from storage.database import Database, create_engine
from storage.models import OutboxMessage
from tests.databases import POSTGRES, postgres_test_database
from tests.support.harness import DEFAULT_START, EXAMPLE_SITE, Harness, _running_bot, running_bot
from tests.unit.dispatch_support import request

SERVICE, AV, SECURITY, CLEANING = -1001, -1002, -1003, -1004
GROUPS = (SERVICE, AV, SECURITY, CLEANING)
JSON = dict[str, Any]


async def book_three(h: Harness) -> None:
    data = h.app.dispatcher.workflow_data
    async with h.app.db.transaction() as session:
        for room, hour in (("r101", 10), ("r102", 10), ("r301", 14)):
            outcome = await data["booking_service"].create(
                session, request(room=room, start=h.at(2, hour), services={"tea": {}})
            )
            await data["delivery"].deliver(session, outcome.notices)


async def outbox(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def delivered(db: Database, within: float = 40.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        rows = await outbox(db)
        if all(r.status in ("sent", "merged", "applied", "failed") for r in rows):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the outbox was not delivered in time")


async def assert_each_sent_once_in_order(h: Harness) -> None:
    """Every outbox row went out (none failed) and each chat shows exactly the rows it was
    sent, once each, in the outbox's order."""
    rows = await outbox(h.app.db)
    assert rows
    assert [r.id for r in rows if r.status == "failed"] == []
    for chat in sorted({r.chat_id for r in rows}):
        sent = [r for r in rows if r.chat_id == chat and r.kind == "send" and r.status == "sent"]
        shown = [(m.get("text") or "").split("\n")[0] for m in await h.emu.bot_messages(chat)]
        expected = [plain(r.text or "").split("\n")[0] for r in sent]
        assert shown == expected, (
            chat,
            [(r.id, r.kind, r.status, r.message_id, r.error) for r in rows if r.chat_id == chat],
        )
        assert len({m["message_id"] for m in await h.emu.bot_messages(chat)}) == len(sent), chat


# ---- 429s and an outage ---------------------------------------------------------------------


async def test_a_long_stretch_of_429s_and_an_outage_delay_but_lose_and_reorder_nothing(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, send_timeout_seconds=1.0, log_level="INFO") as h:
        await book_three(h)
        await delivered(h.app.db)  # the booking confirmations
        # the service group is told to wait 3 s, four times over; then the whole API goes away
        await h.emu.fail_with_retry_after(3, method="sendMessage", chat_id=SERVICE, count=4)
        await h.emu.set_outage(True)
        loop = asyncio.get_running_loop()
        h.clock.set(h.at(2, 9))  # −60 min of the 10:00 meetings: several tasks per group at once
        await h.app.workers.tick_once()
        await asyncio.sleep(4)
        for chat in GROUPS:
            assert await h.emu.bot_messages(chat) == []
        await h.emu.set_outage(False)
        recovered = loop.time()
        await delivered(h.app.db, within=40)
        took = loop.time() - recovered
        await asyncio.sleep(0.5)  # anything doubled would show up now
        await assert_each_sent_once_in_order(h)
        for chat in GROUPS:
            assert await h.emu.bot_messages(chat), chat
        assert h.app.workers.sender.stats["retry_after"] == 4
        assert h.app.workers.sender.stats["retried"] >= 1  # the outage's 502s
        print(f"delivered {took:.1f} s after the outage ended")


# ---- two instances, one dies holding leases ---------------------------------------------------


async def test_rows_claimed_by_an_instance_that_died_are_taken_over_after_the_lease(tmp_path: Path) -> None:
    async with (
        postgres_test_database() as url,
        _running_bot(
            url, site_path=EXAMPLE_SITE, start_at=DEFAULT_START, rate_limits=False, log_level="INFO"
        ) as h,
    ):
        await h.app.workers.stop()  # this test drives instance A's sender by hand
        await asyncio.gather(*h.app.background, return_exceptions=True)
        await book_three(h)
        h.clock.set(h.at(2, 9))
        await h.app.workers.tick_once()

        # instance "dead" claims one row per chat with a 30 s lease, then its process is gone
        dead_db = Database(create_engine(url, pool_size=1))
        dead = OutboxService(
            dead_db,
            h.clock,
            Pacer(Limits(0.0, 1000, 1000)),
            h.app.workers.delivery.render,
            instance="dead",
            lease=timedelta(seconds=30),
        )
        abandoned = await dead.claim()
        await dead_db.dispose()
        assert len(abandoned) >= 4
        stolen = {d.row_id for d in abandoned}

        # instance B, a second live sender on the same database
        b_db = Database(create_engine(url, pool_size=2))
        b_settings = h.app.settings.model_copy(update={"instance_name": "huiwu-b"})
        b = Sender(TelegramGateway(h.app.bot), b_db, h.clock, h.site, h.app.workers.delivery, b_settings)
        try:
            a = h.app.workers.sender
            await asyncio.gather(a.send_pending(), b.send_pending())
            # the dead instance's chats wait: their oldest rows are leased to it
            rows = {r.id: r for r in await outbox(h.app.db)}
            for row_id in stolen:
                assert rows[row_id].status == "sending" and rows[row_id].leased_by == "dead"
            for delivery in abandoned:
                shown = [
                    (m.get("text") or "").split("\n")[0] for m in await h.emu.bot_messages(delivery.chat_id)
                ]
                assert plain(delivery.text).split("\n")[0] not in shown

            h.clock.advance(timedelta(seconds=31))  # the leases run out
            for _ in range(50):
                sent = await asyncio.gather(a.send_pending(), b.send_pending())
                if not any(sent) and all(
                    r.status not in ("pending", "sending") for r in await outbox(h.app.db)
                ):
                    break
            rows = {r.id: r for r in await outbox(h.app.db)}
            assert all(rows[row_id].status == "sent" for row_id in stolen)
            assert {rows[row_id].leased_by for row_id in stolen} <= {
                "huiwu",
                "huiwu-b",
                h.app.settings.instance_name,
            }
            await assert_each_sent_once_in_order(h)
            print(
                f"{len(stolen)} abandoned rows taken over; A sent {a.stats['sent']}, B sent {b.stats['sent']}"
            )
        finally:
            await b_db.dispose()


# ---- the database goes away for a while ---------------------------------------------------------


class TcpProxy:
    """127.0.0.1:<port> → PostgreSQL; :meth:`stop` drops every connection and refuses new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.server: asyncio.base_events.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()
        self.server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, upstream_writer}

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))
        self.writers -= {writer, upstream_writer}


async def healthz(session: aiohttp.ClientSession, url: str) -> tuple[int, JSON]:
    async with session.get(url + "/healthz") as response:
        return response.status, await response.json()


@contextlib.asynccontextmanager
async def proxied_postgres() -> AsyncIterator[tuple[str, TcpProxy]]:
    async with postgres_test_database() as url:
        proxy = TcpProxy(POSTGRES["host"], POSTGRES["port"])
        await proxy.start()
        try:
            yield make_url(url).set(port=proxy.port).render_as_string(hide_password=False), proxy
        finally:
            if proxy.server is not None:
                await proxy.stop()


async def test_the_database_unreachable_for_a_while_then_the_bot_catches_up(tmp_path: Path) -> None:
    async with (
        proxied_postgres() as (url, proxy),
        _running_bot(
            url,
            site_path=EXAMPLE_SITE,
            start_at=DEFAULT_START,
            rate_limits=False,
            log_level="INFO",
            http_port=0,
            tick_seconds=0.2,
        ) as h,
        aiohttp.ClientSession() as http,
    ):
        await start_listeners(h.app, webhook=False)
        operations = next(s for s in h.app.servers if "operations" in s.name).base_url
        status, document = await healthz(http, operations)
        assert status == 200 and document["database"]["ok"] is True
        await book_three(h)
        await delivered(h.app.db)
        before = {chat: len(await h.emu.bot_messages(chat)) for chat in GROUPS}
        assert before == dict.fromkeys(GROUPS, 0)

        await proxy.stop()
        h.clock.set(h.at(2, 9))  # tasks come due while the database cannot be reached
        loop = asyncio.get_running_loop()
        down_until = loop.time() + 5
        status, document = await healthz(http, operations)
        assert status == 503, document
        assert document["status"] == "unavailable" and document["database"]["ok"] is False
        while loop.time() < down_until:
            await asyncio.sleep(0.5)
            assert not any(task.done() for task in h.app.background), "a background loop died"
        status, _ = await healthz(http, operations)
        assert status == 503

        await proxy.start()  # same port
        deadline = loop.time() + 20
        while (status := (await healthz(http, operations))[0]) != 200 and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        assert status == 200
        # caught up: no timer due, nothing left in the outbox (as /healthz sees it)
        deadline = loop.time() + 30
        while loop.time() < deadline:
            status, document = await healthz(http, operations)
            if status == 200 and document["timers"]["due"] == 0 and document["outbox"]["backlog"] == 0:
                break
            await asyncio.sleep(0.2)
        assert document["timers"]["due"] == 0 and document["outbox"]["backlog"] == 0, document
        await delivered(h.app.db, within=5)
        await asyncio.sleep(0.5)
        await assert_each_sent_once_in_order(h)
        for chat in GROUPS:
            assert await h.emu.bot_messages(chat), chat
        assert not any(task.done() for task in h.app.background)
