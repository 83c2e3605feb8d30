"""The steps that order services: which ones, then each chosen service's details in turn."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button

from bot.dialogs.booking.checks import button_label, current_detail, detail_queue
from bot.dialogs.booking.draft import DetailValue, load_draft
from bot.dialogs.booking.navigation import goto, guarded, hub, tick_services, typed, typed_text
from bot.dialogs.booking.states import BookingSG
from bot.dialogs.dependencies import reader_of, site_of
from bot.render.text import user_text
from bot.services.booking import MAX_DETAIL, BookingError
from bot.services.parsing import parse_number
from bot.site import DetailKind


async def enter_services(manager: DialogManager) -> None:
    """Show the services window with the draft's services ticked."""
    await tick_services(manager)
    await goto(manager, BookingSG.services)


async def services_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    return {
        "services": [
            (service.id, button_label(service.name.get(reader.language), 24))
            for service in site_of(dialog_manager).services
        ]
    }


@guarded
async def on_services_done(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    site = site_of(manager)
    widget = manager.find("services")
    chosen = set(widget.get_checked()) if widget is not None else set()
    draft = load_draft(manager)
    previous = draft.services
    services = {}
    for service in site.services:  # the site's order, whatever order they were ticked in
        if service.id in chosen:
            keys = {detail.key for detail in service.details}
            services[service.id] = {k: v for k, v in previous.get(service.id, {}).items() if k in keys}
    draft.services = services
    draft.detail_queue = detail_queue(manager, draft)
    if draft.detail_queue:
        await goto(manager, BookingSG.detail, detail_pos=0)
    else:
        await after_details(manager)


async def after_details(manager: DialogManager) -> None:
    await goto(manager, hub(load_draft(manager)) or BookingSG.title)


async def detail_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    _ = reader.gettext
    draft = load_draft(dialog_manager)
    current = current_detail(dialog_manager, draft)
    if current is None:
        return {
            "service": "",
            "label": "",
            "hint": "",
            "current": "",
            "current_button": "",
            "skip": False,
            "default": "",
            "has_default": False,
        }
    service, detail = current
    value = draft.services.get(service.id, {}).get(detail.key)
    if detail.kind == DetailKind.number:
        if detail.min is not None and detail.max is not None:
            hint = _("Type a number from {minimum} to {maximum}.").format(
                minimum=detail.min, maximum=detail.max
            )
        else:
            hint = _("Type a number.")
    else:
        hint = _("Type the text (at most {limit} characters).").format(limit=MAX_DETAIL)
    return {
        "service": escape(service.name.get(reader.language)),
        "label": escape(detail.label.get(reader.language)),
        "hint": hint,
        "current": user_text(str(value), 300) if value not in (None, "") else "",
        "current_button": button_label(str(value), 30) if value not in (None, "") else "",
        "skip": not detail.required,
        "default": str(detail.default) if detail.default is not None else "",
        "has_default": detail.default is not None and value in (None, ""),
    }


async def _store_detail(manager: DialogManager, value: DetailValue | None) -> None:
    draft = load_draft(manager)
    current = current_detail(manager, draft)
    if current is not None:
        service, detail = current
        values = draft.services.setdefault(service.id, {})
        if value is None:
            values.pop(detail.key, None)
        else:
            values[detail.key] = value
    position = draft.detail_pos + 1
    if position < len(draft.detail_queue):
        await goto(manager, BookingSG.detail, detail_pos=position)
    else:
        await after_details(manager)


@typed
async def on_detail_text(message: Message, manager: DialogManager, text: str) -> None:
    current = current_detail(manager, load_draft(manager))
    if current is None:
        await after_details(manager)
        return
    _, detail = current
    value: DetailValue
    if detail.kind == DetailKind.number:
        value = parse_number(text, detail.min, detail.max)
    else:
        value = typed_text(text, MAX_DETAIL, multiline=True)
    await _store_detail(manager, value)


@guarded
async def on_detail_skip(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    current = current_detail(manager, load_draft(manager))
    if current is not None and current[1].required:
        raise BookingError("text_empty")
    await _store_detail(manager, None)


@guarded
async def on_detail_default(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    current = current_detail(manager, load_draft(manager))
    await _store_detail(manager, current[1].default if current else None)


@guarded
async def on_detail_keep(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    draft = load_draft(manager)
    current = current_detail(manager, draft)
    if current is None:
        await after_details(manager)
        return
    service, detail = current
    await _store_detail(manager, draft.services.get(service.id, {}).get(detail.key))
