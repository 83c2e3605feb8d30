"""Moving through the wizard: forward, Back, Cancel, and what every window shows on top.

Forward moves remember where they came from, so Back returns there; a step reached from a
hub (the change menu, or the summary after a correction) returns to it once done. While a
typed request is completed, forward goes to the next step still needed instead
(bot/dialogs/booking/completion.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from html import escape
from typing import Any

from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Row, Select
from aiogram_dialog.widgets.text import Format, Multi

from bot.dialogs.booking.completion import free_previous, next_needed
from bot.dialogs.booking.draft import BookingDraft, load_draft, save_draft
from bot.dialogs.booking.states import STATES, BookingSG
from bot.dialogs.dependencies import bot_of, chat_of, person_of, reader_of
from bot.dialogs.widgets import Tr
from bot.render.errors import error_text
from bot.render.text import Reader
from bot.services.booking import BookingError
from bot.services.strict import clean_text
from bot.site import Role

HUBS = (BookingSG.summary, BookingSG.change)


# ---- messages shown on top of the next window ---------------------------------------------
def set_error(manager: DialogManager, error: BookingError | str) -> None:
    draft = load_draft(manager)
    draft.error = error if isinstance(error, str) else error_text(reader_of(manager), error)
    save_draft(manager, draft)


def pop_error(manager: DialogManager) -> str:
    draft = load_draft(manager)
    error, draft.error = draft.error, None
    if error is not None:
        save_draft(manager, draft)
    return error or ""


# ---- moving between steps ------------------------------------------------------------------
def _key(state: State, draft: BookingDraft) -> str:
    if state == BookingSG.detail:
        return f"{state.state}#{draft.detail_pos}"
    return str(state.state)


def hub(draft: BookingDraft) -> State | None:
    """Where a step returns to once done: the change menu, or the summary after a correction."""
    if draft.is_change:
        return BookingSG.change
    if draft.return_to == "summary":
        return BookingSG.summary
    return None


async def goto_step(manager: DialogManager, state: State, *, detail_pos: int | None = None) -> None:
    """Go forward to ``state`` (to detail question ``detail_pos``), remembering where we were
    so that Back returns there."""
    draft = load_draft(manager)
    history = draft.history
    current = manager.current_context().state
    if state in HUBS and str(state.state) in history:
        # back at a hub: forget the detour, so Back from the hub goes where it went first
        del history[history.index(str(state.state)) :]
    elif current is not None and (current != state or state == BookingSG.detail):
        history.append(_key(current, draft))
    if detail_pos is not None:
        draft.detail_pos = detail_pos
    if state == BookingSG.summary:
        draft.return_to = None
    save_draft(manager, draft)
    await manager.switch_to(state)


async def goto(manager: DialogManager, state: State, *, detail_pos: int | None = None) -> None:
    """Go to ``state``; while a typed request is completed, to the next step still needed."""
    draft = load_draft(manager)
    if draft.free is not None and state != BookingSG.detail:
        state, refusal = await next_needed(manager, draft)
        if refusal:
            set_error(manager, refusal)
    await goto_step(manager, state, detail_pos=detail_pos)


async def go_back(manager: DialogManager) -> None:
    draft = load_draft(manager)
    while draft.history:
        name, _, position = draft.history.pop().partition("#")
        if name in STATES:
            if position:
                draft.detail_pos = int(position)
            save_draft(manager, draft)
            await manager.switch_to(STATES[name])
            return
    save_draft(manager, draft)


async def tick_services(manager: DialogManager) -> None:
    """Tick the draft's services on the services window (its widget keeps its own state)."""
    widget = manager.find("services")
    if widget is not None:
        await widget.reset_checked()
        for service_id in load_draft(manager).services:
            await widget.set_checked(service_id, True)


async def say(manager: DialogManager, text: str) -> None:
    """A message of its own in the person's chat (the outcome, once the dialog is closed)."""
    await bot_of(manager).send_message(chat_of(manager).id, text)


# ---- what a step does with a refusal, with typed text, with a command ----------------------
def guarded(handler: Callable[..., Awaitable[None]]) -> Any:
    """A rule that says no becomes a message on top of the window, which stays for a retry."""

    @wraps(handler)
    async def wrapper(event: Any, widget: Any, manager: DialogManager, *args: Any) -> None:
        try:
            await handler(event, widget, manager, *args)
        except BookingError as error:
            set_error(manager, error)

    return wrapper


