"""A task's text from its template: an aside whose value is empty is left out with its brackets."""

from __future__ import annotations

import pytest

from bot.render.tasks import without_empty_asides
from bot.services.clock import ManualClock
from bot.site import SiteConfig
from storage.database import Database
from tests.unit.dispatch_support import Rig, local
from tests.unit.test_merging import render


@pytest.fixture
def rig(site: SiteConfig, clock: ManualClock, db: Database) -> Rig:
    return Rig(site, clock, db)


async def av_test_text(rig: Rig, language: str) -> str:
    await rig.at(local(3, 9))
    card = (await render(rig, [await rig.task("av_test")], language))[0]
    assert card.merge_text is not None
    return card.merge_text


@pytest.mark.parametrize(
    ("language", "without"), [("zh", "摆放话筒并调好音量"), ("en", "place the microphones and balance")]
)
async def test_the_microphones_aside_shows_only_with_a_count(rig: Rig, language: str, without: str) -> None:
    await rig.book()
    text = await av_test_text(rig, language)
    assert without in text
    assert "（个）" not in text and "()" not in text


@pytest.mark.parametrize(
    ("language", "with_four"),
    [("zh", "摆放话筒（4个）并调好音量"), ("en", "place the microphones (4) and balance")],
)
async def test_a_count_asked_for_is_in_its_aside(rig: Rig, language: str, with_four: str) -> None:
    await rig.book(services={"microphones": {"count": 4}})
    assert with_four in await av_test_text(rig, language)


def test_only_the_aside_of_an_empty_value_goes() -> None:
    template = "会标「{banner}」，话筒（{microphones}个），{room}（{attendees}人）"
    values = {"banner": "", "microphones": "", "room": "203", "attendees": "12"}
    assert without_empty_asides(template, values).format_map(values) == "会标，话筒，203（12人）"
    assert without_empty_asides("(n = {attendees})", {"attendees": ""}) == ""
    assert without_empty_asides("{{room}} ({room})", {"room": "A"}) == "{{room}} ({room})"
    # an aside goes only when every value in it is empty
    both = "话筒（{microphones}个，{layout}）"
    assert without_empty_asides(both, {"microphones": "", "layout": "课桌式"}) == both
    assert without_empty_asides(both, {"microphones": "", "layout": ""}) == "话筒"
