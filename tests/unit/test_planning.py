"""Task planning (docs/product.md §3) from the example site's templates, and re-planning on change/cancel."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from bot.services.clock import ManualClock
from bot.services.planning import plan_tasks
from bot.services.types import BookingStatus
from bot.site import SiteConfig
from storage.database import Database
from tests.support.people import AV_GROUP, CLEANING_GROUP, HOTLINE_GROUP, SECURITY_GROUP, SERVICE_GROUP
from tests.unit.dispatch_support import Rig, local

ALL_SERVICES = {
    "banner": {"text": "2027 年度工作会议"},
    "water": {},
    "bottled_water": {},
    "tea": {"refill_minutes": 15},
    "flowers": {},
    "nameplates": {"names": "张三, 李四"},
    "sign_in": {},
    "microphones": {"count": 6},
    "recording": {},
    "video": {},
    "projector": {},
    "signage": {},
    "rostrum": {"seats": 7},
    "photography": {},
    "parking": {"spaces": 4},
    "vip_lounge": {},
}
INVOLVED = {"service", "av", "security", "cleaning"}


@pytest.fixture
def rig(site: SiteConfig, clock: ManualClock, db: Database) -> Rig:
    return Rig(site, clock, db)


def offsets(tasks: list, view, template_id: str) -> dict[str, tuple[float, float | None]]:
    """team -> (push, due) in minutes from the start, for one template."""
    found = {}
    for task in tasks:
        if task.template_id == template_id:
            due = (task.due_at - view.start) / timedelta(minutes=1) if task.due_at else None
            found[task.team_id] = ((task.push_at - view.start) / timedelta(minutes=1), due)
    return found


async def test_class_a_level_3_with_tea_gets_every_row_of_the_table(rig: Rig) -> None:
    view = await rig.book(services={"tea": {}}, reception_level=3)
    tasks = await rig.tasks(view.id)
    counts = Counter(t.template_id for t in tasks)
    assert counts == {
        "inspection": 1,
        "check_1": 1,
        "check_2": 4,
        "av_test": 1,
        "security_open": 1,
        "tea_prep": 1,
        "onsite_34": 4,
        "check_3": 1,
        "guard_posts": 1,
        "tea_welcome": 1,
        "tea_pour": 1,
        "tea_refill": 3,  # 2 h meeting, every 30 min when the booking says nothing
        "clear_room": 1,
        "security_close": 1,
        "cleaning": 1,
    }
    assert offsets(tasks, view, "inspection") == {"service": (-1440, -1320)}
    assert offsets(tasks, view, "av_test") == {"av": (-60, -30)}
    assert offsets(tasks, view, "security_open") == {"security": (-60, -45)}
    assert offsets(tasks, view, "guard_posts") == {"security": (-30, -15)}
    assert offsets(tasks, view, "tea_prep") == {"service": (-60, -20)}
    assert offsets(tasks, view, "tea_welcome") == {"service": (-15, -5)}
    assert offsets(tasks, view, "tea_pour") == {"service": (-5, 0)}
    assert offsets(tasks, view, "onsite_34") == {team: (-40, -30) for team in INVOLVED}
    refills = sorted(
        (t.push_at - view.start) / timedelta(minutes=1) for t in tasks if t.template_id == "tea_refill"
    )
    assert refills == [30, 60, 90]
    assert all(
        not t.needs_confirmation and t.kind == "reminder" for t in tasks if t.template_id == "tea_refill"
    )
    end = (view.end - view.start) / timedelta(minutes=1)
    assert offsets(tasks, view, "clear_room") == {"service": (end, end + 20)}
    assert offsets(tasks, view, "security_close") == {"security": (end, end + 30)}
    assert offsets(tasks, view, "cleaning") == {"cleaning": (end, end + 45)}
    assert all(t.status == "planned" and t.next_at == t.push_at for t in tasks)


async def test_three_level_check(rig: Rig) -> None:
    view = await rig.book()
    tasks = await rig.tasks(view.id)
    assert offsets(tasks, view, "check_1") == {"service": (-120, -105)}
    assert next(t for t in tasks if t.template_id == "check_1").leader_only
    assert offsets(tasks, view, "check_2") == {team: (-60, -45) for team in INVOLVED}
    assert offsets(tasks, view, "check_3") == {"hotline": (-30, -20)}
    # the hotline's only task is the third-level check: it is not "involved" (not sent on site)
    assert {t.team_id for t in tasks if t.team_id == "hotline"} == {"hotline"}
    assert [t.template_id for t in tasks if t.team_id == "hotline"] == ["check_3"]


async def test_class_c_level_1_with_every_service(rig: Rig) -> None:
    start = local(5, 14)
    pending = await rig.book(room="r203", start=start, hours=3, services=ALL_SERVICES, reception_level=1)
    assert pending.status == BookingStatus.pending
    assert await rig.tasks(pending.id) == []  # nothing is planned before the approval
    view = await rig.approve(pending.id)
    assert view.status == BookingStatus.confirmed
    tasks = await rig.tasks(view.id)
    assert offsets(tasks, view, "notice_c") == {team: (-2880, -1440) for team in INVOLVED}
    assert offsets(tasks, view, "onsite_12") == {team: (-100, -90) for team in INVOLVED}
    assert "onsite_34" not in {t.template_id for t in tasks}
    refills = [t for t in tasks if t.template_id == "tea_refill"]
    assert len(refills) == 11  # every 15 min the booking asked for, during 3 h: 15 … 165
    assert (refills[0].push_at - view.start) == timedelta(minutes=15)


async def test_levels_decide_when_teams_are_on_site(rig: Rig) -> None:
    level_2 = await rig.book(reception_level=2)
    level_4 = await rig.book(room="r102", reception_level=4)
    tasks_2, tasks_4 = await rig.tasks(level_2.id), await rig.tasks(level_4.id)
    assert set(offsets(tasks_2, level_2, "onsite_12").values()) == {(-100, -90)}
    assert "onsite_34" not in {t.template_id for t in tasks_2}
    assert set(offsets(tasks_4, level_4, "onsite_34").values()) == {(-40, -30)}
    assert "onsite_12" not in {t.template_id for t in tasks_4}


def test_the_plan_is_pure(site: SiteConfig) -> None:
    from bot.services.booking import BookingService  # noqa: F401  (the view type only)
    from bot.services.types import BookingView

    start = local(3, 10)
    view = BookingView(
        id=1,
        status=BookingStatus.confirmed,
        revision=1,
        department_id="finance",
        requester_id=1001,
        booked_by_id=1001,
        room_id="r101",
        start=start,
        end=start + timedelta(hours=1),
        attendees=5,
        layout="discussion",
        reception_level=3,
        confidential=False,
        title="t",
        contact_name="c",
        contact_phone="p",
        notes="",
        services={"tea": {"refill_minutes": "20"}},
    )
    refills = [p for p in plan_tasks(site, view) if p.template_id == "tea_refill"]
    assert [(p.push_at - start) / timedelta(minutes=1) for p in refills] == [20, 40]
    assert all(p.expires_at is not None and p.expires_at <= view.end for p in refills)


async def test_a_booking_one_hour_ahead_gets_its_two_hour_check_at_once_late(
    rig: Rig, clock: ManualClock
) -> None:
    start = clock.now() + timedelta(hours=1, minutes=5)
    view = await rig.book(start=start, hours=1)
    check_1 = await rig.task("check_1")
    assert check_1.status == "planned" and check_1.next_at == clock.now()
    clock.advance(timedelta(seconds=1))
    await rig.workers.tick_once()
    check_1 = await rig.task("check_1")
    assert check_1.status == "open" and check_1.late
    # it gets the quarter of an hour its template allows, from now
    assert check_1.due_at == clock.now() + timedelta(minutes=15)
    inspection = await rig.task("inspection")
    assert inspection.status == "open" and inspection.late
    assert (await rig.task("av_test")).status == "planned"  # −60 min is still ahead
    rows = await rig.outbox(SERVICE_GROUP)
    # a meeting of today is in no digest: the group also gets it as a digest addendum
    assert [r.notice for r in rows].count("digest_addendum") == 1
    cards = [r for r in rows if r.notice == "task_card"]
    assert len(cards) == 2
    assert all("Posted late" in (c.text or "") or "晚" in (c.text or "") for c in cards)
    assert view.id == check_1.booking_id


async def test_a_moved_meeting_moves_its_tasks_and_tells_each_team_old_and_new(
    rig: Rig, clock: ManualClock
) -> None:
    view = await rig.book(services={"tea": {}})
    before = {(t.template_id, t.team_id, t.occurrence): t for t in await rig.tasks(view.id)}
    changed = await rig.change(
        view.id, start=view.start + timedelta(hours=3), end=view.end + timedelta(hours=3)
    )
    after = {(t.template_id, t.team_id, t.occurrence): t for t in await rig.tasks(view.id)}
    assert before.keys() == after.keys()
    for key, task in after.items():
        assert task.push_at == before[key].push_at + timedelta(hours=3)
        assert task.next_at == task.push_at and task.status == "planned"
    notices = await rig.outbox(kind="send")
    by_chat = {row.chat_id: row.text for row in notices}
    assert set(by_chat) == {SERVICE_GROUP, AV_GROUP, SECURITY_GROUP, CLEANING_GROUP, HOTLINE_GROUP}
    service, av = by_chat[SERVICE_GROUP], by_chat[AV_GROUP]
    assert service is not None and av is not None
    assert "10:00–12:00 → " in service and "13:00–15:00" in service
    assert "→" in av and "09:00" in av and "12:00" in av
    assert changed.revision == view.revision + 1


async def test_services_change_cancels_and_creates_only_those_tasks(rig: Rig) -> None:
    view = await rig.book(services={"tea": {}})
    await rig.change(view.id, services={"microphones": {"count": 4}})
    tasks = await rig.tasks(view.id)
    tea = [t for t in tasks if t.template_id.startswith("tea_")]
    assert tea and all(t.status == "cancelled" and t.next_at is None for t in tea)
    assert all(t.status == "planned" for t in tasks if not t.template_id.startswith("tea_"))
    service_notice = [r for r in await rig.outbox(SERVICE_GROUP) if r.kind == "send"]
    assert len(service_notice) == 1
    assert service_notice[0].text is not None
    assert "茶水准备" in service_notice[0].text  # the cancelled tea preparation is named
    # giving the tea back brings the same tasks back to life
    await rig.change(view.id, services={"tea": {"refill_minutes": 60}})
    tasks = await rig.tasks(view.id)
    assert {t.template_id for t in tasks if t.status == "planned"} >= {"tea_prep", "tea_welcome", "tea_pour"}
    refills = [t for t in tasks if t.template_id == "tea_refill" and t.status == "planned"]
    assert len(refills) == 1  # every 60 min in a 2 h meeting


async def test_a_pushed_task_moved_later_goes_back_to_waiting_and_its_card_says_so(
    rig: Rig, clock: ManualClock
) -> None:
    view = await rig.book()
    await rig.at(local(2, 10))  # the day-before inspection is pushed
    await rig.workers.send_pending()
    inspection = await rig.task("inspection")
    assert inspection.status == "open"
    await rig.change(view.id, start=view.start + timedelta(days=1), end=view.end + timedelta(days=1))
    inspection = await rig.task("inspection")
    assert inspection.status == "planned" and inspection.push_at == local(3, 10)
    edits = await rig.outbox(SERVICE_GROUP, kind="edit")
    assert len(edits) == 1 and edits[0].reply_markup is None
    await rig.workers.send_pending()
    assert rig.telegram.calls[-1].method == "EditMessageText" or any(
        c.method == "EditMessageText" for c in rig.telegram.calls
    )


async def test_cancel_cancels_tasks_and_tells_the_teams(rig: Rig, clock: ManualClock) -> None:
    view = await rig.book()
    await rig.at(local(2, 10))
    await rig.workers.send_pending()
    await rig.cancel(view.id)
    tasks = await rig.tasks(view.id)
    assert all(t.status == "cancelled" and t.next_at is None for t in tasks)
    told = {
        r.chat_id
        for r in await rig.outbox(kind="send")
        if "取消" in (r.text or "") or "cancel" in (r.text or "").lower()
    }
    assert told == {SERVICE_GROUP, AV_GROUP, SECURITY_GROUP, CLEANING_GROUP, HOTLINE_GROUP}
    # the pushed card loses its buttons
    edits = await rig.outbox(SERVICE_GROUP, kind="edit")
    assert len(edits) == 1 and edits[0].reply_markup is None
    assert await rig.at(local(3, 12)) == 0  # nothing fires any more


async def test_back_to_approval_cancels_and_a_new_approval_plans_again(rig: Rig) -> None:
    view = await rig.book(room="r301", start=local(3, 10), layout="classroom")
    assert (await rig.tasks(view.id))[0].status == "planned"
    pending = await rig.change(view.id, room_id="r203", layout="theatre")
    assert pending.status == BookingStatus.pending
    assert all(t.status == "cancelled" for t in await rig.tasks(view.id))
    await rig.approve(view.id)
    tasks = await rig.tasks(view.id)
    live = [t for t in tasks if t.status == "planned"]
    assert live and {t.template_id for t in live} >= {"check_1", "check_2", "av_test"}
