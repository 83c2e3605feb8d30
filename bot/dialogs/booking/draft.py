"""The booking wizard's draft: one typed model, stored in the dialog data as JSON.

aiogram-dialog keeps ``dialog_data`` in the FSM storage, which is Redis when several
instances run, so the draft is stored as plain JSON values: the day as an ISO date, times as
"HH:MM" in the site's zone, exactly the keys and shapes the wizard stored before it was typed,
so that a dialog left open across a deploy reads on. A draft that cannot be read (a shape of
some other version, a hand-edited store) starts afresh with a message on top of the window,
never an exception.

Within one update every step reads the same instance (``load_draft``) and writes it back with
``save_draft`` after changing it: the navigation saves on every move, so a step that changes
the draft and then moves on needs nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from aiogram_dialog import DialogManager
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationError

from bot.dialogs.booking.states import NEW, Mode
from bot.dialogs.dependencies import person_of, reader_of, site_of
from bot.services.booking import BookingRequest
from bot.services.parsing import local_to_utc
from bot.services.recurrence import Frequency, RecurrenceRule
from bot.services.types import BookingStatus, BookingView
from bot.site import Role

log = logging.getLogger(__name__)

# A time of day as the wizard shows and stores it: "09:30" (read back from "09:30:00" too).
TimeOfDay = Annotated[time, PlainSerializer(lambda moment: moment.strftime("%H:%M"), return_type=str)]
# A service detail's value: a number or a text, as the site's detail kind says.
DetailValue = int | str
ServiceDetails = dict[str, dict[str, DetailValue]]


class _Stored(BaseModel):
    # Keys as stored (``date`` is ``day`` in code: the name of the type it holds); keys of
    # another version are ignored rather than refused.
    model_config = ConfigDict(
        validate_by_name=True, validate_by_alias=True, serialize_by_alias=True, extra="ignore"
    )

    def stored(self) -> dict[str, Any]:
        """The JSON form kept in the dialog data (an unset value is left out)."""
        return self.model_dump(mode="json", exclude_none=True)


class ChangeableValues(_Stored):
    """What change mode can change, as the booking had it when the change began."""

    day: date | None = Field(default=None, alias="date")
    start: TimeOfDay | None = None
    end: TimeOfDay | None = None
    room_id: str | None = None
    attendees: int | None = None
    layout: str | None = None
    services: ServiceDetails = Field(default_factory=dict)


# Change mode's fields by the names the change menu uses for them.
CHANGEABLE = tuple(ChangeableValues.model_fields)


class FreeReading(_Stored):
    """What a request typed in one message said (bot/dialogs/booking/free_text.py).

    ``read``: draft key → value (JSON, as stored in the draft); ``how``: draft key → stated /
    assumed / implied / registration; ``choices``: draft key → the readings to offer;
    ``minutes``: lengths said without a start or an end; ``problems``: (code, field, text)
    from the reader; ``declined``: service ids; ``confidential_asked``: "保密" and "不保密"
    both said.
    """

    read: dict[str, Any] = Field(default_factory=dict)
    how: dict[str, str] = Field(default_factory=dict)
    choices: dict[str, list[str | int]] = Field(default_factory=dict)
    minutes: list[int] = Field(default_factory=list)
    problems: list[tuple[str, str, str]] = Field(default_factory=list)
    declined: list[str] = Field(default_factory=list)
    confidential_asked: bool = False


class RepeatRule(_Stored):
    """How the booking repeats (bot/services/recurrence.py), as the draft stores it."""

    frequency: Frequency
    until: date | None = None
    count: int | None = None
    last_of_month: bool = False

    def rule(self) -> RecurrenceRule:
        return RecurrenceRule(
            self.frequency, until=self.until, count=self.count, last_of_month=self.last_of_month
        )


class BookingStart(_Stored):
    """The dialog's start data, as /book, /my → Change and a typed request give it."""

    mode: Mode = NEW
    booking_id: int | None = None
    department_id: str | None = None
    free: FreeReading | None = None
    series_scope: str | None = None
    """A meeting of a series: "following" or "all" applies the change to those meetings too."""


