"""Merged messages: lengths measured as Telegram measures them, how many task cards one
message holds in each language, the room kept for a line's usual edits, and an edit of every
part with the longest state lines still fitting, every part keeping its number."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from bot.delivery.merging import (
    EDIT_ROOM_PER_PART,
    MAX_MERGED_PARTS,
    MAX_TEXT,
    MessagePart,
    merged_fits,
    merged_text,
    merged_text_within_limit,
    visible_length,
)
from bot.delivery.notices import RenderContext, Rendered
from bot.render.tasks import render_task_card
from bot.services.clock import ManualClock
from bot.services.types import Notice
from bot.site import SiteConfig
from storage.database import Database
from storage.models import Task
from storage.repositories.users import UserRepository
from tests.support.people import AV_GROUP, AV_LEADER, STRANGER
from tests.unit.dispatch_support import Rig, local

LONG_NAME = "Maximiliane Alexandra von Hohenberg-Lichtenstein"


@dataclass
class Part:
    merge_text: str | None


def test_visible_length_counts_the_parsed_text_in_utf16_units() -> None:
    assert visible_length("<b>1.</b> a &lt;b&gt; &amp; &quot;") == len('1. a <b> & "')
    assert visible_length('<a href="tg://user?id=1">王敏</a>') == 2
    assert visible_length("📋") == 2  # beyond the Basic Multilingual Plane: a surrogate pair
    assert visible_length("☑️") == 2  # two code points
    assert visible_length("⏰ 完成时限") == 6
    assert visible_length("") == 0


def test_merged_fits_counts_what_telegram_counts_and_keeps_room_per_part() -> None:
    # markup makes the raw HTML far longer than the limit; the text itself is not
    marked = [Part(f"<b>{'<i>x</i>' * 15}</b>") for _ in range(MAX_MERGED_PARTS)]
    assert len(merged_text(marked)) > MAX_TEXT
    assert merged_fits(marked)
    assert not merged_fits([*marked, Part("x")])  # no more parts than a keyboard shows
    # parts whose text leaves less than the room kept per part do not fit
    size = (MAX_TEXT - EDIT_ROOM_PER_PART * 10) // 10
    exact = [Part("x" * (size - len("1. ") - 2)) for _ in range(10)]
    assert visible_length(merged_text(exact)) <= MAX_TEXT - EDIT_ROOM_PER_PART * 10
    assert merged_fits(exact)
    assert not merged_fits([*exact[:-1], Part("x" * (size + 10))])


def test_an_edit_that_outgrows_the_limit_shortens_as_few_parts_as_it_must() -> None:
    """Parts whose task is closed (no buttons) give up their text first; each part keeps its
    head, its number and how it stands."""
    button = [[{"text": "✅", "callback_data": "t:1:d"}]]
    parts: list[MessagePart] = [
        Rendered("", button if n % 2 else None, f"📋 <b>Task</b> #{n}\n{'text ' * 18}\n⏰ Due {n}")
        for n in range(1, 41)
    ]
    assert visible_length(merged_text(parts)) > MAX_TEXT
    text = merged_text_within_limit(parts)
    assert visible_length(text) <= MAX_TEXT
    blocks = text.split("\n\n")
    assert [block.split("\n")[0] for block in blocks] == [
        f"<b>{n}.</b> 📋 <b>Task</b> #{n}" for n in range(1, 41)
    ]
    assert all(block.endswith(f"⏰ Due {n}") for n, block in enumerate(blocks, 1))
    shortened = [n for n, block in enumerate(blocks, 1) if "text" not in block]
    assert shortened and all(n % 2 == 0 for n in shortened)  # closed parts only, as few as needed
    assert len(shortened) < 20


def test_an_edit_that_still_outgrows_the_limit_keeps_each_part_first_line() -> None:
    long_reason = "投影仪 &lt;灯泡&gt; 坏了" * 12
    parts: list[MessagePart] = [
        Part(f"📋 <b>Check 2</b> #{n} · Room {n} 10:00\nits text\n⚠️ Problem: {long_reason}")
        for n in range(1, 41)
    ]
    text = merged_text_within_limit(parts)
    assert visible_length(text) <= MAX_TEXT
    assert text.split("\n") == [f"<b>{n}.</b> 📋 <b>Check 2</b> #{n} · Room {n} 10:00" for n in range(1, 41)]


# ---------------------------------------------------------------------------- real cards


async def av_cards(rig: Rig) -> list[Task]:
    """The AV group's two cards of a burst at −60 min (the second-level check, the AV test)."""
    await rig.book()
    await rig.at(local(3, 9))
    tasks = [await rig.task("check_2", "av"), await rig.task("av_test")]
    assert all(task.status == "open" for task in tasks)
    return tasks


