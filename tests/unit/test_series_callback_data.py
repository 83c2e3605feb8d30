"""The wire format of /my's buttons on a meeting of a series (``sr:``): each string unpacks
to one meaning, packs back to itself, and data the bot never wrote is claimed by no class."""

from __future__ import annotations

from typing import Any

import pytest

from bot.telegram.callback_data import ButtonData, SeriesAskData, SeriesScopeData

FAMILY: list[type[ButtonData]] = [SeriesAskData, SeriesScopeData]

WRITTEN: list[tuple[str, type[ButtonData], dict[str, Any]]] = [
    ("sr:12:c", SeriesAskData, {"booking_id": 12, "action": "c"}),
    ("sr:12:e", SeriesAskData, {"booking_id": 12, "action": "e"}),
    ("sr:12:c:o:3", SeriesScopeData, {"booking_id": 12, "action": "c", "scope": "o", "revision": 3}),
    ("sr:12:c:f:3", SeriesScopeData, {"booking_id": 12, "action": "c", "scope": "f", "revision": 3}),
    ("sr:12:e:a:1", SeriesScopeData, {"booking_id": 12, "action": "e", "scope": "a", "revision": 1}),
]


def claims(data: str) -> list[type[ButtonData]]:
    found = []
    for cls in FAMILY:
        try:
            cls.unpack(data)
        except (TypeError, ValueError):
            continue
        found.append(cls)
    return found


@pytest.mark.parametrize(("data", "cls", "fields"), WRITTEN, ids=[data for data, _, _ in WRITTEN])
def test_the_data_unpacks_to_its_meaning_and_packs_back(
    data: str, cls: type[ButtonData], fields: dict[str, Any]
) -> None:
    assert claims(data) == [cls]
    unpacked = cls.unpack(data)
    assert {name: getattr(unpacked, name) for name in fields} == fields
    assert unpacked.pack() == data


@pytest.mark.parametrize(
    "data",
    [
        "sr:12:x",
        "sr:12:c:x:3",
        "sr:12:c:o",
        "sr::c",
        "sr:12:c:o:",
        "sr:²:c",
        "sr:12:c:o:+3",
        "sr:12:c\n",
        "bk:12:c",
    ],
)
def test_data_the_bot_never_wrote_is_claimed_by_no_class(data: str) -> None:
    assert claims(data) == []


def test_the_longest_fits_telegrams_64_bytes() -> None:
    assert (
        len(SeriesScopeData(booking_id=10**12 - 1, action="e", scope="a", revision=10**12 - 1).pack()) <= 64
    )
