"""The after-care rules on a real database: claims, lost items, consumables, fees, feedback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.services.aftercare import AftercareError, AftercareService, parse_quantity, parse_score
from bot.services.booking import BookingService
from bot.services.clock import ManualClock
from bot.site import Aftercare, SiteConfig, load_site
from storage import migrate
from storage.database import Database, create_engine
from storage.models import Task
from tests.support.factories import booking_request

SITE = Path(__file__).resolve().parents[2] / "examples" / "site.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
ORGANISER, OTHER, SUPERVISOR = 1001, 1002, 2201
SERVICE_MEMBER, AV_MEMBER, DISPATCHER = 3002, 3102, 2001
CHATS = {"service": -1001, "av": -1002, "security": -1003, "cleaning": -1004, "hotline": -1005}


@dataclass
class Rig:
    site: SiteConfig
    clock: ManualClock
    db: Database
    service: AftercareService

    async def meeting(self, hour: int = 14, minutes: int = 60) -> int:
        request = booking_request(
            START.replace(hour=hour),
            requester_id=ORGANISER,
            duration=timedelta(minutes=minutes),
            title="测试会议",
            contact_phone="1",
        )
        async with self.db.transaction() as session:
            outcome = await BookingService(self.site, self.clock).create(session, request)
        return outcome.booking.id


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    site = load_site(SITE)
    clock = ManualClock(START)
    db = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'care.db'}"))
    await migrate.upgrade(db.engine)
    yield Rig(site, clock, db, AftercareService(site, clock))
    await db.dispose()


def test_parse_quantity() -> None:
    assert [parse_quantity(t) for t in ("3", " ３ ", "3 瓶", "3瓶", "12 bottles", "+4")] == [
        3,
        3,
        3,
        3,
        12,
        4,
    ]
    for text, code in (
        ("-3", "quantity_not_positive"),
        ("－2", "quantity_not_positive"),
        ("0", "quantity_not_positive"),
        ("abc", "quantity_not_number"),
        ("", "quantity_not_number"),
        (None, "quantity_not_number"),
        ("1.5", "quantity_not_number"),
        ("十二", "quantity_not_number"),
        ("100001", "quantity_too_large"),
    ):
        with pytest.raises(AftercareError) as caught:
            parse_quantity(text)
        assert caught.value.code == code, text


def test_parse_score() -> None:
    assert parse_score("4") == (4, "")
    assert parse_score("4 很好，茶水及时") == (4, "很好，茶水及时")
    assert parse_score("５分") == (5, "")
    assert parse_score("3/5 ok") == (3, "ok")
    for text, code in (
        ("很好", "score_not_number"),
        ("", "score_not_number"),
        ("four", "score_not_number"),
        ("7", "score_out_of_range"),
        ("0 bad", "score_out_of_range"),
        ("-1", "score_out_of_range"),
    ):
        with pytest.raises(AftercareError) as caught:
            parse_score(text)
        assert caught.value.code == code, text


async def test_a_finished_meeting_is_claimed_once(rig: Rig) -> None:
    booking_id = await rig.meeting()
    async with rig.db.transaction() as session:
        assert await rig.service.claim_finished(session, CHATS) == []  # not ended yet
    rig.clock.set(START.replace(hour=15))
    async with rig.db.transaction() as session:
        notices = await rig.service.claim_finished(session, CHATS)
    kinds = sorted((n.kind, n.chat_id) for n in notices)
    assert kinds == [
        ("feedback_request", ORGANISER),
        ("meeting_ended", -1004),
        ("meeting_ended", -1003),
        ("meeting_ended", -1001),
    ]
    assert all(n.dedupe_key for n in notices) and all(n.params["booking_id"] == booking_id for n in notices)
    async with rig.db.transaction() as session:
        assert await rig.service.claim_finished(session, CHATS) == []


async def test_the_default_care_teams_are_those_with_a_task_after_the_meeting(rig: Rig) -> None:
    rig.site = rig.site.model_copy(update={"aftercare": Aftercare()})
    rig.service = AftercareService(rig.site, rig.clock)
    booking_id = await rig.meeting()
    async with rig.db.transaction() as session:
        for team, template in (("av", "av_test"), ("cleaning", "cleaning"), ("hotline", "check_3")):
            session.add(
                Task(
                    booking_id=booking_id,
                    template_id=template,
                    team_id=team,
                    occurrence=0,
                    kind="task",
                    needs_confirmation=True,
                    leader_only=False,
                    push_at=START,
                    planned_due_at=START,
                    due_at=START,
                    status="done",
                    stage=0,
                    steps=0,
                    late=False,
                    on_behalf=False,
                    updated_at=START,
                )
            )
    rig.clock.set(START.replace(hour=15))
    async with rig.db.transaction() as session:
        notices = await rig.service.claim_finished(session, CHATS)
    assert [n.chat_id for n in notices if n.kind == "meeting_ended"] == [CHATS["cleaning"]]


async def test_a_meeting_long_over_gets_no_follow_up(rig: Rig) -> None:
    await rig.meeting()
    rig.clock.set(START + timedelta(days=3))
    async with rig.db.transaction() as session:
        assert await rig.service.claim_finished(session, CHATS) == []


async def test_lost_items(rig: Rig) -> None:
    booking_id = await rig.meeting()
    async with rig.db.transaction() as session:
        with pytest.raises(AftercareError, match="item_no_description"):
            await rig.service.register_item(
                session, booking_id, SERVICE_MEMBER, "service", "  \n ", "photo-id"
            )
        item, notices = await rig.service.register_item(
            session, booking_id, SERVICE_MEMBER, "service", "钱包\x07", None
        )
    assert item.description == "钱包" and item.status == "unclaimed" and item.room_id == "r101"
    assert [(n.kind, n.chat_id) for n in notices] == [("lost_item_found", ORGANISER)]
    async with rig.db.transaction() as session:
        with pytest.raises(AftercareError, match="not_staff"):
            await rig.service.hand_over(session, item.id, OTHER, "someone")
        with pytest.raises(AftercareError, match="handover_no_name"):
            await rig.service.hand_over(session, item.id, SERVICE_MEMBER, " ")
        closed = await rig.service.hand_over(session, item.id, SERVICE_MEMBER, "王敏")
        assert (closed.status, closed.handed_to, closed.handed_by_id) == (
            "handed_over",
            "王敏",
            SERVICE_MEMBER,
        )
        with pytest.raises(AftercareError, match="item_closed"):
            await rig.service.hand_over(session, item.id, SUPERVISOR, "again")
        with pytest.raises(AftercareError, match="item_not_found"):
            await rig.service.hand_over(session, 999, SUPERVISOR, "x")
        items, total = await rig.service.unclaimed(session, 0, 8)
    assert (items, total) == ([], 0)


async def test_consumables_and_the_fee_confirmation(rig: Rig) -> None:
    booking_id = await rig.meeting()
    async with rig.db.transaction() as session:
        with pytest.raises(AftercareError, match="nothing_recorded"):
            await rig.service.send_fee(session, booking_id, SERVICE_MEMBER)
        for bad, code in (
            (0, "quantity_not_positive"),
            (-5, "quantity_not_positive"),
            (10**6, "quantity_too_large"),
        ):
            with pytest.raises(AftercareError, match=code):
                await rig.service.record(session, booking_id, "pens", bad, "service", SERVICE_MEMBER)
        with pytest.raises(AftercareError, match="unknown_consumable"):
            await rig.service.record(session, booking_id, "caviar", 1, "service", SERVICE_MEMBER)
        await rig.service.record(session, booking_id, "pens", 3, "service", SERVICE_MEMBER)
        await rig.service.record(session, booking_id, "bottled_water", 10, "service", SERVICE_MEMBER)
        lines = await rig.service.record(session, booking_id, "pens", 2, "av", AV_MEMBER)
    assert [(x.consumable_id, x.quantity, x.amount_cents) for x in lines] == [
        ("bottled_water", 10, 2000),
        ("pens", 5, 1000),
    ]
    async with rig.db.transaction() as session:
        fee, notices = await rig.service.send_fee(session, booking_id, SERVICE_MEMBER)
        assert fee.total_cents == 3000 and fee.status == "sent" and fee.organiser_id == ORGANISER
        assert [(n.kind, n.chat_id) for n in notices] == [("fee_confirmation", ORGANISER)]
        with pytest.raises(AftercareError, match="fee_already_sent"):
            await rig.service.send_fee(session, booking_id, SERVICE_MEMBER)
        with pytest.raises(AftercareError, match="fee_already_sent"):
            await rig.service.record(session, booking_id, "pens", 1, "service", SERVICE_MEMBER)
        with pytest.raises(AftercareError, match="not_organiser"):
            await rig.service.decide_fee(session, fee.id, OTHER, accept=True)
        with pytest.raises(AftercareError, match="dispute_no_reason"):
            await rig.service.decide_fee(session, fee.id, ORGANISER, accept=False, reason="  ")
        disputed, alerts = await rig.service.decide_fee(
            session, fee.id, ORGANISER, accept=False, reason="太贵"
        )
        assert disputed.status == "disputed" and disputed.dispute_reason == "太贵"
        assert [(n.kind, n.chat_id) for n in alerts] == [("fee_disputed", SUPERVISOR)]
        with pytest.raises(AftercareError, match="fee_decided"):
            await rig.service.decide_fee(session, fee.id, ORGANISER, accept=True)


async def test_feedback(rig: Rig) -> None:
    booking_id = await rig.meeting()
    rig.clock.set(START.replace(hour=15))
    async with rig.db.transaction() as session:
        await rig.service.claim_finished(session, CHATS)
        with pytest.raises(AftercareError, match="not_organiser"):
            await rig.service.rate(session, booking_id, OTHER, 5)
        with pytest.raises(AftercareError, match="not_rated"):
            await rig.service.comment(session, booking_id, ORGANISER, "hi")
        with pytest.raises(AftercareError, match="score_out_of_range"):
            await rig.service.rate(session, booking_id, ORGANISER, 6)
        view, alerts = await rig.service.rate(session, booking_id, ORGANISER, 3)
        assert view.score == 3 and [(n.kind, n.chat_id) for n in alerts] == [("feedback_low", SUPERVISOR)]
        with pytest.raises(AftercareError, match="already_rated"):
            await rig.service.rate(session, booking_id, ORGANISER, 5)
        with pytest.raises(AftercareError, match="comment_empty"):
            await rig.service.comment(session, booking_id, ORGANISER, "")
        view, alerts = await rig.service.comment(session, booking_id, ORGANISER, "空调太冷")
        assert view.comment == "空调太冷" and alerts[0].params.get("comment_only") is True
        with pytest.raises(AftercareError, match="already_commented"):
            await rig.service.comment(session, booking_id, ORGANISER, "again")
        with pytest.raises(AftercareError, match="feedback_not_found"):
            await rig.service.rate(session, 999, ORGANISER, 5)


async def test_a_good_score_alerts_nobody(rig: Rig) -> None:
    booking_id = await rig.meeting()
    rig.clock.set(START.replace(hour=15))
    async with rig.db.transaction() as session:
        await rig.service.claim_finished(session, CHATS)
        view, alerts = await rig.service.rate(session, booking_id, ORGANISER, 4, "不错")
    assert (view.score, view.comment, alerts) == (4, "不错", [])


def test_who_may_record(rig: Rig) -> None:
    service_team = rig.site.team("service")
    assert rig.service.may_record(SERVICE_MEMBER, service_team)
    assert not rig.service.may_record(AV_MEMBER, service_team)
    assert rig.service.may_record(SUPERVISOR, service_team) and rig.service.may_record(DISPATCHER, None)
    assert not rig.service.may_record(ORGANISER, service_team)
    assert rig.service.is_staff(AV_MEMBER) and not rig.service.is_staff(ORGANISER)
