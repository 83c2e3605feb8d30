"""Helpers the handler modules share for answering a person (no router of its own)."""

from __future__ import annotations

import contextlib
import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.delivery.notices import Keyboard
from bot.telegram.presses import answer_quietly, refuse_button

log = logging.getLogger(__name__)

__all__ = [
    "answer_quietly",
    "ask_in_private",
    "carries_no_words",
    "drop_buttons",
    "markup",
    "private_only",
    "refuse_button",
    "show",
    "text_needed",
]


def markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=button["text"], callback_data=button.get("callback_data"), url=button.get("url")
                )
                for button in row
            ]
            for row in keyboard
        ]
    )


async def show(callback: CallbackQuery, text: str, keyboard: Keyboard | None = None) -> None:
    """Replace the pressed message with ``text``; send a new one if it cannot be edited."""
    message = callback.message
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup(keyboard))
            return
        except TelegramBadRequest as error:
            if "not modified" in error.message:
                return
            log.info("could not edit message %s: %s", message.message_id, error.message)
    if callback.bot is not None and callback.from_user is not None:
        chat_id = message.chat.id if message is not None else callback.from_user.id
        await callback.bot.send_message(chat_id, text, reply_markup=markup(keyboard))


async def drop_buttons(callback: CallbackQuery) -> None:
    message = callback.message
    if isinstance(message, Message) and message.reply_markup is not None:
        with contextlib.suppress(TelegramBadRequest):
            await message.edit_reply_markup(reply_markup=None)


def private_only() -> str:
    """The one line a report or file command gets in a group: it is answered only in private."""
    return _("I answer this only in a private chat: please ask me there.")


async def ask_in_private(message: Message) -> None:
    await message.answer(private_only())


def carries_no_words(message: Message) -> bool:
    """A photo, sticker, voice message, video or file without a caption: nothing to read."""
    return message.text is None and not (message.caption or "").strip()


def text_needed() -> str:
    """The answer to a message without words where a typed answer is expected."""
    return _("Please type some text: photos, stickers, voice messages and files cannot be read here.")
