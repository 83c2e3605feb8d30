"""Booking views: the shared summary, the notices' renderers and every refusal's message."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiogram.utils.i18n import I18n
from sqlalchemy import select

import bot.render  # noqa: F401  (registers the renderers)
from bot.delivery.notices import NoticeDelivery, Rendered
from bot.render.booking import approval_callback, booking_summary
from bot.render.errors import error_text
from bot.render.text import MESSAGE_LIMIT, Reader
from bot.services.booking import BookingError, BookingService
from bot.services.clock import ManualClock
from bot.services.types import BookingStatus, BookingView
from bot.services.visibility import Audience
from bot.site import SiteConfig
from bot.telegram.i18n import LOCALES_DIR
from storage.database import Database
from storage.models import OutboxMessage
from tests.support.factories import booking_request

SHANGHAI = ZoneInfo("Asia/Shanghai")
BOT_DIR = Path(__file__).resolve().parents[2] / "bot"


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(path=LOCALES_DIR, default_locale="zh", domain="messages")


def view(**changes: object) -> BookingView:
    start = datetime(2026, 12, 3, 14, 30, tzinfo=SHANGHAI)
    values: dict[str, object] = dict(
        id=7,
        status=BookingStatus.confirmed,
        revision=1,
        department_id="finance",
        requester_id=1001,
        booked_by_id=1001,
        room_id="r101",
        start=start,
        end=start + timedelta(hours=2),
        attendees=12,
        layout="discussion",
        reception_level=2,
        confidential=False,
        title="Budget review",
        contact_name="王敏",
        contact_phone="010-6512 3456",
        notes="",
        services={"tea": {"refill_minutes": 15}},
    )
    values.update(changes)
    return BookingView(**values)  # type: ignore[arg-type]


def test_summary_in_both_languages(site: SiteConfig, i18n: I18n) -> None:
    english = booking_summary(Reader(i18n, "en", site), view())
    assert "Thu 3 Dec 2026 14:30–16:30" in english
    assert "Meeting Room 1 (class A, floor 1, up to 20 people)" in english
    assert "Tea service" in english and "15" in english
    chinese = booking_summary(Reader(i18n, "zh", site), view())
    assert "2026年12月3日（周四） 14:30–16:30" in chinese
    assert "第一会议室" in chinese and "会议名称" in chinese and "接待级别：2级" in chinese


def test_summary_escapes_typed_text(site: SiteConfig, i18n: I18n) -> None:
    text = booking_summary(
        Reader(i18n, "en", site),
        view(
            title="<script>alert(1)</script>",
            notes="a & b <b>",
            contact_name="<i>x",
            services={"banner": {"text": "</b>broken"}},
        ),
    )
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "a &amp; b &lt;b&gt;" in text
    assert "&lt;/b&gt;broken" in text
    tags = re.findall(r"</?([a-z]+)", text)
    assert set(tags) <= {"b"}


def test_summary_fits_one_message_whatever_was_typed(site: SiteConfig, i18n: I18n) -> None:
    huge = "<" * 5000
    services = {s.id: {d.key: huge for d in s.details} for s in site.services}
    text = booking_summary(
        Reader(i18n, "zh", site),
        view(title=huge, notes=huge, contact_name=huge, services=services),
        heading="<b>heading</b>",
    )
    assert len(text) < MESSAGE_LIMIT


def test_confidential_summary_hides_title_for_staff(site: SiteConfig, i18n: I18n) -> None:
    text = booking_summary(
        Reader(i18n, "en", site), view(confidential=True, notes="secret"), audience=Audience.group()
    )
    assert "Budget review" not in text and "secret" not in text and "Finance" not in text
    assert "Confidential: yes" in text


def _raised_codes() -> set[str]:
    codes: set[str] = set()
    for path in BOT_DIR.rglob("*.py"):
        codes |= set(re.findall(r'BookingError\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8")))
    return codes


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_refusal_has_its_own_message(site: SiteConfig, i18n: I18n, language: str) -> None:
    reader = Reader(i18n, language, site)
    generic = error_text(reader, BookingError("no-such-code"))
    codes = _raised_codes()
    assert {"slot_taken", "too_early", "over_capacity", "bad_time"} <= codes
    for code in codes:
        assert error_text(reader, BookingError(code)) != generic, code


def test_too_early_names_the_earliest_start_in_the_site_zone(site: SiteConfig, i18n: I18n) -> None:
    earliest = datetime(2026, 12, 1, 2, 0, tzinfo=ZoneInfo("UTC"))
    error = BookingError("too_early", earliest=earliest, room_class="A")
    assert "Tue 1 Dec 2026 10:00" in error_text(Reader(i18n, "en", site), error)
    assert "1小时" in error_text(Reader(i18n, "zh", site), error)
    assert "2026年12月1日（周二） 10:00" in error_text(Reader(i18n, "zh", site), error)


async def test_notices_are_rendered_into_the_outbox(
    db: Database, site: SiteConfig, clock: ManualClock, i18n: I18n
) -> None:
    service = BookingService(site, clock)
    delivery = NoticeDelivery(site, clock, i18n)
    start = datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI)
    request = booking_request(
        start,
        booked_by_id=2001,
        duration=timedelta(hours=2),
        room_id="r203",
        attendees=100,
        layout="theatre",
        reception_level=1,
        title="<b>Plenary</b>",
        contact_phone="13800000000",
    )

    async def rendered(chat_id: int) -> list[Rendered | None]:
        """What each row queued for ``chat_id`` shows if it is sent now (rows keep no text)."""
        async with db.transaction() as session:
            rows = (
                await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)
                )
            ).all()
            return [await delivery.render(session, row) for row in rows]

    async with db.transaction() as session:
        outcome = await service.create(session, request)
        await delivery.deliver(session, outcome.notices)
    approver = await rendered(2101)
    async with db.transaction() as session:
        decided = await service.decide(
            session, outcome.booking.id, 2101, approve=False, reason="Closed <today>"
        )
        await delivery.deliver(session, decided.notices)
    # rendered when sent: a request decided before it went out has nothing left to ask
    assert await rendered(2101) == [None]
    requester = [shown for shown in await rendered(1001) if shown is not None]
    assert len(approver) == 1 and approver[0] is not None
    assert "&lt;b&gt;Plenary&lt;/b&gt;" in approver[0].text
    assert "待审批" in approver[0].text  # the approver reads Chinese (no language given: the site's)
    buttons = [button["callback_data"] for row in approver[0].keyboard or [] for button in row]
    assert buttons == [
        approval_callback(outcome.booking.id, 1, "a"),
        approval_callback(outcome.booking.id, 1, "r"),
    ]
    assert all(len(data.encode()) <= 64 for data in buttons)
    texts = [row.text for row in requester]
    assert any("为您预订" in text for text in texts)  # booked on behalf by the dispatcher
    assert any("未获批准" in text and "Closed &lt;today&gt;" in text for text in texts)
