"""After the meeting (docs/product.md §6): lost and found, consumables and the fee confirmation, feedback.

Rules decided here:

* When a meeting ends (confirmed, in progress or finished, ended within
  ``[aftercare] lookback_hours``) it is claimed once in ``followups``; the groups of the
  ``[aftercare] teams`` (default: the teams with a task after the meeting) get a "meeting
  ended" card with Item found and Consumables used, and the organiser (the booking's
  requester) is asked to rate the service.
* Lost and found (拾遗物品登记): a member of the group's team (or a supervisor, manager or
  dispatcher) registers an item with a description and, if they like, a photo; the organiser
  is told. Anyone of the staff closes an unclaimed item by saying who received it.
* Consumables (会务用品使用登记): whole positive quantities of catalogue items, priced at the
  catalogue's price when recorded. Sending the fee confirmation (会议费确认单) freezes the
  list; the organiser accepts it, or disputes it with a reason that reaches every supervisor.
* Feedback (满意度): only the organiser rates, once, 1–5; a score at or below
  ``[aftercare] low_score`` reaches every supervisor at once, and so does a comment on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.booking import MAX_NOTES
from bot.services.clock import Clock
from bot.services.strict import clean_text, has_foreign_digits, parse_count
from bot.services.types import Notice
from bot.site import Anchor, Role, SiteConfig, Team
from storage.models import Booking
from storage.models.aftercare import ConsumptionRecord, FeeConfirmation, Feedback, LostItem, Prompt
from storage.repositories.aftercare import AftercareRepository

MAX_QUANTITY = 10_000
MAX_DESCRIPTION = 500
MAX_HANDED_TO = 200
PROMPT_LIFETIME = timedelta(days=14)
STAFF_ROLES = (Role.supervisor, Role.manager, Role.dispatcher)


class AftercareError(Exception):
    """A rule said no; ``code`` picks the message (bot/render/aftercare.py), ``params`` fill it."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class LostItemView:
    id: int
    booking_id: int | None
    room_id: str
    status: str
    description: str
    photo_file_id: str | None
    finder_id: int
    team_id: str | None
    found_at: datetime
    handed_to: str | None = None
    handed_by_id: int | None = None
    handed_at: datetime | None = None


@dataclass(frozen=True)
class ConsumptionLine:
    consumable_id: str
    quantity: int
    unit_price_cents: int

    @property
    def amount_cents(self) -> int:
        return self.quantity * self.unit_price_cents


@dataclass(frozen=True)
class FeeView:
    id: int
    booking_id: int
    status: str
    items: tuple[ConsumptionLine, ...]
    total_cents: int
    organiser_id: int
    sent_by_id: int
    sent_at: datetime
    decided_at: datetime | None
    dispute_reason: str | None


@dataclass(frozen=True)
class FeedbackView:
    booking_id: int
    organiser_id: int
    score: int | None
    comment: str | None


@dataclass(frozen=True)
class PromptView:
    id: int
    chat_id: int
    message_id: int
    user_id: int
    kind: str
    ref_id: int
    extra: dict[str, Any]


@dataclass(frozen=True)
class MeetingRef:
    """What the after-care views show of a meeting."""

    booking_id: int
    room_id: str
    start: datetime
    end: datetime
    title: str
    department_id: str
    confidential: bool
    requester_id: int
    layout: str = ""


def _meeting(booking: Booking) -> MeetingRef:
    return MeetingRef(
        booking.id,
        booking.room_id,
        booking.start_at,
        booking.end_at,
        booking.title,
        booking.department_id,
        booking.confidential,
        booking.requester_id,
        booking.layout,
    )


def _item_view(item: LostItem) -> LostItemView:
    return LostItemView(
        item.id,
        item.booking_id,
        item.room_id,
        item.status,
        item.description,
        item.photo_file_id,
        item.finder_id,
        item.team_id,
        item.found_at,
        item.handed_to,
        item.handed_by_id,
        item.handed_at,
    )


