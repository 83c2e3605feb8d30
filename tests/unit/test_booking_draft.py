"""The booking wizard's typed draft: stored as JSON, read from the shape stored before it was
typed, and started afresh (with a message) when the stored data cannot be read."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any, cast

import pytest
from aiogram.utils.i18n import I18n
from aiogram_dialog import DialogManager

from bot.dialogs.booking.draft import BookingDraft, RepeatRule, load_draft, save_draft
from bot.dialogs.booking.states import BookingSG
from bot.services.clock import ManualClock
from bot.services.people import PersonContext
from bot.services.recurrence import Frequency, RecurrenceRule
from bot.services.types import BookingStatus
from bot.site import SiteConfig
from bot.telegram.i18n import LOCALES_DIR

# A change-mode draft of a typed request, as the wizard stored it when the draft was a dict.
STORED_BEFORE = {
    "mode": "change",
    "history": ["BookingSG:change", "BookingSG:services", "BookingSG:detail#0"],
    "booking_id": 7,
    "revision": 2,
    "status": "pending",
    "department_id": "finance",
    "requester_id": 1001,
    "date": "2026-12-02",
    "start": "09:00",
    "end": "11:30",
    "attendees": 12,
    "room_id": "r101",
    "layout": "boardroom",
    "level": 2,
    "services": {"tea": {}, "microphones": {"count": 4}, "banner": {"text": "年度工作会议"}},
    "detail_queue": [["microphones", "count"], ["banner", "text"]],
    "detail_pos": 1,
    "title": "年度工作会议",
    "contact_name": "王敏",
    "contact_phone": "13800000000",
    "confidential": False,
    "notes": "",
    "original": {
        "date": "2026-12-02",
        "start": "09:00",
        "end": "11:00",
        "room_id": "r101",
        "attendees": 12,
        "layout": "boardroom",
        "services": {"tea": {}},
    },
    "free": {
        "read": {"date": "2026-12-02", "start": "09:00", "attendees": 12},
        "how": {"date": "stated", "start": "assumed", "attendees": "stated"},
        "choices": {"end": ["11:00", "23:00"], "attendees": [12, 20]},
        "minutes": [],
        "problems": [["am_or_pm", "start", "9点"]],
        "declined": [],
        "confidential_asked": False,
    },
}


def test_the_shape_stored_before_reads_and_is_stored_unchanged() -> None:
    draft = BookingDraft.model_validate(STORED_BEFORE)
    assert draft.is_change and draft.booking_id == 7 and draft.status == BookingStatus.pending
    assert draft.day == date(2026, 12, 2) and draft.start == time(9, 0) and draft.end == time(11, 30)
    assert draft.detail_queue == [("microphones", "count"), ("banner", "text")]
    assert draft.services["microphones"] == {"count": 4} and draft.free is not None
    assert draft.changed_fields() == ["end", "services"]
    assert draft.stored() == STORED_BEFORE


def test_the_draft_round_trips_through_json() -> None:
    draft = BookingDraft(mode="new", department_id="finance", confidential=False)
    draft.day, draft.start, draft.end = date(2026, 12, 3), time(14, 0), time(16, 0)
    draft.services = {"microphones": {"count": 2}, "banner": {"text": "2"}}
    stored = json.loads(json.dumps(draft.stored()))  # what Redis gives back
    assert stored["start"] == "14:00" and stored["date"] == "2026-12-03"
    assert "return_to" not in stored  # unset values are left out, as before
    again = BookingDraft.model_validate(stored)
    assert again == draft
    assert again.services["banner"]["text"] == "2" and again.services["microphones"]["count"] == 2


def test_a_series_round_trips_through_json() -> None:
    draft = BookingDraft(mode="new", department_id="finance", confidential=False)
    draft.repeat = RepeatRule(frequency=Frequency.WEEKLY, until=date(2027, 3, 31))
    draft.series_rooms = {2: "r102"}
    stored = json.loads(json.dumps(draft.stored()))
    assert stored["repeat"] == {"frequency": "weekly", "until": "2027-03-31", "last_of_month": False}
    again = BookingDraft.model_validate(stored)
    assert again == draft
    assert again.repeat is not None and again.repeat.rule() == RecurrenceRule(
        Frequency.WEEKLY, until=date(2027, 3, 31)
    )
    assert again.series_rooms == {2: "r102"}  # the meeting's index is a number again


@dataclass
class _Context:
    id: str = "context-1"
    state: Any = field(default_factory=lambda: BookingSG.summary)


@dataclass
class _Manager:
    """What load_draft and save_draft use of a DialogManager."""

    dialog_data: dict[str, Any]
    middleware_data: dict[str, Any]
    context: _Context = field(default_factory=_Context)

    def current_context(self) -> _Context:
        return self.context


@pytest.fixture
def dependencies(site: SiteConfig, clock: ManualClock) -> dict[str, Any]:
    i18n = I18n(path=LOCALES_DIR, default_locale="en", domain="messages")
    person = PersonContext(1001, "王敏", "en", "finance", frozenset(), ())
    return {"site": site, "clock": clock, "i18n": i18n, "person": person}


def test_one_update_reads_one_draft_and_saving_writes_it_back(dependencies: dict[str, Any]) -> None:
    manager = _Manager(dict(STORED_BEFORE), dependencies)
    dialog = cast(DialogManager, manager)
    draft = load_draft(dialog)
    assert load_draft(dialog) is draft  # every step of the update changes the same draft
    draft.attendees = 20
    save_draft(dialog, draft)
    assert manager.dialog_data["attendees"] == 20
    manager.context = _Context(id="context-2")  # another dialog: read from its own data
    assert load_draft(dialog) is not draft


def test_a_draft_that_cannot_be_read_starts_afresh_with_a_message(dependencies: dict[str, Any]) -> None:
    manager = _Manager({"date": "next week", "attendees": "many", "history": "?"}, dependencies)
    draft = load_draft(cast(DialogManager, manager))
    assert draft.day is None and draft.attendees is None and draft.history == []
    assert draft.department_id == "finance" and draft.confidential is False
    assert "could not be read" in (draft.error or "")
    assert manager.dialog_data == draft.stored()  # the fresh draft replaces what could not be read
