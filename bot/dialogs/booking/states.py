"""The booking wizard's steps and its two modes."""

from __future__ import annotations

from typing import Final, Literal

from aiogram.fsm.state import State, StatesGroup


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
    # a booking that repeats: how often, until when, and another room for taken meetings
    repeat = State()
    repeat_end = State()
    series_fix = State()
    series_room = State()


STATES: dict[str, State] = {state.state: state for state in BookingSG.__states__}  # type: ignore[misc]

Mode = Literal["new", "change"]
NEW: Final = "new"
CHANGE: Final = "change"