class BookingDraft(_Stored):
    """Everything the wizard has gathered so far, and where it is going."""

    mode: Mode = NEW
    # the steps to go Back to, newest last ("detail#2" for the third detail question)
    history: list[str] = Field(default_factory=list)
    # the last refusal, shown on top of the next window
    error: str | None = None
    # a correction asked from the summary goes back to it
    return_to: Literal["summary"] | None = None

    # change mode: the booking being changed
    booking_id: int | None = None
    revision: int = 0
    status: BookingStatus | None = None
    requester_id: int | None = None
    original: ChangeableValues | None = None
    series_scope: str | None = None

    department_id: str | None = None
    day: date | None = Field(default=None, alias="date")
    start: TimeOfDay | None = None
    end: TimeOfDay | None = None
    attendees: int | None = None
    room_id: str | None = None
    layout: str | None = None
    level: int | None = None
    services: ServiceDetails = Field(default_factory=dict)
    # the detail questions of the chosen services, as (service id, detail key), and the one asked
    detail_queue: list[tuple[str, str]] = Field(default_factory=list)
    detail_pos: int = 0
    title: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    # None: not answered yet (a typed request that said both "保密" and "不保密")
    confidential: bool | None = None
    notes: str = ""

    # a request typed in one message, while the wizard completes it
    free: FreeReading | None = None

    # a booking that repeats: its rule (None: one meeting), the frequency chosen while its
    # end is asked (and whether a monthly one is "the last" weekday rather than "the fourth"),
    # the rooms picked for meetings whose own room is taken (meeting index → room id), and
    # the meeting whose room is being picked
    repeat: RepeatRule | None = None
    repeat_frequency: Frequency | None = None
    repeat_last_of_month: bool | None = None  # None, not False: left out of the stored draft
    series_rooms: dict[int, str] | None = None
    series_pick: int | None = None

    @property
    def is_change(self) -> bool:
        return self.mode == "change"

    def moment(self, zone: ZoneInfo, which: Literal["start", "end"]) -> datetime | None:
        """The draft's start or end as an aware UTC datetime (the site's zone applied)."""
        value = self.start if which == "start" else self.end
        if self.day is None or value is None:
            return None
        return local_to_utc(zone, self.day, value)

    def changeable(self) -> ChangeableValues:
        return ChangeableValues.model_validate(self.model_dump(include=set(CHANGEABLE)))

    def changed_fields(self) -> list[str]:
        """The changeable fields whose value differs from the booking's (change mode)."""
        original = self.original or ChangeableValues()
        return [name for name in CHANGEABLE if getattr(self, name) != getattr(original, name)]

    def take(self, values: Mapping[str, Any]) -> None:
        """Take stored values (JSON, stored keys) over this draft's, checked like a load."""
        merged = type(self).model_validate({**self.stored(), **values})
        for name in type(self).model_fields:
            setattr(self, name, getattr(merged, name))


# ---- loading and saving ---------------------------------------------------------------------
_LOADED = "booking_draft"


@dataclass
class _Loaded:
    """The draft read in this update, for the context it was read from."""

    context_id: str
    draft: BookingDraft


def load_draft(manager: DialogManager) -> BookingDraft:
    """This update's draft: read from the dialog data once, then the same instance."""
    context = manager.current_context()
    loaded = manager.middleware_data.get(_LOADED)
    if isinstance(loaded, _Loaded) and loaded.context_id == context.id:
        return loaded.draft
    try:
        draft = BookingDraft.model_validate(manager.dialog_data)
    except ValidationError as error:
        log.warning("booking draft of %s unreadable, started afresh: %s", context.state, error)
        draft = BookingDraft(department_id=person_of(manager).department_id, confidential=False)
        draft.error = reader_of(manager).gettext(
            "The booking in progress could not be read after an update of the bot, so its answers "
            "were cleared. Please answer again, or type /cancel to leave."
        )
        _write(manager, draft)
    manager.middleware_data[_LOADED] = _Loaded(context.id, draft)
    return draft


