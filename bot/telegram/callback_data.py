"""The bot's button data, typed: one class per shape of data a button carries.

The renderers write a button's data with ``SomeData(...).pack()``; the handlers filter with
``SomeData.filter()`` and receive the unpacked ``callback_data``. The wire format is the one the
bot has always written (prefix, ``:`` between the parts, the parts in this order), so that the
keyboards already sent, and the rows still waiting in the outbox, keep working. Where one
prefix carries two shapes (``t:<task>:d`` and ``t:<task>:r:<reason>``) there are two classes:
aiogram's filter skips data whose number of parts is not its class's.

Read strictly, like every piece of data from outside (bot/services/strict.py): an id is 1 to
12 ASCII digits (:func:`bot.services.strict.parse_id`), never "²", "٥", "+5" or " 5"; a word
is matched whole by its pattern; an empty part is refused. Data of a family that none of its
classes unpacks is refused by the family's module (:func:`family_filter`, after its handlers,
before an open booking dialog would take the press), and any other data the bot never wrote
by the last router's ``stale_button`` (bot/handlers/fallback.py): both with
``refuse_button``'s one warning line. Nothing here decides who may press what: the handlers
and services do.

The invite (``inv:``) and move (``mbr:``) buttons are typed in bot/render/membership.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal, Self

from aiogram import F
from aiogram.filters.callback_data import CallbackData
from aiogram.utils.magic_filter import MagicFilter
from pydantic import BeforeValidator

from bot.services.strict import parse_id


def _ascii_number(max_digits: int) -> Callable[[object], int]:
    """A number of 1 to ``max_digits`` ASCII digits, read by parse_id; an int when the bot
    writes the data itself (then it must fit the same digits)."""

    def read(value: object) -> int:
        if isinstance(value, bool):
            raise ValueError("not a number")
        if isinstance(value, int):
            if 0 <= value < 10**max_digits:
                return value
            raise ValueError(f"not 1 to {max_digits} digits")
        number = parse_id(value, max_digits) if isinstance(value, str) else None
        if number is None:
            raise ValueError(f"not 1 to {max_digits} ASCII digits")
        return number

    return read


def _word(pattern: str) -> Callable[[object], str]:
    """A piece of text matched whole by ``pattern`` (no trailing newline slips through, as
    ``$`` would let it)."""
    compiled = re.compile(pattern)

    def read(value: object) -> str:
        if not isinstance(value, str) or compiled.fullmatch(value) is None:
            raise ValueError(f"does not match {pattern}")
        return value

    return read


Id = Annotated[int, BeforeValidator(_ascii_number(12))]
"""A task, booking, fee or lost item id, or a page of /lost: as parse_id reads it."""
UserId = Annotated[int, BeforeValidator(_ascii_number(15))]
"""A Telegram user id."""
Page = Annotated[int, BeforeValidator(_ascii_number(3))]
"""A page of a paged view."""
Score = Annotated[int, BeforeValidator(_ascii_number(2))]
"""A feedback score as pressed (its range is the service's to check)."""
Role = Annotated[str, BeforeValidator(_word(r"[a-z]{1,16}"))]
Reason = Annotated[str, BeforeValidator(_word(r"[a-z]{1,16}"))]
TeamId = Annotated[str, BeforeValidator(_word(r"[a-z0-9_]{1,24}"))]
RoomId = Annotated[str, BeforeValidator(_word(r"[A-Za-z0-9_-]{1,32}"))]
ConsumableId = Annotated[str, BeforeValidator(_word(r"[^:]{1,24}"))]
"""Whatever the catalogue is asked for: an id no longer in it is told so, not refused here."""
LanguageCode = Annotated[str, BeforeValidator(_word(r"[a-z]{1,8}"))]


class ButtonData(CallbackData, prefix="-"):
    """The base of the bot's button data: an empty part is no part of any button it wrote.

    (aiogram would read an empty part as a field's default; no field here has one that may
    stand for data the bot never wrote.)"""

    @classmethod
    def unpack(cls, value: str) -> Self:
        if "" in value.split(cls.__separator__):
            raise ValueError("an empty part")
        return super().unpack(value)


def family_filter(*classes: type[ButtonData]) -> MagicFilter:
    """Any button data with the prefix of one of ``classes``, whatever follows it.

    Registered after the handlers of those classes, it takes the data of their family that
    none of them unpacked (a forged id, a shape the bot never wrote), to refuse it there: in a
    private chat an open booking dialog would otherwise take the press and say nothing."""
    prefixes = frozenset(cls.__prefix__ for cls in classes)
    separator = ButtonData.__separator__
    return F.data.func(lambda data: isinstance(data, str) and data.split(separator, 1)[0] in prefixes)


# ---------------------------------------------------------------------------- tasks


class TaskData(ButtonData, prefix="t"):
    """``t:<task>:<action>`` on a task in a team's group: d Done, f confirm anyway (a readiness
    card), p Problem (the reasons), o Other (type the reason)."""

    task_id: Id
    action: Literal["d", "f", "p", "o"]


class TaskReasonData(ButtonData, prefix="t"):
    """``t:<task>:r:<reason>``: one of the preset reasons of a problem."""

    task_id: Id
    action: Literal["r"] = "r"
    reason: Reason


class EscalationData(ButtonData, prefix="e"):
    """``e:<task>:<action>`` on a supervisor's message: a acknowledge, d done on behalf,
    r reassign (the team's people), b back to these buttons."""

    task_id: Id
    action: Literal["a", "d", "r", "b"]


class ReassignData(ButtonData, prefix="e"):
    """``e:<task>:m:<user>``: reassign the task to this person."""

    task_id: Id
    action: Literal["m"] = "m"
    assignee: UserId


class MeetingAlertData(ButtonData, prefix="g"):
    """``g:<booking>:<role>:a``: acknowledge all of a meeting's tasks escalated to this role."""

    booking_id: Id
    role: Role
    action: Literal["a"] = "a"


# ---------------------------------------------------------------------------- after the meeting


class ItemFoundData(ButtonData, prefix="lf"):
    """``lf:n:<booking>``: Item found, on the "meeting ended" card."""

    action: Literal["n"] = "n"
    booking_id: Id


class ConsumablesData(ButtonData, prefix="cs"):
    """``cs:o:<booking>`` open the consumables panel · ``cs:s:<booking>`` send the fee
    confirmation."""

    action: Literal["o", "s"]
    booking_id: Id


class ConsumablesPageData(ButtonData, prefix="cs"):
    """``cs:c:<booking>:<page>``: a page of the consumables panel."""

    action: Literal["c"] = "c"
    booking_id: Id
    page: Page


class ConsumableItemData(ButtonData, prefix="cs"):
    """``cs:i:<booking>:<consumable>``: record the quantity of one consumable."""

    action: Literal["i"] = "i"
    booking_id: Id
    consumable_id: ConsumableId


class FeeData(ButtonData, prefix="fee"):
    """``fee:<a|d>:<fee>``: the organiser accepts or disputes a fee confirmation."""

    action: Literal["a", "d"]
    fee_id: Id


class ScoreData(ButtonData, prefix="fb"):
    """``fb:<booking>:<score>``: a feedback score pressed."""

    booking_id: Id
    score: Score


class FeedbackData(ButtonData, prefix="fb"):
    """``fb:<booking>:t`` type a score (and a comment) · ``fb:<booking>:c`` add a comment."""

    booking_id: Id
    action: Literal["t", "c"]


class LostPageData(ButtonData, prefix="lost"):
    """``lost:p:<page>``: a page of /lost."""

    action: Literal["p"] = "p"
    page: Id


class LostItemData(ButtonData, prefix="lost"):
    """``lost:h:<item>`` handed over · ``lost:ph:<item>`` show its photo."""

    action: Literal["h", "ph"]
    item_id: Id


# ---------------------------------------------------------------------------- reports, language


class MeetingsDigestPageData(ButtonData, prefix="dg"):
    """``dg:m:<page>``: a page of the meetings digest (/tomorrow)."""

    scope: Literal["m"] = "m"
    page: Page


class TeamDigestPageData(ButtonData, prefix="dg"):
    """``dg:t:<team>:<page>``: a page of a team's tasks (/tomorrow)."""

    scope: Literal["t"] = "t"
    team_id: TeamId
    page: Page


class RoomCalendarData(ButtonData, prefix="ics"):
    """``ics:<room>``: this room's calendar file."""

    room_id: RoomId


class RoomsPageData(ButtonData, prefix="icsp"):
    """``icsp:<page>``: a page of the rooms /ics offers."""

    page: Page


class LanguageData(ButtonData, prefix="lang"):
    """``lang:<code>``: the language chosen (the handler checks it is one the bot speaks)."""

    code: LanguageCode


# ---------------------------------------------------------------------------- approvals and /my


class ApprovalData(ButtonData, prefix="apv"):
    """``apv:<booking>:<revision>:<a|r>`` on a request (its message, reminder, escalation and the
    /approvals list): approve or reject the revision the approver was shown."""

    booking_id: Id
    revision: Id
    decision: Literal["a", "r"]


class ApprovalsPageData(ButtonData, prefix="apl"):
    """``apl:<page>``: a page of /approvals."""

    page: Id


MyAction = Annotated[str, BeforeValidator(_word(r"[a-z]{1,4}"))]


class MyBookingData(ButtonData, prefix="bk"):
    """``bk:<booking>:<action>`` in /my: l the list, v a booking, e change, c cancel, w withdraw …"""

    booking_id: Id
    action: MyAction


class MyBookingConfirmData(ButtonData, prefix="bk"):
    """``bk:<booking>:<action>:<revision>``: a confirmation (y cancel, wy withdraw) of the
    revision the person was shown."""

    booking_id: Id
    action: MyAction
    revision: Id


# ---------------------------------------------------------------------------- monthly statements


class StatementData(ButtonData, prefix="stm"):
    """``stm:<a|d>:<statement>``: a department's contact accepts or disputes its monthly statement."""

    action: Literal["a", "d"]
    statement_id: Id


# ---------------------------------------------------------------------------- check-in


class CheckInData(ButtonData, prefix="ci"):
    """``ci:<booking>:<i|l>`` on a meeting's check-in prompt: i check in, l running late."""

    booking_id: Id
    action: Literal["i", "l"]


# ---------------------------------------------------------------------------- booking series


class SeriesAskData(ButtonData, prefix="sr"):
    """``sr:<booking>:<c|e>`` in /my on a meeting of a series: c cancel, e change; asks which
    meetings (this one, this and following, the whole series)."""

    booking_id: Id
    action: Literal["c", "e"]


class SeriesScopeData(ButtonData, prefix="sr"):
    """``sr:<booking>:<c|e>:<o|f|a>:<revision>``: the meetings chosen (o this one, f this and
    following, a the whole series) for the revision of the meeting the person was shown."""

    booking_id: Id
    action: Literal["c", "e"]
    scope: Literal["o", "f", "a"]
    revision: Id
