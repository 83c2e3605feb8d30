"""How the wizard starts: a new booking, a change of an existing one, or a request typed in
one message, whose values fill the draft before the first question."""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from aiogram_dialog import DialogManager
from pydantic import ValidationError

from bot.dialogs.booking.completion import first_checks, next_needed, steps_to_ask
from bot.dialogs.booking.draft import BookingDraft, BookingStart, fill_from_view, load_draft, save_draft
from bot.dialogs.booking.navigation import say, tick_services
from bot.dialogs.dependencies import booking_service_of, database_of, reader_of, site_of
from bot.render.understood import understood_text

log = logging.getLogger(__name__)


def _start_of(start_data: Any) -> BookingStart:
    """The start data as given (a new booking if it cannot be read)."""
    try:
        return BookingStart.model_validate(start_data if isinstance(start_data, dict) else {})
    except ValidationError as error:
        log.warning("booking dialog started with unreadable data, as a new booking: %s", error)
        return BookingStart()


async def on_start(start_data: Any, manager: DialogManager) -> None:
    start = _start_of(start_data)
    draft = load_draft(manager)
    draft.mode = start.mode
    draft.history = []
    if start.mode == "change":
        view = None
        if start.booking_id is not None:
            draft.booking_id = start.booking_id
            draft.series_scope = start.series_scope
            async with database_of(manager).transaction() as session:
                view = await booking_service_of(manager).get(session, start.booking_id)
        if view is None:  # gone meanwhile: the change menu's first press says so
            save_draft(manager, draft)
            return
        fill_from_view(draft, view, site_of(manager).zone)
        save_draft(manager, draft)
        await tick_services(manager)
        return
    draft.department_id = start.department_id
    draft.confidential = False
    draft.free = start.free
    save_draft(manager, draft)
    if start.free is not None:
        await _start_free(manager, draft)


async def _start_free(manager: DialogManager, draft: BookingDraft) -> None:
    """Fill the draft from the message, say what was read, and open the first question."""
    free = draft.free
    assert free is not None
    draft.take(free.read)
    if free.confidential_asked:
        draft.confidential = None
    save_draft(manager, draft)
    await tick_services(manager)
    notes = first_checks(manager, draft)
    state, refusal = await next_needed(manager, draft)
    if refusal:
        notes.append(refusal)
    stored = draft.stored()
    shown = {key: stored[key] for key in free.read if key in stored and stored[key] == free.read[key]}
    text = understood_text(
        reader_of(manager),
        values=shown,
        how=free.how,
        declined=free.declined,
        problems=free.problems,
        notes=[escape(note, quote=False) for note in notes],
        asks=steps_to_ask(manager, draft),
    )
    save_draft(manager, draft)
    await say(manager, text)
    await manager.switch_to(state)