def _fee_view(fee: FeeConfirmation) -> FeeView:
    return FeeView(
        fee.id,
        fee.booking_id,
        fee.status,
        tuple(ConsumptionLine(i["consumable_id"], i["quantity"], i["unit_price_cents"]) for i in fee.items),
        fee.total_cents,
        fee.organiser_id,
        fee.sent_by_id,
        fee.sent_at,
        fee.decided_at,
        fee.dispute_reason,
    )


def _feedback_view(row: Feedback) -> FeedbackView:
    return FeedbackView(row.booking_id, row.organiser_id, row.score, row.comment)


def _foreign_digits_or(code: str, text: str) -> AftercareError:
    return AftercareError("digits_only" if has_foreign_digits(text) else code)


def parse_quantity(text: str | None) -> int:
    """A whole positive number of units ("3", "３", "3 瓶"); AftercareError otherwise."""
    cleaned = (text or "").strip()
    head = cleaned.split()[0] if cleaned.split() else ""
    number = head.rstrip("个瓶包本支节束条份件盒")
    value = parse_count(number, max_digits=12, signed=True)
    if value is None:
        raise _foreign_digits_or("quantity_not_number", number)
    if value <= 0:
        raise AftercareError("quantity_not_positive")
    if value > MAX_QUANTITY:
        raise AftercareError("quantity_too_large", maximum=MAX_QUANTITY)
    return value


