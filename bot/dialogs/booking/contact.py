"""The steps that name the meeting and its organiser: title, contact, phone, confidential, notes.

Each typed answer can be kept as it is ("Keep …") when a step is visited again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button

from bot.dialogs.booking.checks import button_label
from bot.dialogs.booking.draft import BookingDraft, load_draft
from bot.dialogs.booking.navigation import goto, typed, typed_text
from bot.dialogs.booking.states import BookingSG
from bot.dialogs.dependencies import person_of
from bot.services.booking import MAX_FIELD, MAX_NOTES, MAX_TITLE
from bot.services.parsing import parse_phone
from bot.services.strict import clean_text


def keep_getter(value_of: Callable[[BookingDraft], str]) -> Callable[..., Awaitable[dict[str, Any]]]:
    """The data of a typed step: the value it has now (for "Keep …"), and the person's name."""

    async def getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
        value = value_of(load_draft(dialog_manager))
        return {
            "current": button_label(value, 30) if value else "",
            "my_name": button_label(person_of(dialog_manager).name, 30),
            "title_limit": MAX_TITLE,
        }

    return getter


def keeper(next_step: Callable[[DialogManager], Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """The "Keep …" button: the value stays, the wizard goes on."""

    async def keep(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
        await next_step(manager)

    return keep


async def to_contact(manager: DialogManager) -> None:
    await goto(manager, BookingSG.contact)


async def to_phone(manager: DialogManager) -> None:
    await goto(manager, BookingSG.phone)


async def to_confidential(manager: DialogManager) -> None:
    await goto(manager, BookingSG.confidential)


async def to_summary(manager: DialogManager) -> None:
    await goto(manager, BookingSG.summary)


@typed
async def on_title(message: Message, manager: DialogManager, text: str) -> None:
    load_draft(manager).title = typed_text(text, MAX_TITLE)
    await to_contact(manager)


@typed
async def on_contact(message: Message, manager: DialogManager, text: str) -> None:
    load_draft(manager).contact_name = typed_text(text, MAX_FIELD)
    await to_phone(manager)


async def on_my_name(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    load_draft(manager).contact_name = clean_text(person_of(manager).name, MAX_FIELD)
    await to_phone(manager)


@typed
async def on_phone(message: Message, manager: DialogManager, text: str) -> None:
    load_draft(manager).contact_phone = parse_phone(text)
    await to_confidential(manager)


async def on_confidential_yes(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    load_draft(manager).confidential = True
    await goto(manager, BookingSG.notes)


async def on_confidential_no(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    load_draft(manager).confidential = False
    await goto(manager, BookingSG.notes)


@typed
async def on_notes(message: Message, manager: DialogManager, text: str) -> None:
    load_draft(manager).notes = typed_text(text, MAX_NOTES, multiline=True)
    await to_summary(manager)


async def on_no_notes(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    load_draft(manager).notes = ""
    await to_summary(manager)