def _command_refused(manager: DialogManager) -> None:
    set_error(
        manager,
        reader_of(manager).gettext(
            "That command does not work inside the booking. Type /cancel to leave it first."
        ),
    )


def typed(
    handler: Callable[[Message, DialogManager, str], Awaitable[None]],
) -> Callable[[Message, MessageInput, DialogManager], Awaitable[None]]:
    """A MessageInput handler that receives the typed text; anything else gets a message."""

    @wraps(handler)
    async def wrapper(message: Message, widget: MessageInput, manager: DialogManager) -> None:
        text = message.text
        if text is None:  # a photo, sticker, voice message, file…: the window stays for a retry
            set_error(manager, BookingError("text_needed"))
            return
        if text.startswith("/"):
            _command_refused(manager)
            return
        try:
            await handler(message, manager, text)
        except BookingError as error:
            set_error(manager, error)

    return wrapper


async def buttons_only(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    if message.text and message.text.startswith("/"):
        _command_refused(manager)
        return
    set_error(manager, BookingError("use_buttons"))


def typed_text(text: str, limit: int, *, multiline: bool = False) -> str:
    """Typed free text as stored: cleaned, not empty, within ``limit`` characters."""
    cleaned = clean_text(text, 100_000, multiline=multiline)
    if not cleaned:
        raise BookingError("text_empty")
    if len(cleaned) > limit:
        raise BookingError("text_too_long", length=len(cleaned), limit=limit)
    return cleaned


# ---- Back and Cancel -----------------------------------------------------------------------
async def on_back(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    if load_draft(manager).free is not None:
        previous = free_previous(manager)
        if previous == BookingSG.services:
            await tick_services(manager)
        if previous is not None:
            await manager.switch_to(previous)
        return
    await go_back(manager)


async def on_cancel(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    reader = reader_of(manager)
    text = (
        reader.gettext("The change was abandoned; the booking stays as it was.")
        if load_draft(manager).is_change
        else reader.gettext("Booking abandoned. Nothing was saved.")
    )
    await manager.done()
    await say(manager, text)


def _has_history(data: dict[str, Any], widget: Any, manager: DialogManager) -> bool:
    if load_draft(manager).free is not None:
        return free_previous(manager) is not None
    return bool(load_draft(manager).history)


NAV = Row(
    Button(Tr("‹ Back"), id="back", on_click=on_back, when=_has_history),
    Button(Tr("✖ Cancel"), id="cancel", on_click=on_cancel),
)


# ---- what every window shows ----------------------------------------------------------------
def _recap(manager: DialogManager, reader: Reader) -> str:
    draft = load_draft(manager)
    parts = []
    if draft.department_id and Role.dispatcher in person_of(manager).roles:
        parts.append("🏛 " + reader.department_name(draft.department_id))
    if draft.day is not None:
        when = reader.short_day(draft.day)
        if draft.start is not None:
            when += f" {draft.start:%H:%M}"
            if draft.end is not None:
                when += f"–{draft.end:%H:%M}"
        parts.append("📅 " + when)
    if draft.attendees:
        parts.append("👥 " + str(draft.attendees))
    if draft.room_id:
        parts.append("🏢 " + reader.room_name(draft.room_id))
    return " · ".join(parts)


async def common_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    return {
        "error": escape(pop_error(dialog_manager), quote=False),
        "recap": _recap(dialog_manager, reader),
    }


def screen(*body: Any) -> Multi:
    """Every window: the last problem (if any), what is chosen so far, then the question."""
    return Multi(
        Format("⚠️ {error}", when="error"),
        Format("<i>{recap}</i>", when="recap"),
        *body,
        sep="\n\n",
    )


def choice(widget_id: str, items: str, on_click: Any) -> Select[str]:
    """One button per ``(id, label)`` pair of the getter's ``items``."""
    return Select(
        Format("{item[1]}"),
        id=widget_id,
        item_id_getter=lambda item: item[0],
        items=items,
        on_click=on_click,
    )


def step(
    *widgets: Any,
    state: State,
    getter: Callable[..., Awaitable[dict[str, Any]]] | None = None,
    on_text: Callable[[Message, MessageInput, DialogManager], Awaitable[None]] = buttons_only,
) -> Window:
    """A step of the wizard: its widgets, then ‹ Back / ✖ Cancel; what is typed there goes to ``on_text``."""
    return Window(*widgets, NAV, MessageInput(on_text), state=state, getter=getter)
