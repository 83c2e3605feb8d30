from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from emulator import EmulatorClient, EmulatorServer

TOKEN = "123456789:AAH-test-token_for_the_emulator"
BOT_ID = 123456789
ALICE = 1001
BOB = 1002
GROUP = -5001


def make_bot(server: EmulatorServer, token: str = TOKEN) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


async def close_bot(bot: Bot) -> None:
    # AiohttpSession.close() sleeps 250 ms for TLS shutdown; plain HTTP needs none of that.
    inner = getattr(bot.session, "_session", None)
    if inner is not None and not inner.closed:
        await inner.close()


def make_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
async def emulator_server() -> AsyncIterator[EmulatorServer]:
    server = EmulatorServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def emu(emulator_server: EmulatorServer) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator_server.base_url) as client:
        yield client


@pytest.fixture
async def bot(emulator_server: EmulatorServer) -> AsyncIterator[Bot]:
    instance = make_bot(emulator_server)
    try:
        yield instance
    finally:
        await close_bot(instance)


@pytest.fixture
async def people(emu: EmulatorClient) -> None:
    """Alice and Bob, and a group with both of them (the bot is a plain member)."""
    await emu.create_user(ALICE, "Alice", last_name="Li", username="alice", language_code="en")
    await emu.create_user(BOB, "Bob", username="bob", language_code="zh")
    await emu.create_group(GROUP, "Conference team", [ALICE, BOB], owner_id=ALICE)