async def render(rig: Rig, tasks: list[Task], language: str) -> list[Rendered]:
    rendered: list[Rendered] = []
    async with rig.db.read() as session:
        ctx = RenderContext(session, rig.site, rig.clock, rig.i18n, language)
        for task in tasks:
            notice = Notice("task_card", AV_GROUP, {"task_id": task.id}, (task.id,), mergeable=True)
            card = await render_task_card(ctx, notice)
            assert card is not None and card.merge_text is not None
            rendered.append(card)
    return rendered


def parts_that_fit(cards: list[Rendered]) -> int:
    """How many parts one message takes, the cards taken in turn."""
    parts: list[Rendered] = []
    while merged_fits([*parts, cards[len(parts) % len(cards)]]):
        parts.append(cards[len(parts) % len(cards)])
    return len(parts)


async def set_state(rig: Rig, tasks: list[Task], **values: object) -> None:
    async with rig.db.transaction() as session:
        for task in tasks:
            row = await session.get(Task, task.id)
            assert row is not None
            for name, value in values.items():
                setattr(row, name, value)


@pytest.fixture
def rig(site: SiteConfig, clock: ManualClock, db: Database) -> Rig:
    return Rig(site, clock, db)


@pytest.mark.parametrize(("language", "fewest"), [("zh", MAX_MERGED_PARTS), ("en", 20)])
async def test_a_burst_message_holds_its_share_of_av_cards(rig: Rig, language: str, fewest: int) -> None:
    """A group of 400 cards needs 10 messages, one a second, when 40 go in each (zh, the site's
    language); English lines are longer, fewer go in a message."""
    cards = await render(rig, await av_cards(rig), language)
    assert all("\n" in (card.merge_text or "") for card in cards)  # the task's own text is there
    assert parts_that_fit(cards) >= fewest


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_the_room_kept_per_part_covers_a_line_done_or_reminded(rig: Rig, language: str) -> None:
    tasks = await av_cards(rig)
    async with rig.db.transaction() as session:
        await UserRepository(session).upsert(STRANGER, LONG_NAME, None, rig.clock.now())
    before = await render(rig, tasks, language)
    rig.clock.set(local(3, 9, 40))
    await set_state(rig, tasks, stage=1)
    reminded = await render(rig, tasks, language)
    await set_state(rig, tasks, status="done", confirmed_by_id=STRANGER, confirmed_at=rig.clock.now())
    done = await render(rig, tasks, language)
    await set_state(rig, tasks, confirmed_by_id=AV_LEADER)
    done_by_leader = await render(rig, tasks, language)
    for after in (reminded, done, done_by_leader):
        for old, new in zip(before, after, strict=True):
            assert old.merge_text is not None and new.merge_text is not None
            assert new.merge_text != old.merge_text
            assert visible_length(new.merge_text) - visible_length(old.merge_text) <= EDIT_ROOM_PER_PART
    assert all(LONG_NAME not in (card.merge_text or "") for card in done)  # cut short in a line
    assert all(LONG_NAME in card.text for card in done)  # the card itself names them in full


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_every_part_edited_to_its_longest_state_line_still_fits(rig: Rig, language: str) -> None:
    tasks = await av_cards(rig)
    cards = await render(rig, tasks, language)
    count = parts_that_fit(cards)
    order = [tasks[n % len(tasks)] for n in range(count)]
    async with rig.db.transaction() as session:
        await UserRepository(session).upsert(STRANGER, LONG_NAME, None, rig.clock.now())
    rig.clock.set(local(4, 11))  # the next day: every time in a line names its day
    await set_state(
        rig,
        tasks,
        status="missed",
        expires_at=local(3, 10),
        problem_reason="投影仪的灯泡坏了，备用灯泡也找不到，需要从仓库调一台新的投影仪过来。" * 5,
        problem_by_id=STRANGER,
    )
    edited = await render(rig, order, language)
    assert visible_length(merged_text(edited)) > MAX_TEXT
    text = merged_text_within_limit(edited)
    assert visible_length(text) <= MAX_TEXT
    numbers = [int(n) for n in re.findall(r"<b>(\d+)\.</b> ", text)]
    assert numbers == list(range(1, count + 1))
    assert all(f"#{task.id}" in text for task in tasks)
