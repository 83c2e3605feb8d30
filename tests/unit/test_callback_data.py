"""The typed button data keeps the wire format of the keyboards already sent.

Every string below is what the bot has written into buttons (and into outbox rows waiting to be
sent) before the data was typed: each must unpack to the same meaning and pack back to the
same string, and exactly one class may claim it. Ids stay as strict as
:func:`bot.services.strict.parse_id`: ASCII digits only.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import F
from aiogram.types import CallbackQuery, User

from bot.services.strict import parse_id
from bot.telegram.callback_data import (
    ButtonData,
    ConsumableItemData,
    ConsumablesData,
    ConsumablesPageData,
    EscalationData,
    FeeData,
    FeedbackData,
    ItemFoundData,
    LanguageData,
    LostItemData,
    LostPageData,
    MeetingAlertData,
    MeetingsDigestPageData,
    ReassignData,
    RoomCalendarData,
    RoomsPageData,
    ScoreData,
    SeriesAskData,
    SeriesScopeData,
    TaskData,
    TaskReasonData,
    TeamDigestPageData,
)

EVERY_CLASS: list[type[ButtonData]] = [
    TaskData,
    TaskReasonData,
    EscalationData,
    ReassignData,
    MeetingAlertData,
    ItemFoundData,
    ConsumablesData,
    ConsumablesPageData,
    ConsumableItemData,
    FeeData,
    ScoreData,
    FeedbackData,
    LostPageData,
    LostItemData,
    MeetingsDigestPageData,
    TeamDigestPageData,
    RoomCalendarData,
    RoomsPageData,
    LanguageData,
    SeriesAskData,
    SeriesScopeData,
]

# today's strings, the class that reads each, and what it reads
TODAY: list[tuple[str, type[ButtonData], dict[str, Any]]] = [
    ("t:12:d", TaskData, {"task_id": 12, "action": "d"}),
    ("t:12:f", TaskData, {"task_id": 12, "action": "f"}),
    ("t:12:p", TaskData, {"task_id": 12, "action": "p"}),
    ("t:12:o", TaskData, {"task_id": 12, "action": "o"}),
    ("t:12:r:equipment", TaskReasonData, {"task_id": 12, "reason": "equipment"}),
    ("t:12:r:locked", TaskReasonData, {"task_id": 12, "reason": "locked"}),
    ("e:7:a", EscalationData, {"task_id": 7, "action": "a"}),
    ("e:7:d", EscalationData, {"task_id": 7, "action": "d"}),
    ("e:7:r", EscalationData, {"task_id": 7, "action": "r"}),
    ("e:7:b", EscalationData, {"task_id": 7, "action": "b"}),
    ("e:7:m:3102", ReassignData, {"task_id": 7, "assignee": 3102}),
    ("e:7:m:123456789012345", ReassignData, {"task_id": 7, "assignee": 123456789012345}),
    ("g:5:supervisor:a", MeetingAlertData, {"booking_id": 5, "role": "supervisor"}),
    ("g:5:manager:a", MeetingAlertData, {"booking_id": 5, "role": "manager"}),
    ("lf:n:3", ItemFoundData, {"booking_id": 3}),
    ("cs:o:4", ConsumablesData, {"action": "o", "booking_id": 4}),
    ("cs:s:4", ConsumablesData, {"action": "s", "booking_id": 4}),
    ("cs:c:4:1", ConsumablesPageData, {"booking_id": 4, "page": 1}),
    ("cs:i:4:water", ConsumableItemData, {"booking_id": 4, "consumable_id": "water"}),
    ("fee:a:2", FeeData, {"action": "a", "fee_id": 2}),
    ("fee:d:2", FeeData, {"action": "d", "fee_id": 2}),
    ("fb:9:5", ScoreData, {"booking_id": 9, "score": 5}),
    ("fb:9:1", ScoreData, {"booking_id": 9, "score": 1}),
    ("fb:9:t", FeedbackData, {"booking_id": 9, "action": "t"}),
    ("fb:9:c", FeedbackData, {"booking_id": 9, "action": "c"}),
    ("lost:p:0", LostPageData, {"page": 0}),
    ("lost:h:1", LostItemData, {"action": "h", "item_id": 1}),
    ("lost:ph:1", LostItemData, {"action": "ph", "item_id": 1}),
    ("dg:m:0", MeetingsDigestPageData, {"page": 0}),
    ("dg:t:av:2", TeamDigestPageData, {"team_id": "av", "page": 2}),
    ("dg:t:tea_service:12", TeamDigestPageData, {"team_id": "tea_service", "page": 12}),
    ("ics:r101", RoomCalendarData, {"room_id": "r101"}),
    ("ics:Hall-A_2", RoomCalendarData, {"room_id": "Hall-A_2"}),
    ("icsp:1", RoomsPageData, {"page": 1}),
    ("lang:zh", LanguageData, {"code": "zh"}),
    ("lang:en", LanguageData, {"code": "en"}),
    ("sr:12:c", SeriesAskData, {"booking_id": 12, "action": "c"}),
    ("sr:12:e", SeriesAskData, {"booking_id": 12, "action": "e"}),
    ("sr:12:c:o:3", SeriesScopeData, {"booking_id": 12, "action": "c", "scope": "o", "revision": 3}),
    ("sr:12:c:f:3", SeriesScopeData, {"booking_id": 12, "action": "c", "scope": "f", "revision": 3}),
    ("sr:12:e:a:1", SeriesScopeData, {"booking_id": 12, "action": "e", "scope": "a", "revision": 1}),
]


def claims(data: str) -> list[type[ButtonData]]:
    """The classes that unpack ``data`` (as aiogram's filter does: TypeError or ValueError is no)."""
    found = []
    for cls in EVERY_CLASS:
        try:
            cls.unpack(data)
        except (TypeError, ValueError):
            continue
        found.append(cls)
    return found


@pytest.mark.parametrize(("data", "cls", "fields"), TODAY, ids=[data for data, _, _ in TODAY])
def test_todays_data_unpacks_to_the_same_meaning_and_packs_back(
    data: str, cls: type[ButtonData], fields: dict[str, Any]
) -> None:
    unpacked = cls.unpack(data)
    assert {name: getattr(unpacked, name) for name in fields} == fields
    assert unpacked.pack() == data
    assert cls(**fields).pack() == data  # what a renderer writes
    assert claims(data) == [cls]


@pytest.mark.parametrize(
    "data",
    [
        # the shapes the bot never wrote
        "t:5:z",
        "t:5:r",
        "t:5:r:",
        "t:5::equipment",
        "t:5:r:Equipment",
        "t:5:r:a:b",
        "t:5:d:",
        "t:5",
        "t:",
        "e:5:m",
        "e:5:m:",
        "e:5:x",
        "g:5:supervisor:x",
        "g:5:Supervisor:a",
        "g:5:a",
        "lf:x:3",
        "lf:n",
        "cs:c:4",
        "cs:o:4:1",
        "cs:x:4",
        "cs:i:4:",
        "cs:i:4:" + "a" * 25,
        "fee:x:2",
        "fb:9:x",
        "fb:9:",
        "fb:9:100",
        "lost:x:1",
        "lost:p:1:2",
        "dg:m:1000",
        "dg:t:AV:2",
        "dg:x:1",
        "ics:../x",
        "ics:" + "r" * 33,
        "icsp:1000",
        "lang:",
        "lang:zh:en",
        "lang:ZH",
        "sr:12:x",
        "sr:12:c:x:3",
        "sr:12:c:o",
        "sr::c",
        "sr:12:c:o:",
        "sr:²:c",
        "sr:12:c:o:+3",
        "sr:12:c\n",
        "",
        ":",
        "::::",
        # a trailing newline, which a regex's "$" lets through
        "t:5:d\n",
        "lang:zh\n",
        # the families read elsewhere
        "apv:1:1:a",
        "bk:1:v",
        "bk:12:c",
        "inv:1",
        "mbr:1:1",
    ],
)
def test_data_the_bot_never_wrote_is_claimed_by_no_class(data: str) -> None:
    assert claims(data) == []


NOT_IDS = [
    "\u00b2",  # ² : str.isdigit() says yes, int() says no
    "\u0665",  # ٥ : int() reads it as 5
    "\uff15",  # full-width 5
    "\u0967",  # Devanagari one
    "1\u00b2",
    "+5",
    "-5",
    " 5",
    "5 ",
    "5\n",
    "5_0",
    "0x5",
    "5.0",
    "1e3",
    "",
    "1" * 16,  # longer than any id (a user id has up to 15 digits, the others 12)
]
ID_TEMPLATES = [
    "t:{}:d",
    "t:{}:r:equipment",
    "e:{}:a",
    "e:{}:m:3102",
    "e:7:m:{}",
    "g:{}:supervisor:a",
    "lf:n:{}",
    "cs:o:{}",
    "cs:c:{}:1",
    "cs:c:4:{}",
    "cs:i:{}:water",
    "fee:a:{}",
    "fb:{}:5",
    "fb:9:{}",
    "lost:p:{}",
    "lost:h:{}",
    "lost:ph:{}",
    "dg:m:{}",
    "dg:t:av:{}",
    "icsp:{}",
]


@pytest.mark.parametrize("template", ID_TEMPLATES)
@pytest.mark.parametrize("number", NOT_IDS, ids=ascii)
def test_an_id_is_ascii_digits_only(template: str, number: str) -> None:
    assert claims(template.format(number)) == []


@pytest.mark.parametrize("template", ID_TEMPLATES)
def test_ids_read_as_parse_id_reads_them(template: str) -> None:
    # leading zeros: parse_id takes them, and so does the data (the bot never writes them)
    assert parse_id("05") == 5
    [cls] = claims(template.format("05"))
    assert cls.unpack(template.format("05")).pack() == template.format("5")


def test_an_id_has_twelve_digits_at_most_a_user_id_fifteen() -> None:
    assert claims("t:123456789012:d") == [TaskData]
    assert claims("t:1234567890123:d") == []
    assert claims("e:7:m:123456789012345") == [ReassignData]
    assert claims("e:7:m:1234567890123456") == []
    assert claims("fb:9:99") == [ScoreData]  # a score out of range is the service's to refuse
    assert claims("dg:m:999") == [MeetingsDigestPageData]


def test_the_longest_ids_fit_telegrams_64_bytes() -> None:
    assert len(ReassignData(task_id=10**12 - 1, assignee=10**15 - 1).pack()) <= 64
    assert len(ConsumableItemData(booking_id=10**12 - 1, consumable_id="x" * 24).pack()) <= 64
    assert len(TeamDigestPageData(team_id="t" * 24, page=999).pack()) <= 64
    assert len(RoomCalendarData(room_id="r" * 32).pack()) <= 64
    longest_scope = SeriesScopeData(booking_id=10**12 - 1, action="e", scope="a", revision=10**12 - 1)
    assert len(longest_scope.pack()) <= 64


def test_the_bot_cannot_write_data_it_would_not_read() -> None:
    with pytest.raises(ValueError):
        TaskData(task_id=10**12, action="d")
    with pytest.raises(ValueError):
        TaskData(task_id=True, action="d")
    with pytest.raises(ValueError):
        MeetingsDigestPageData(page=1000)
    with pytest.raises(ValueError):
        TaskReasonData(task_id=1, reason="a:b")


def query(data: str) -> CallbackQuery:
    return CallbackQuery(
        id="1", from_user=User(id=1, is_bot=False, first_name="A"), chat_instance="1", data=data
    )


async def test_the_filter_gives_the_handler_typed_data_or_skips_it() -> None:
    assert await TaskData.filter()(query("t:12:d")) == {"callback_data": TaskData(task_id=12, action="d")}
    assert await TaskData.filter()(query("t:12:r:equipment")) is False
    assert await TaskReasonData.filter()(query("t:12:d")) is False
    assert await TaskData.filter()(query("t:\u0661:d")) is False
    photo = LostItemData.filter(F.action == "ph")
    assert await photo(query("lost:ph:1")) == {"callback_data": LostItemData(action="ph", item_id=1)}
    assert await photo(query("lost:h:1")) is False
