"""The Bot API's answers are read by ``Response[...]`` classes built once (bot/telegram/responses.py)."""

from __future__ import annotations

import gc
import weakref

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import GetMyDescription, GetMyShortDescription
from aiogram.methods.base import Response
from aiogram.types import BotDescription, BotShortDescription

from bot.telegram.responses import KeepResponseClasses


def test_pydantic_alone_builds_a_response_class_again_after_a_collection() -> None:
    """Why the session keeps them: the class aiogram parametrises dies with the next full
    collection (if pydantic keeps them one day, this fails and the session is not needed)."""
    session = AiohttpSession()
    bot = Bot("1:plain", session=session)
    read = session.check_response(
        bot, GetMyDescription(), 200, '{"ok": true, "result": {"description": "d"}}'
    ).result
    assert isinstance(read, BotDescription)
    built = weakref.ref(Response[BotDescription])
    gc.collect()
    assert built() is None


def test_the_session_keeps_each_response_class_it_used() -> None:
    session = KeepResponseClasses()
    bot = Bot("1:kept", session=session)
    answer = '{"ok": true, "result": {"short_description": "s"}}'
    read = session.check_response(bot, GetMyShortDescription(), 200, answer).result
    assert isinstance(read, BotShortDescription)
    assert read.short_description == "s"
    built = weakref.ref(Response[BotShortDescription])
    gc.collect()
    assert built() is not None
