from __future__ import annotations

import io

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile

from emulator import EmulatorClient

from .conftest import ALICE, make_png

pytestmark = pytest.mark.usefixtures("people")


async def download(bot: Bot, file_id: str) -> bytes:
    file = await bot.get_file(file_id)
    assert file.file_path is not None
    buffer = io.BytesIO()
    await bot.download_file(file.file_path, buffer)
    return buffer.getvalue()


async def test_send_photo_round_trip(bot: Bot, emu: EmulatorClient) -> None:
    png = make_png(1600, 900)
    sent = await bot.send_photo(ALICE, BufferedInputFile(png, "plan.png"), caption="Floor <b>plan</b>")
    assert sent.photo is not None
    sizes = [(p.width, p.height) for p in sent.photo]
    assert sizes == [(90, 51), (320, 180), (800, 450), (1280, 720)]
    assert sent.caption == "Floor plan"
    assert sent.caption_entities is not None and sent.caption_entities[0].type == "bold"
    assert len({p.file_id for p in sent.photo}) == 4
    assert await download(bot, sent.photo[-1].file_id) == png

    again = await bot.send_photo(ALICE, sent.photo[-1].file_id)
    assert again.photo is not None and again.photo[-1].file_id == sent.photo[-1].file_id

    record = (await emu.messages(ALICE))[0]
    assert record["kind"] == "photo" and record["caption"] == "Floor plan"
    assert await emu.file_bytes(record["photo"][-1]["file_id"]) == png


async def test_small_photo_keeps_its_size(bot: Bot) -> None:
    sent = await bot.send_photo(ALICE, BufferedInputFile(make_png(200, 100), "a.png"))
    assert sent.photo is not None
    assert [(p.width, p.height) for p in sent.photo] == [(90, 45), (200, 100)]


async def test_photo_must_be_an_image(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(ALICE, BufferedInputFile(b"%PDF-1.4 nope", "x.png"))


async def test_caption_limit(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(ALICE, BufferedInputFile(make_png(10, 10), "a.png"), caption="x" * 1025)


async def test_send_document_round_trip(bot: Bot, emu: EmulatorClient) -> None:
    data = b"date,room\n2024-05-01,A\n"
    sent = await bot.send_document(
        ALICE, BufferedInputFile(data, "bookings.csv"), caption="Your <i>bookings</i>"
    )
    assert sent.document is not None
    assert sent.document.file_name == "bookings.csv"
    assert sent.document.mime_type == "text/csv"
    assert sent.document.file_size == len(data)
    assert await download(bot, sent.document.file_id) == data
    resent = await bot.send_document(ALICE, sent.document.file_id)
    assert resent.document is not None and resent.document.file_id == sent.document.file_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(ALICE, "not-a-file-id")
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")

    edited = await bot.edit_message_caption(chat_id=ALICE, message_id=sent.message_id, caption="Updated")
    assert not isinstance(edited, bool) and edited.caption == "Updated"
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=ALICE, message_id=sent.message_id)
    text = await bot.send_message(ALICE, "plain")
    with pytest.raises(TelegramBadRequest, match="there is no caption in the message to edit"):
        await bot.edit_message_caption(chat_id=ALICE, message_id=text.message_id, caption="c")


async def test_user_photo_can_be_downloaded_by_the_bot(bot: Bot, emu: EmulatorClient) -> None:
    png = make_png(640, 480)
    injected = await emu.send_message(ALICE, photo=png, caption="my badge")
    assert injected["delivered"]
    updates = await bot.get_updates()
    message = updates[-1].message
    assert message is not None and message.photo is not None
    assert message.caption == "my badge"
    assert await download(bot, message.photo[-1].file_id) == png


async def test_user_document(bot: Bot, emu: EmulatorClient) -> None:
    await emu.send_message(ALICE, document=b"hello", file_name="note.txt")
    message = (await bot.get_updates())[-1].message
    assert message is not None and message.document is not None
    assert message.document.file_name == "note.txt"
    assert message.document.mime_type == "text/plain"
    assert await download(bot, message.document.file_id) == b"hello"
