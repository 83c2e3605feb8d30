"""The sender reads once per claimed batch what its rows share (bot/delivery/outbox.py
``OutboxService._preload``): the meetings' readiness, the people named. A card must read in
the batch exactly as it reads alone, and the next pass must read everything anew."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot.delivery.outbox import PRIVATE_HEAD_WINDOW
from bot.services.clock import ManualClock
from bot.services.readiness import meeting_readiness, preload_readiness
from bot.services.types import Notice
from bot.site import SiteConfig
from storage.database import Database
from storage.models import OutboxMessage, Task, User
from storage.repositories.outbox import OutboxRepository, outbox_row
from storage.repositories.users import UserRepository
from tests.support.people import AV_GROUP, HOTLINE_GROUP, STRANGER, SUPERVISOR
from tests.unit.dispatch_support import Rig, local

NAMED = STRANGER  # a Telegram user the site file does not name: the users table does
CHATS = (HOTLINE_GROUP, SUPERVISOR, AV_GROUP)


@pytest.fixture
def rig(site: SiteConfig, clock: ManualClock, db: Database) -> Rig:
    return Rig(site, clock, db)


async def meeting_up_to_check_3(rig: Rig) -> tuple[int, Task]:
    """A meeting whose check 3 (the readiness card) has just been pushed, its cards unsent;
    every open task assigned to :data:`NAMED`, who also reported a problem with check 1."""
    booking = await rig.book()
    await rig.at(local(3, 9, 30))
    assert rig.site.person(NAMED) is None
    async with rig.db.transaction() as session:
        await UserRepository(session).upsert(NAMED, "Alice", None, rig.clock.now())
        await session.execute(
            update(Task).where(Task.booking_id == booking.id, Task.status == "open").values(assignee_id=NAMED)
        )
        await session.execute(
            update(Task)
            .where(Task.booking_id == booking.id, Task.template_id == "check_1")
            .values(status="problem", problem_reason="projector gone", problem_by_id=NAMED)
        )
    return booking.id, await rig.task("check_3")


async def test_cards_read_in_a_batch_as_they_read_alone(rig: Rig) -> None:
    await meeting_up_to_check_3(rig)
    # rendered one by one in a unit of their own, without the batch's reads
    alone = {row.id: row.text for row in await rig.outbox(kind="send") if row.status == "pending"}
    assert len(alone) > 3
    await rig.workers.send_pending()
    shown = {row.id: row.text for row in await rig.outbox(kind="send") if row.id in alone}
    assert shown == alone  # what each row showed, kept on it when it was sent
    assert sum("Alice" in (text or "") for text in shown.values()) > 3  # the assignee, card after card
    readiness_card = next(text for text in shown.values() if text is not None and "projector gone" in text)
    assert "Alice" in readiness_card  # the problem's reporter, named in the readiness list


async def test_the_next_pass_reads_names_and_readiness_anew(rig: Rig) -> None:
    _, check_3 = await meeting_up_to_check_3(rig)
    await rig.workers.send_pending()
    [card] = [
        row
        for row in await rig.outbox(HOTLINE_GROUP, kind="send")
        if (row.params or {}).get("task_id") == check_3.id
    ]
    assert card.text is not None and "Alice" in card.text and "projector gone" in card.text
    async with rig.db.transaction() as session:
        await session.execute(update(User).where(User.id == NAMED).values(first_name="Bob"))
        await session.execute(
            update(Task)
            .where(Task.booking_id == check_3.booking_id, Task.template_id == "check_1")
            .values(status="done", problem_reason=None, problem_by_id=None)
        )
        await rig.delivery.deliver_one(
            session,
            Notice("task_card", HOTLINE_GROUP, {"task_id": check_3.id}),
            kind="edit",
            edit_of_id=card.id,
        )
    rig.monotonic.advance(60)  # the group's next call may go
    await rig.workers.send_pending()
    [edit] = [
        call
        for call in rig.telegram.calls
        if call.chat_id == HOTLINE_GROUP and call.method == "EditMessageText"
    ]
    assert "Bob" in (edit.text or "") and "Alice" not in (edit.text or "")
    assert "projector gone" not in (edit.text or "")


@pytest.mark.parametrize("with_check", [False, True])
async def test_readiness_read_for_a_batch_is_the_readiness_read_alone(
    rig: Rig, db: Database, site: SiteConfig, with_check: bool
) -> None:
    booking_id, check_3 = await meeting_up_to_check_3(rig)
    others = [(await rig.book(start=local(3, hour))).id for hour in (14, 17)]
    now = rig.clock.now()
    check = check_3 if with_check else None
    async with db.read() as session:
        alone = [await meeting_readiness(session, site, booking_id, now, check=check)]
        alone += [await meeting_readiness(session, site, other, now) for other in others]
    async with db.read() as session:
        await preload_readiness(session, [booking_id, others[0]])  # the last meeting is not in the batch
        in_batch = [await meeting_readiness(session, site, booking_id, now, check=check)]
        in_batch += [await meeting_readiness(session, site, other, now) for other in others]
    assert len(alone[0].items) > 3 and any(item.problem_by_id == NAMED for item in alone[0].items)
    assert all(readiness.items for readiness in alone)
    assert in_batch == alone


# ---------------------------------------------------------------------------- the chats' rows


async def test_the_chats_rows_read_together_are_each_chats_rows(rig: Rig, db: Database) -> None:
    now = rig.clock.now()
    async with db.transaction() as session:
        repo = OutboxRepository(session)
        await repo.add_many(
            [outbox_row(chat_id=chat, now=now, text=f"{chat} {n}") for n in range(12) for chat in CHATS]
        )
        [done] = await repo.add_many([outbox_row(chat_id=HOTLINE_GROUP, now=now, text="sent")])
        assert done is not None
        await repo.settle([done], "sent", now)  # finished: not one of the chat's heads
    wanted = {HOTLINE_GROUP: (5, 9), SUPERVISOR: (4, 0), NAMED: (50, 0), AV_GROUP: (3, 2)}
    async with db.read() as session:
        together = await OutboxRepository(session).heads_of(wanted)
        waiting = {
            chat: list(
                (
                    await session.scalars(
                        select(OutboxMessage.id)
                        .where(OutboxMessage.chat_id == chat, OutboxMessage.status == "pending")
                        .order_by(OutboxMessage.id)
                    )
                ).all()
            )
            for chat in wanted
        }
    assert {chat: [head.id for head in heads] for chat, (heads, _) in together.items()} == {
        chat: waiting[chat][:limit] for chat, (limit, _) in wanted.items()
    }
    # counted up to count_up_to when that is more than the rows read, else the rows read
    assert {chat: counted for chat, (_, counted) in together.items()} == {
        HOTLINE_GROUP: 9,
        SUPERVISOR: 4,
        NAMED: 0,
        AV_GROUP: 3,
    }
    assert {head.chat_id for head in together[AV_GROUP][0]} == {AV_GROUP}


async def test_a_private_chat_sends_past_more_settled_edits_than_it_reads_at_once(
    rig: Rig, db: Database
) -> None:
    now = rig.clock.now()
    async with db.transaction() as session:
        repo = OutboxRepository(session)
        [failed] = await repo.add_many([outbox_row(chat_id=SUPERVISOR, now=now, text="never shown")])
        assert failed is not None
        await repo.fail([failed], "chat not found")
        edits = await repo.add_many(
            [
                outbox_row(chat_id=SUPERVISOR, now=now, kind="edit", edit_of_id=failed, text=f"edit {n}")
                for n in range(PRIVATE_HEAD_WINDOW + 3)
            ]
        )
        await repo.add_many([outbox_row(chat_id=SUPERVISOR, now=now, text="next")])
    deliveries = await rig.workers.sender.outbox.claim()
    assert [(d.chat_id, d.text) for d in deliveries] == [(SUPERVISOR, "next")]
    assert {row.status for row in await rig.outbox(SUPERVISOR, kind="edit")} == {"failed"}
    assert len(edits) == PRIVATE_HEAD_WINDOW + 3


async def test_a_call_recorded_on_its_own_is_recorded(rig: Rig, db: Database) -> None:
    """A send without merged parts is recorded with one statement (on PostgreSQL outside a
    transaction): it stays recorded, with what it showed."""
    now = rig.clock.now()
    async with db.transaction() as session:
        await OutboxRepository(session).add_many([outbox_row(chat_id=SUPERVISOR, now=now, text="hello")])
    outbox = rig.workers.sender.outbox
    [delivery] = await outbox.claim()
    assert OutboxRepository.records_in_one_statement(delivery.row_id, 77, delivery.shown, delivery.part_ids)
    await outbox.mark_sent(delivery, 77)
    [row] = await rig.outbox(SUPERVISOR)
    assert (row.status, row.message_id, row.text, row.lease_until) == ("sent", 77, "hello", None)
    assert await outbox.claim() == []
