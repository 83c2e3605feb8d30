"""The booking wizard's state: its steps, the draft it fills, and how it moves between steps.

The draft lives in the dialog data as plain JSON values (dates and times as ISO strings in
the site's zone), so it survives a Redis-backed FSM storage unchanged.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from aiogram.fsm.state import State, StatesGroup
from aiogram_dialog import DialogManager

from bot.dialogs.widgets import reader_of
from bot.render.errors import error_text
from bot.services.booking import BookingError
from bot.services.clock import Clock
from bot.services.parsing import local_to_utc
from bot.services.people import PersonContext
from bot.services.types import BookingStatus, BookingView
from bot.site import SiteConfig


class BookingSG(StatesGroup):
    department = State()
    date = State()
    start = State()
    end = State()
    attendees = State()
    room = State()
    layout = State()
    level = State()
    services = State()
    detail = State()
    title = State()
    contact = State()
    phone = State()
    confidential = State()
    notes = State()
    summary = State()
    change = State()


STATES: dict[str, State] = {state.state: state for state in BookingSG.__states__}  # type: ignore[misc]
NEW, CHANGE = "new", "change"


# ---- the draft --------------------------------------------------------------------------
def draft(manager: DialogManager) -> dict[str, Any]:
    return manager.dialog_data


def site_of(manager: DialogManager) -> SiteConfig:
    return manager.middleware_data["site"]


def clock_of(manager: DialogManager) -> Clock:
    return manager.middleware_data["clock"]


def person_of(manager: DialogManager) -> PersonContext:
    return manager.middleware_data["person"]


def is_change(manager: DialogManager) -> bool:
    return draft(manager).get("mode") == CHANGE


def draft_day(manager: DialogManager) -> date | None:
    value = draft(manager).get("date")
    return date.fromisoformat(value) if value else None


def draft_moment(manager: DialogManager, key: str) -> datetime | None:
    """The draft's start or end as an aware UTC datetime (the site's zone applied)."""
    day, value = draft_day(manager), draft(manager).get(key)
    if day is None or not value:
        return None
    return local_to_utc(site_of(manager).zone, day, time.fromisoformat(value))


def draft_view(manager: DialogManager) -> BookingView:
    """The draft as a booking, for the shared summary formatter."""
    data = draft(manager)
    person = person_of(manager)
    start = draft_moment(manager, "start")
    end = draft_moment(manager, "end")
    assert start is not None and end is not None
    return BookingView(
        id=int(data.get("booking_id") or 0),
        status=BookingStatus(data.get("status", BookingStatus.pending.value)),
        revision=int(data.get("revision") or 0),
        department_id=data.get("department_id") or "",
        requester_id=int(data.get("requester_id") or person.user_id),
        booked_by_id=person.user_id,
        room_id=data.get("room_id") or "",
        start=start,
        end=end,
        attendees=int(data.get("attendees") or 0),
        layout=data.get("layout") or "",
        reception_level=int(data.get("level") or 1),
        confidential=bool(data.get("confidential")),
        title=data.get("title") or "",
        contact_name=data.get("contact_name") or "",
        contact_phone=data.get("contact_phone") or "",
        notes=data.get("notes") or "",
        services=dict(data.get("services") or {}),
    )


def fill_from_view(manager: DialogManager, view: BookingView) -> None:
    """Load an existing booking into the draft (change mode), remembering the original."""
    zone = site_of(manager).zone
    start, end = view.start.astimezone(zone), view.end.astimezone(zone)
    values = {
        "booking_id": view.id,
        "revision": view.revision,
        "status": view.status.value,
        "department_id": view.department_id,
        "requester_id": view.requester_id,
        "date": start.date().isoformat(),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
        "attendees": view.attendees,
        "room_id": view.room_id,
        "layout": view.layout,
        "level": view.reception_level,
        "services": view.services,
        "title": view.title,
        "contact_name": view.contact_name,
        "contact_phone": view.contact_phone,
        "confidential": view.confidential,
        "notes": view.notes,
    }
    data = draft(manager)
    data.update(values)
    data["original"] = {key: values[key] for key in CHANGEABLE}


CHANGEABLE = ("date", "start", "end", "room_id", "attendees", "layout", "services")


def changed_fields(manager: DialogManager) -> list[str]:
    data = draft(manager)
    original = data.get("original") or {}
    return [key for key in CHANGEABLE if data.get(key) != original.get(key)]


# ---- messages shown on top of the next window ---------------------------------------------
def set_error(manager: DialogManager, error: BookingError | str) -> None:
    text = error if isinstance(error, str) else error_text(reader_of(manager), error)
    draft(manager)["error"] = text


def pop_error(manager: DialogManager) -> str:
    return str(draft(manager).pop("error", "") or "")


# ---- moving between steps ------------------------------------------------------------------
HUBS = {"summary": BookingSG.summary, CHANGE: BookingSG.change}


def _key(state: State, data: dict[str, Any]) -> str:
    if state == BookingSG.detail:
        return f"{state.state}#{int(data.get('detail_pos', 0))}"
    return str(state.state)


def hub(manager: DialogManager) -> State | None:
    """Where a step returns to once done: the change menu, or the summary after a correction."""
    data = draft(manager)
    if data.get("mode") == CHANGE:
        return BookingSG.change
    if data.get("return_to") == "summary":
        return BookingSG.summary
    return None


async def goto(manager: DialogManager, state: State) -> None:
    """Go forward to ``state``, remembering where we were so that Back returns there."""
    data = draft(manager)
    history: list[str] = data.setdefault("history", [])
    current = manager.current_context().state
    if state in HUBS.values() and str(state.state) in history:
        # back at a hub: forget the detour, so Back from the hub goes where it went first
        del history[history.index(str(state.state)) :]
    elif current is not None and (current != state or state == BookingSG.detail):
        history.append(_key(current, data))
    if state == BookingSG.summary:
        data.pop("return_to", None)
    await manager.switch_to(state)


async def go_back(manager: DialogManager) -> None:
    data = draft(manager)
    history: list[str] = data.get("history") or []
    while history:
        entry = history.pop()
        name, _, position = entry.partition("#")
        if name in STATES:
            if position:
                data["detail_pos"] = int(position)
            await manager.switch_to(STATES[name])
            return