def save_draft(manager: DialogManager, draft: BookingDraft) -> None:
    """Write the draft back to the dialog data (the FSM storage keeps it after the update)."""
    _write(manager, draft)
    manager.middleware_data[_LOADED] = _Loaded(manager.current_context().id, draft)


def _write(manager: DialogManager, draft: BookingDraft) -> None:
    data = manager.dialog_data
    data.clear()
    data.update(draft.stored())


# ---- the draft as a booking -----------------------------------------------------------------
def draft_view(manager: DialogManager, draft: BookingDraft) -> BookingView:
    """The draft as a booking, for the shared summary formatter (ValueError if it has no time)."""
    person = person_of(manager)
    zone = site_of(manager).zone
    start, end = draft.moment(zone, "start"), draft.moment(zone, "end")
    if start is None or end is None:
        raise ValueError("the draft has no time yet")
    return BookingView(
        id=draft.booking_id or 0,
        status=draft.status or BookingStatus.pending,
        revision=draft.revision,
        department_id=draft.department_id or "",
        requester_id=draft.requester_id or person.user_id,
        booked_by_id=person.user_id,
        room_id=draft.room_id or "",
        start=start,
        end=end,
        attendees=draft.attendees or 0,
        layout=draft.layout or "",
        reception_level=draft.level or 1,
        confidential=bool(draft.confidential),
        title=draft.title,
        contact_name=draft.contact_name,
        contact_phone=draft.contact_phone,
        notes=draft.notes,
        services={service: dict(values) for service, values in draft.services.items()},
    )


def booking_request(manager: DialogManager, draft: BookingDraft) -> BookingRequest:
    """The draft as a request to the booking service (every value is there: see _missing_step)."""
    person = person_of(manager)
    zone = site_of(manager).zone
    start, end = draft.moment(zone, "start"), draft.moment(zone, "end")
    assert start is not None and end is not None
    assert draft.room_id and draft.attendees and draft.layout and draft.level
    department = draft.department_id if Role.dispatcher in person.roles else person.department_id
    return BookingRequest(
        department_id=department or "",
        requester_id=person.user_id,  # a dispatcher's phone booking: the dispatcher is the requester
        booked_by_id=person.user_id,
        room_id=draft.room_id,
        start=start,
        end=end,
        attendees=draft.attendees,
        layout=draft.layout,
        reception_level=draft.level,
        title=draft.title,
        contact_name=draft.contact_name,
        contact_phone=draft.contact_phone,
        confidential=bool(draft.confidential),
        notes=draft.notes,
        services={service: dict(values) for service, values in draft.services.items()},
    )


def fill_from_view(draft: BookingDraft, view: BookingView, zone: ZoneInfo) -> None:
    """Load an existing booking into the draft (change mode), remembering the original."""
    start, end = view.start.astimezone(zone), view.end.astimezone(zone)
    draft.booking_id = view.id
    draft.revision = view.revision
    draft.status = view.status
    draft.department_id = view.department_id
    draft.requester_id = view.requester_id
    draft.day = start.date()
    draft.start = start.time().replace(second=0, microsecond=0, tzinfo=None)
    draft.end = end.time().replace(second=0, microsecond=0, tzinfo=None)
    draft.attendees = view.attendees
    draft.room_id = view.room_id
    draft.layout = view.layout
    draft.level = view.reception_level
    draft.services = {service: dict(values) for service, values in view.services.items()}
    draft.title = view.title
    draft.contact_name = view.contact_name
    draft.contact_phone = view.contact_phone
    draft.confidential = view.confidential
    draft.notes = view.notes
    draft.original = draft.changeable()