def parse_score(text: str | None) -> tuple[int, str]:
    """A typed score and optional comment ("4", "4 很满意", "４分"); AftercareError otherwise."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise AftercareError("score_not_number")
    head, _, rest = cleaned.partition(" ")
    number = head.removesuffix("分").removesuffix("星").removesuffix("/5")
    score = parse_count(number, max_digits=12, signed=True)
    if score is None:
        raise _foreign_digits_or("score_not_number", number)
    if not 1 <= score <= 5:
        raise AftercareError("score_out_of_range")
    return score, clean_text(rest, MAX_NOTES, multiline=True)


def fee_total(lines: Sequence[ConsumptionLine]) -> int:
    return sum(line.amount_cents for line in lines)


class AftercareService:
    def __init__(self, site: SiteConfig, clock: Clock) -> None:
        self.site = site
        self.clock = clock

    # ---- who may do what --------------------------------------------------------------------
    def is_staff(self, user_id: int) -> bool:
        """Team members, and supervisors, managers and dispatchers."""
        return bool(self.site.teams_of(user_id)) or bool(self.site.roles_of(user_id) & set(STAFF_ROLES))

    def may_record(self, user_id: int, team: Team | None) -> bool:
        """In a team's group: a member of that team, or a supervisor, manager or dispatcher."""
        if team is not None and user_id in team.everyone:
            return True
        return bool(self.site.roles_of(user_id) & set(STAFF_ROLES))

    def supervisors(self) -> list[int]:
        return self.site.people_with(Role.supervisor)

    # ---- the meeting ended -----------------------------------------------------------------
    async def meeting(self, session: AsyncSession, booking_id: int) -> MeetingRef | None:
        booking = await AftercareRepository(session).booking(booking_id)
        return _meeting(booking) if booking is not None else None

    async def claim_finished(self, session: AsyncSession, team_chats: dict[str, int]) -> list[Notice]:
        """Start the after-care of every meeting that ended and has none yet (exactly once)."""
        now = self.clock.now()
        repo = AftercareRepository(session)
        since = now - timedelta(hours=self.site.aftercare.lookback_hours)
        notices: list[Notice] = []
        for booking_id in await repo.claim_finished(now, since):
            booking = await repo.booking(booking_id)
            if booking is None:  # pragma: no cover - deleted meanwhile
                continue
            for team_id in await self._care_teams(repo, booking):
                chat_id = team_chats.get(team_id)
                if chat_id is None:
                    continue
                notices.append(
                    Notice(
                        "meeting_ended",
                        chat_id,
                        {"booking_id": booking.id, "team_id": team_id},
                        dedupe_key=f"ended:{booking.id}:{team_id}",
                    )
                )
            await repo.add_feedback(
                Feedback(booking_id=booking.id, organiser_id=booking.requester_id, asked_at=now)
            )
            notices.append(
                Notice(
                    "feedback_request",
                    booking.requester_id,
                    {"booking_id": booking.id},
                    dedupe_key=f"feedback:{booking.id}",
                )
            )
        return notices

    async def _care_teams(self, repo: AftercareRepository, booking: Booking) -> list[str]:
        if self.site.aftercare.teams:
            return [t for t in self.site.aftercare.teams if self.site.team(t) is not None]
        rows = await repo.teams_with_tasks(booking.id)
        after = {
            team_id
            for team_id, template_id in rows
            if any(t.id == template_id and t.anchor == Anchor.end for t in self.site.task_templates)
        }
        chosen = after or {team_id for team_id, _ in rows}
        return [team.id for team in self.site.teams if team.id in chosen]

    # ---- lost and found --------------------------------------------------------------------
    async def register_item(
        self,
        session: AsyncSession,
        booking_id: int,
        finder_id: int,
        team_id: str | None,
        description: str | None,
        photo_file_id: str | None,
    ) -> tuple[LostItemView, list[Notice]]:
        text = clean_text(description or "", MAX_DESCRIPTION, multiline=True)
        if not text:
            raise AftercareError("item_no_description")
        repo = AftercareRepository(session)
        booking = await repo.booking(booking_id)
        if booking is None:
            raise AftercareError("meeting_not_found")
        item = await repo.add_item(
            LostItem(
                booking_id=booking.id,
                room_id=booking.room_id,
                status="unclaimed",
                description=text,
                photo_file_id=photo_file_id,
                finder_id=finder_id,
                team_id=team_id,
                found_at=self.clock.now(),
            )
        )
        notice = Notice(
            "lost_item_found", booking.requester_id, {"item_id": item.id}, dedupe_key=f"lost:{item.id}"
        )
        return _item_view(item), [notice]

    async def item(self, session: AsyncSession, item_id: int) -> LostItemView | None:
        item = await AftercareRepository(session).item(item_id)
        return _item_view(item) if item is not None else None

    async def unclaimed(
        self, session: AsyncSession, page: int, per_page: int
    ) -> tuple[list[LostItemView], int]:
        rows, total = await AftercareRepository(session).items("unclaimed", max(page, 0) * per_page, per_page)
        return [_item_view(row) for row in rows], total

    async def hand_over(
        self, session: AsyncSession, item_id: int, actor_id: int, handed_to: str | None
    ) -> LostItemView:
        if not self.is_staff(actor_id):
            raise AftercareError("not_staff")
        receiver = clean_text(handed_to or "", MAX_HANDED_TO)
        if not receiver:
            raise AftercareError("handover_no_name")
        repo = AftercareRepository(session)
        item = await repo.item(item_id)
        if item is None:
            raise AftercareError("item_not_found")
        if not await repo.hand_over(item_id, receiver, actor_id, self.clock.now()):
            raise AftercareError("item_closed")
        item = await repo.item(item_id)
        assert item is not None
        return _item_view(item)

    # ---- consumables and the fee confirmation ------------------------------------------------
    async def consumption(self, session: AsyncSession, booking_id: int) -> list[ConsumptionLine]:
        """What the meeting used, one line per item and price, in the catalogue's order."""
        totals: dict[tuple[str, int], int] = {}
        for record in await AftercareRepository(session).records(booking_id):
            key = (record.consumable_id, record.unit_price_cents)
            totals[key] = totals.get(key, 0) + record.quantity
        order = {c.id: index for index, c in enumerate(self.site.consumables)}
        lines = [ConsumptionLine(cid, quantity, price) for (cid, price), quantity in totals.items()]
        return sorted(lines, key=lambda line: (order.get(line.consumable_id, len(order)), line.consumable_id))

    async def record(
        self,
        session: AsyncSession,
        booking_id: int,
        consumable_id: str,
        quantity: int,
        team_id: str | None,
        user_id: int,
    ) -> list[ConsumptionLine]:
        consumable = self.site.consumable(consumable_id)
        if consumable is None:
            raise AftercareError("unknown_consumable")
        if quantity <= 0:
            raise AftercareError("quantity_not_positive")
        if quantity > MAX_QUANTITY:
            raise AftercareError("quantity_too_large", maximum=MAX_QUANTITY)
        repo = AftercareRepository(session)
        if await repo.booking(booking_id) is None:
            raise AftercareError("meeting_not_found")
        if await repo.fee_of_booking(booking_id) is not None:
            raise AftercareError("fee_already_sent")
        await repo.add_record(
            ConsumptionRecord(
                booking_id=booking_id,
                consumable_id=consumable.id,
                quantity=quantity,
                unit_price_cents=consumable.price_cents,
                team_id=team_id,
                recorded_by_id=user_id,
                recorded_at=self.clock.now(),
            )
        )
        return await self.consumption(session, booking_id)

    async def fee_of_booking(self, session: AsyncSession, booking_id: int) -> FeeView | None:
        fee = await AftercareRepository(session).fee_of_booking(booking_id)
        return _fee_view(fee) if fee is not None else None

    async def fee(self, session: AsyncSession, fee_id: int) -> FeeView | None:
        fee = await AftercareRepository(session).fee(fee_id)
        return _fee_view(fee) if fee is not None else None

    async def send_fee(
        self, session: AsyncSession, booking_id: int, actor_id: int
    ) -> tuple[FeeView, list[Notice]]:
        repo = AftercareRepository(session)
        booking = await repo.booking(booking_id)
        if booking is None:
            raise AftercareError("meeting_not_found")
        if await repo.fee_of_booking(booking_id) is not None:
            raise AftercareError("fee_already_sent")
        lines = await self.consumption(session, booking_id)
        if not lines:
            raise AftercareError("nothing_recorded")
        fee = await repo.add_fee(
            FeeConfirmation(
                booking_id=booking_id,
                status="sent",
                items=[
                    {
                        "consumable_id": x.consumable_id,
                        "quantity": x.quantity,
                        "unit_price_cents": x.unit_price_cents,
                    }
                    for x in lines
                ],
                total_cents=fee_total(lines),
                organiser_id=booking.requester_id,
                sent_by_id=actor_id,
                sent_at=self.clock.now(),
            )
        )
        notice = Notice(
            "fee_confirmation", booking.requester_id, {"fee_id": fee.id}, dedupe_key=f"fee:{fee.id}"
        )
        return _fee_view(fee), [notice]

    async def check_fee_decision(self, session: AsyncSession, fee_id: int, user_id: int) -> FeeView:
        """The fee confirmation ``user_id`` may still accept or dispute; AftercareError if not."""
        fee = await AftercareRepository(session).fee(fee_id)
        if fee is None:
            raise AftercareError("fee_not_found")
        if fee.organiser_id != user_id:
            raise AftercareError("not_organiser")
        if fee.status != "sent":
            raise AftercareError("fee_decided", status=fee.status)
        return _fee_view(fee)

    async def decide_fee(
        self, session: AsyncSession, fee_id: int, user_id: int, accept: bool, reason: str | None = None
    ) -> tuple[FeeView, list[Notice]]:
        await self.check_fee_decision(session, fee_id, user_id)
        cleaned = clean_text(reason or "", MAX_NOTES, multiline=True)
        if not accept and not cleaned:
            raise AftercareError("dispute_no_reason")
        repo = AftercareRepository(session)
        status = "accepted" if accept else "disputed"
        if not await repo.decide_fee(fee_id, status, None if accept else cleaned, self.clock.now()):
            raise AftercareError("fee_decided", status="")
        fee = await repo.fee(fee_id)
        assert fee is not None
        notices = []
        if not accept:
            notices = [
                Notice(
                    "fee_disputed",
                    supervisor,
                    {"fee_id": fee_id},
                    dedupe_key=f"fee-dispute:{fee_id}:{supervisor}",
                )
                for supervisor in self.supervisors()
            ]
        return _fee_view(fee), notices

    # ---- feedback ----------------------------------------------------------------------------
    async def feedback(self, session: AsyncSession, booking_id: int) -> FeedbackView | None:
        row = await AftercareRepository(session).feedback(booking_id)
        return _feedback_view(row) if row is not None else None

    async def check_rater(self, session: AsyncSession, booking_id: int, user_id: int) -> FeedbackView:
        row = await AftercareRepository(session).feedback(booking_id)
        if row is None:
            raise AftercareError("feedback_not_found")
        if row.organiser_id != user_id:
            raise AftercareError("not_organiser")
        return _feedback_view(row)

    async def rate(
        self, session: AsyncSession, booking_id: int, user_id: int, score: int, comment: str | None = None
    ) -> tuple[FeedbackView, list[Notice]]:
        await self.check_rater(session, booking_id, user_id)
        if not 1 <= score <= 5:
            raise AftercareError("score_out_of_range")
        repo = AftercareRepository(session)
        cleaned = clean_text(comment or "", MAX_NOTES, multiline=True) or None
        if not await repo.rate(booking_id, score, cleaned, self.clock.now()):
            raise AftercareError("already_rated")
        row = await repo.feedback(booking_id)
        assert row is not None
        notices: list[Notice] = []
        if score <= self.site.aftercare.low_score:
            notices = [
                Notice(
                    "feedback_low",
                    supervisor,
                    {"booking_id": booking_id},
                    dedupe_key=f"feedback-low:{booking_id}:{supervisor}",
                )
                for supervisor in self.supervisors()
            ]
        return _feedback_view(row), notices

    async def comment(
        self, session: AsyncSession, booking_id: int, user_id: int, text: str | None
    ) -> tuple[FeedbackView, list[Notice]]:
        view = await self.check_rater(session, booking_id, user_id)
        if view.score is None:
            raise AftercareError("not_rated")
        if view.comment:
            raise AftercareError("already_commented")
        cleaned = clean_text(text or "", MAX_NOTES, multiline=True)
        if not cleaned:
            raise AftercareError("comment_empty")
        repo = AftercareRepository(session)
        await repo.comment(booking_id, cleaned, self.clock.now())
        row = await repo.feedback(booking_id)
        assert row is not None
        notices: list[Notice] = []
        if view.score <= self.site.aftercare.low_score:
            notices = [
                Notice(
                    "feedback_low",
                    supervisor,
                    {"booking_id": booking_id, "comment_only": True},
                    dedupe_key=f"feedback-comment:{booking_id}:{supervisor}",
                )
                for supervisor in self.supervisors()
            ]
        return _feedback_view(row), notices

    # ---- questions asked with ForceReply ------------------------------------------------------
    async def ask(
        self,
        session: AsyncSession,
        *,
        chat_id: int,
        message_id: int,
        user_id: int,
        kind: str,
        ref_id: int,
        extra: dict[str, Any] | None = None,
    ) -> None:
        repo = AftercareRepository(session)
        await repo.drop_prompts_before(self.clock.now() - PROMPT_LIFETIME)
        await repo.add_prompt(
            Prompt(
                chat_id=chat_id,
                message_id=message_id,
                user_id=user_id,
                kind=kind,
                ref_id=ref_id,
                extra=extra or {},
                created_at=self.clock.now(),
            )
        )

    async def prompt(self, session: AsyncSession, chat_id: int, message_id: int) -> PromptView | None:
        row = await AftercareRepository(session).prompt(chat_id, message_id)
        if row is None:
            return None
        return PromptView(
            row.id, row.chat_id, row.message_id, row.user_id, row.kind, row.ref_id, dict(row.extra)
        )

    async def answered(self, session: AsyncSession, chat_id: int, message_id: int) -> None:
        repo = AftercareRepository(session)
        row = await repo.prompt(chat_id, message_id)
        if row is not None:
            await repo.drop_prompt(row)
