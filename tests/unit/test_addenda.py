"""Digest addenda and the re-approval of a change, at the service level (docs/product.md §2, §5)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.services.addenda import ADDENDUM, DigestAddenda
from bot.services.clock import ManualClock
from bot.services.digest import DIGEST_JOB, covering_digest_day
from bot.services.types import BookingStatus
from bot.site import SiteConfig
from storage.database import Database
from storage.repositories.aftercare import ClockRunRepository
from tests.support.people import APPROVER, REQUESTER, SERVICE_GROUP, SUPERVISOR
from tests.unit.dispatch_support import Rig, local, request


@pytest.fixture
def rig(site: SiteConfig, clock: ManualClock, db: Database) -> Rig:
    return Rig(site, clock, db)


def test_the_digest_covering_a_day_is_the_last_working_day_before_it(site: SiteConfig) -> None:
    assert covering_digest_day(site, date(2026, 12, 2)) == date(2026, 12, 1)  # Wednesday: Tuesday's
    for weekend in (5, 6, 7):  # Saturday, Sunday, Monday: Friday's
        assert covering_digest_day(site, date(2026, 12, weekend)) == date(2026, 12, 4)
    assert covering_digest_day(site, date(2027, 1, 2)) == date(2026, 12, 31)  # over the holiday


async def test_a_day_is_behind_its_digest_once_the_run_is_claimed_or_passed(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    addenda = DigestAddenda(site, clock)  # Tuesday 1 December, 09:00
    async with db.transaction() as session:
        assert await addenda.digest_behind(session, date(2026, 12, 1))  # today: no digest is left
        assert not await addenda.digest_behind(session, date(2026, 12, 2))  # tonight's is to come
        assert not await addenda.digest_behind(session, date(2026, 12, 6))  # Friday's is to come
        await ClockRunRepository(session).claim(DIGEST_JOB, "2026-12-01", clock.now())
        assert await addenda.digest_behind(session, date(2026, 12, 2))
        assert not await addenda.digest_behind(session, date(2026, 12, 3))  # Wednesday's covers it
    clock.set(local(5, 10))  # Saturday: Friday's digest never ran, none will cover Sunday now
    async with db.transaction() as session:
        assert await addenda.digest_behind(session, date(2026, 12, 6))
        assert not await addenda.digest_behind(session, date(2026, 12, 8))  # Monday's covers Tuesday


async def test_a_confidential_late_meeting_is_told_as_confidential(rig: Rig, clock: ManualClock) -> None:
    view = await rig.book(start=local(1, 15), title="Secret <talks>", confidential=True)
    rows = [row for row in await rig.outbox() if row.notice == ADDENDUM]
    assert {row.chat_id for row in rows} >= {SUPERVISOR, SERVICE_GROUP}
    for row in rows:
        assert "Secret" not in (row.text or ""), row.text  # a report: confidential for everyone
        assert "保密" in (row.text or ""), row.text
    assert view.status == BookingStatus.confirmed


async def test_a_rejected_change_whose_old_time_was_taken_cancels_the_meeting(rig: Rig) -> None:
    view = await rig.book(room="r203", start=local(3, 10))
    await rig.approve(view.id)
    moved = await rig.change(view.id, start=local(4, 10), end=local(4, 12))
    assert moved.status == BookingStatus.pending
    # the old time is not held while the change waits: another hall booking takes it
    other = await rig.book(request("r203", start=local(3, 10), title="Another assembly"))
    assert other.status == BookingStatus.pending
    async with rig.db.transaction() as session:
        outcome = await rig.booking.decide(session, view.id, APPROVER, approve=False, reason="no")
        await rig.delivery.deliver(session, outcome.notices)
    assert outcome.booking.status == BookingStatus.rejected
    assert [n.params.get("change") for n in outcome.notices if n.kind == "booking_decided"] == ["lost"]
    cancelled = [n for n in outcome.notices if n.kind == "tasks_cancelled" and n.chat_id == SERVICE_GROUP]
    assert len(cancelled) == 1
    rows = [r for r in await rig.outbox(SERVICE_GROUP) if r.notice == "tasks_cancelled"]
    last = rows[-1].text or ""
    assert "会议已取消" in last and "12月3日（周四）10:00–12:00" in last and "原时间已无法保留" in last, last
    assert all(t.status == "cancelled" for t in await rig.tasks(view.id))


async def test_a_booking_on_hold_that_is_cancelled_tells_its_teams(rig: Rig) -> None:
    view = await rig.book(room="r203", start=local(3, 10))
    await rig.approve(view.id)
    await rig.change(view.id, start=local(3, 11), end=local(3, 13))
    async with rig.db.transaction() as session:
        outcome = await rig.booking.cancel(session, view.id, REQUESTER, "finance")
        await rig.delivery.deliver(session, outcome.notices)
    rows = [r for r in await rig.outbox(SERVICE_GROUP) if r.notice == "tasks_cancelled"]
    assert len(rows) == 2  # on hold, then cancelled
    assert "会议已取消" in (rows[-1].text or "") and "10:00–12:00" in (rows[-1].text or "")


async def test_a_change_made_while_on_hold_is_approved_against_the_confirmed_booking(rig: Rig) -> None:
    view = await rig.book(room="r203", start=local(3, 10))
    await rig.approve(view.id)
    await rig.change(view.id, start=local(3, 11), end=local(3, 13))
    await rig.change(view.id, start=local(3, 14), end=local(3, 16))  # changed again, still on hold
    async with rig.db.transaction() as session:
        outcome = await rig.booking.decide(session, view.id, APPROVER, approve=True)
        await rig.delivery.deliver(session, outcome.notices)
    changed = [n for n in outcome.notices if n.kind == "tasks_changed" and n.chat_id == SERVICE_GROUP]
    assert len(changed) == 1
    (time_change,) = [f for f in changed[0].params["fields"] if f["field"] == "time"]
    assert time_change["old"] == (local(3, 10), local(3, 12))
    assert time_change["new"] == (local(3, 14), local(3, 16))
    check_2 = [t for t in await rig.tasks(view.id) if t.template_id == "check_2" and t.status == "planned"]
    assert check_2 and all(t.push_at == local(3, 13) for t in check_2)
