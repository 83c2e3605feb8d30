"""After the meeting as text: the staff card, lost items, the fee confirmation, feedback.

Button data (ids only; every press is checked against the database), packed from the classes
of bot/telegram/callback_data.py:

* ``lf:n:<booking>`` Item found (group) · ``lost:p:<page>`` /lost pages ·
  ``lost:h:<item>`` hand over · ``lost:ph:<item>`` the photo
* ``cs:o:<booking>`` open the catalogue · ``cs:c:<booking>:<page>`` a page of it ·
  ``cs:i:<booking>:<consumable>`` one item · ``cs:s:<booking>`` send the fee confirmation
* ``fee:a:<fee>`` accept · ``fee:d:<fee>`` dispute
* ``fb:<booking>:<1-5>`` a score · ``fb:<booking>:t`` type a score · ``fb:<booking>:c`` comment

What a card shows of the meeting is :func:`bot.services.visibility.meeting_view`'s to decide,
for the chat it goes to: the teams' groups read a confidential meeting as room and time only.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.delivery.notices import Keyboard, RenderContext, Rendered, renderer
from bot.render.booking import notice_audience, notice_reader, person_name
from bot.render.digest import page_of, pager, team_name, two_a_row
from bot.render.text import Reader, fit_message, user_text
from bot.services.aftercare import (
    AftercareError,
    AftercareService,
    ConsumptionLine,
    FeeView,
    LostItemView,
    MeetingRef,
    fee_total,
)
from bot.services.types import Notice
from bot.services.visibility import Audience, MeetingFacts, MeetingView, meeting_view, needs_approval
from bot.site import SiteConfig
from bot.telegram.callback_data import (
    ConsumableItemData,
    ConsumablesData,
    ConsumablesPageData,
    FeeData,
    FeedbackData,
    ItemFoundData,
    LostItemData,
    LostPageData,
    ScoreData,
)

CATALOGUE_PAGE = 8
LOST_PAGE = 8


def money(reader: Reader, cents: int) -> str:
    return escape(f"{cents / 100:.2f} {reader.site.aftercare.currency.get(reader.language)}")


def shown(site: SiteConfig, meeting: MeetingRef, audience: Audience) -> MeetingView:
    """What ``audience`` may see of the meeting."""
    facts = MeetingFacts(
        meeting.department_id,
        meeting.title,
        meeting.confidential,
        needs_approval=needs_approval(site, meeting.room_id, meeting.layout),
    )
    return meeting_view(facts, audience)


def meeting_title(reader: Reader, meeting: MeetingRef, audience: Audience) -> str:
    """ "Room, time" and, if the reader may see it, the title."""
    where = f"{reader.room_name(meeting.room_id)}, {reader.when_span(meeting.start, meeting.end)}"
    title = shown(reader.site, meeting, audience).title
    if title is None:
        return where
    return f"{where} · «{user_text(title, 80)}»"


def consumable_name(reader: Reader, consumable_id: str) -> tuple[str, str]:
    consumable = reader.site.consumable(consumable_id)
    if consumable is None:
        return escape(consumable_id), ""
    return escape(consumable.name.get(reader.language)), escape(consumable.unit.get(reader.language))


ITEM_LINES_BUDGET = 3000
"""Characters the item lines of one message may take; the total always stays visible."""


def consumption_lines(reader: Reader, lines: Sequence[ConsumptionLine]) -> list[str]:
    """One line per item; past :data:`ITEM_LINES_BUDGET`, the rest as "… and N more"."""
    _ = reader.gettext
    result: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        name, unit = consumable_name(reader, line.consumable_id)
        text = (
            f" • {name} — {line.quantity} {unit} × {money(reader, line.unit_price_cents)}"
            f" = <b>{money(reader, line.amount_cents)}</b>"
        )
        if used + len(text) > ITEM_LINES_BUDGET:
            result.append(_(" … and {count} more item(s)").format(count=len(lines) - index))
            break
        result.append(text)
        used += len(text) + 1
    return result


def error_text(reader: Reader, error: AftercareError) -> str:
    _ = reader.gettext
    texts = {
        "not_staff": _("Only the service centre's staff can do this."),
        "not_allowed_here": _("Only this team (or a supervisor or dispatcher) can record this."),
        "not_organiser": _("Only the organiser of this meeting can answer this."),
        "meeting_not_found": _("This meeting no longer exists."),
        "item_no_description": _("Please describe the item in words (a photo alone is not enough)."),
        "item_not_found": _("This item is not in the register."),
        "item_closed": _("This item was already handed over."),
        "handover_no_name": _("Please write who received the item."),
        "unknown_consumable": _("This item is not in the consumables catalogue."),
        "quantity_not_number": _("Please reply with a whole number, like 3."),
        "quantity_not_positive": _("The quantity must be at least 1."),
        "quantity_too_large": _("That is more than {maximum}; please check the number.").format(
            maximum=error.params.get("maximum", "")
        ),
        "fee_already_sent": _("The fee confirmation was already sent; nothing more can be added."),
        "nothing_recorded": _("Nothing is recorded yet: record the consumables first."),
        "fee_not_found": _("This fee confirmation no longer exists."),
        "fee_decided": _("This fee confirmation was already answered."),
        "dispute_no_reason": _("Please write why you dispute the fee."),
        "feedback_not_found": _("There is no feedback request for this meeting."),
        "score_not_number": _("Please reply with a score from 1 to 5, like “4” or “4 good tea service”."),
        "score_out_of_range": _("The score must be from 1 to 5."),
        "already_rated": _("You have already rated this meeting. Thank you!"),
        "not_rated": _("Please choose a score first."),
        "already_commented": _("Your comment was already recorded. Thank you!"),
        "comment_empty": _("Please write your comment as text."),
        "digits_only": _("Please type the number with the digits 0–9, for example 12."),
    }
    return texts.get(error.code, _("That did not work. Please try again."))


# ---------------------------------------------------------------------------- the staff card


def ended_keyboard(reader: Reader, booking_id: int) -> Keyboard:
    _ = reader.gettext
    return [
        [
            {"text": _("🧳 Item found"), "callback_data": ItemFoundData(booking_id=booking_id).pack()},
            {
                "text": _("📦 Consumables used"),
                "callback_data": ConsumablesData(action="o", booking_id=booking_id).pack(),
            },
        ]
    ]


@renderer("meeting_ended")
async def render_meeting_ended(ctx: RenderContext, notice: Notice) -> Rendered | None:
    reader = notice_reader(ctx)
    _ = reader.gettext
    booking_id = int(notice.params["booking_id"])
    meeting = await AftercareService(ctx.site, ctx.clock).meeting(ctx.session, booking_id)
    if meeting is None:
        return None
    audience = await notice_audience(ctx, notice)
    text = "\n".join(
        [
            _("🏁 <b>Meeting ended</b>: {meeting}").format(meeting=meeting_title(reader, meeting, audience)),
            _("Found something left behind? Used any consumables? Record it with the buttons below."),
        ]
    )
    return Rendered(text, ended_keyboard(reader, booking_id))


# ---------------------------------------------------------------------------- lost and found


def item_text(reader: Reader, item: LostItemView, meeting: MeetingRef | None, audience: Audience) -> str:
    _ = reader.gettext
    lines = [
        _("🧳 <b>Item #{number}</b>: {description}").format(
            number=item.id, description=user_text(item.description, 300)
        )
    ]
    if meeting is not None:
        lines.append(_("Meeting: {meeting}").format(meeting=meeting_title(reader, meeting, audience)))
    else:
        lines.append(_("Room: {room}").format(room=reader.room_name(item.room_id)))
    lines.append(_("Found: {time}").format(time=reader.when(item.found_at)))
    if item.photo_file_id:
        lines.append(_("📷 With a photo."))
    return "\n".join(lines)


@renderer("lost_item_found")
async def render_lost_item_found(ctx: RenderContext, notice: Notice) -> Rendered | None:
    reader = notice_reader(ctx)
    _ = reader.gettext
    service = AftercareService(ctx.site, ctx.clock)
    item = await service.item(ctx.session, int(notice.params["item_id"]))
    if item is None:
        return None
    meeting = await service.meeting(ctx.session, item.booking_id) if item.booking_id else None
    finder = await person_name(ctx.session, ctx.site, item.finder_id)
    team = f" ({team_name(ctx.site, item.team_id, ctx.language)})" if item.team_id else ""
    text = "\n".join(
        [
            _("🧳 <b>An item was found after your meeting.</b>"),
            item_text(reader, item, meeting, await notice_audience(ctx, notice)),
            _("Found by {name}{team}.").format(name=finder, team=team),
            _("Please contact the service centre to collect it (item #{number}).").format(number=item.id),
        ]
    )
    keyboard: Keyboard = []
    if item.photo_file_id:
        photo = LostItemData(action="ph", item_id=item.id).pack()
        keyboard = [[{"text": _("📷 Show the photo"), "callback_data": photo}]]
    return Rendered(fit_message(text), keyboard or None)


def lost_list(reader: Reader, items: Sequence[LostItemView], total: int, page: int) -> tuple[str, Keyboard]:
    _ = reader.gettext
    if total == 0:
        return _("🧳 No unclaimed items. Everything found was handed over."), []
    pages = (total + LOST_PAGE - 1) // LOST_PAGE
    lines = [_("🧳 <b>Unclaimed items</b> ({count})").format(count=total)]
    keyboard: Keyboard = []
    for item in items:
        photo = " 📷" if item.photo_file_id else ""
        lines.append(
            f"<b>#{item.id}</b> {reader.short_day(reader.local(item.found_at).date())} "
            f"{reader.time(item.found_at)} · {reader.room_name(item.room_id)} · "
            f"{user_text(item.description, 80)}{photo}"
        )
        row = [
            {
                "text": _("✅ #{number} handed over").format(number=item.id),
                "callback_data": LostItemData(action="h", item_id=item.id).pack(),
            }
        ]
        if item.photo_file_id:
            photo = LostItemData(action="ph", item_id=item.id).pack()
            row.append({"text": _("📷 #{number}").format(number=item.id), "callback_data": photo})
        keyboard.append(row)
    keyboard += pager(reader, lambda shown: LostPageData(page=shown).pack(), page, pages)
    return fit_message("\n".join(lines)), keyboard


# ---------------------------------------------------------------------------- consumables and fees


def catalogue_view(
    reader: Reader, meeting: MeetingRef, lines: Sequence[ConsumptionLine], page: int, sent: bool
) -> tuple[str, Keyboard]:
    """The consumables panel, read as in a team's group (where it is posted) wherever it is shown."""
    _ = reader.gettext
    title = meeting_title(reader, meeting, Audience.group())
    text = [_("📦 <b>Consumables used</b>: {meeting}").format(meeting=title)]
    if lines:
        text += consumption_lines(reader, lines)
        text.append(_("Total: <b>{amount}</b>").format(amount=money(reader, fee_total(lines))))
    else:
        text.append(_("Nothing recorded yet."))
    if sent:
        text.append(_("The fee confirmation was sent to the organiser."))
        return fit_message("\n".join(text)), []
    text.append(_("Choose an item, then reply with the quantity."))
    shown, page, pages = page_of(reader.site.consumables, page, CATALOGUE_PAGE)
    buttons = []
    for consumable in shown:
        name, unit = consumable.name.get(reader.language), consumable.unit.get(reader.language)
        label = f"{name} ({consumable.price:g}/{unit})"
        data = ConsumableItemData(booking_id=meeting.booking_id, consumable_id=consumable.id)
        buttons.append({"text": label, "callback_data": data.pack()})
    keyboard = two_a_row(buttons)
    keyboard += pager(
        reader,
        lambda shown: ConsumablesPageData(booking_id=meeting.booking_id, page=shown).pack(),
        page,
        pages,
    )
    if lines:
        keyboard.append(
            [
                {
                    "text": _("🧾 Send the fee confirmation"),
                    "callback_data": ConsumablesData(action="s", booking_id=meeting.booking_id).pack(),
                }
            ]
        )
    return fit_message("\n".join(text)), keyboard


def fee_text(
    reader: Reader,
    fee: FeeView,
    meeting: MeetingRef | None,
    *,
    audience: Audience | None = None,
    footer: str | None = None,
) -> str:
    """The fee confirmation as ``audience`` reads it; None: the organiser, who answers it."""
    _ = reader.gettext
    lines = [_("🧾 <b>Fee confirmation #{number}</b>").format(number=fee.id)]
    if meeting is not None:
        reading = audience if audience is not None else Audience.organiser(meeting.department_id)
        lines.append(_("Meeting: {meeting}").format(meeting=meeting_title(reader, meeting, reading)))
    lines.append(_("Items used:"))
    lines += consumption_lines(reader, fee.items)
    lines.append(_("Total: <b>{amount}</b>").format(amount=money(reader, fee.total_cents)))
    if fee.status == "accepted" and fee.decided_at is not None:
        lines.append(_("✅ Accepted on {time}.").format(time=reader.moment(fee.decided_at)))
    elif fee.status == "disputed":
        lines.append(_("❓ Disputed: {reason}").format(reason=user_text(fee.dispute_reason, 300)))
    if footer:
        lines.append(footer)
    return fit_message("\n".join(lines))


def fee_keyboard(reader: Reader, fee: FeeView) -> Keyboard:
    _ = reader.gettext
    if fee.status != "sent":
        return []
    return [
        [
            {"text": _("✅ Accept"), "callback_data": FeeData(action="a", fee_id=fee.id).pack()},
            {"text": _("❓ Dispute"), "callback_data": FeeData(action="d", fee_id=fee.id).pack()},
        ]
    ]


@renderer("fee_confirmation")
async def render_fee_confirmation(ctx: RenderContext, notice: Notice) -> Rendered | None:
    reader = notice_reader(ctx)
    _ = reader.gettext
    service = AftercareService(ctx.site, ctx.clock)
    fee = await service.fee(ctx.session, int(notice.params["fee_id"]))
    if fee is None:
        return None
    meeting = await service.meeting(ctx.session, fee.booking_id)
    footer = _("Please accept the fee, or dispute it with a reason.") if fee.status == "sent" else None
    audience = await notice_audience(ctx, notice)
    return Rendered(
        fee_text(reader, fee, meeting, audience=audience, footer=footer), fee_keyboard(reader, fee) or None
    )


@renderer("fee_disputed")
async def render_fee_disputed(ctx: RenderContext, notice: Notice) -> Rendered | None:
    reader = notice_reader(ctx)
    _ = reader.gettext
    service = AftercareService(ctx.site, ctx.clock)
    fee = await service.fee(ctx.session, int(notice.params["fee_id"]))
    if fee is None:
        return None
    meeting = await service.meeting(ctx.session, fee.booking_id)
    organiser = await person_name(ctx.session, ctx.site, fee.organiser_id)
    heading = _("❗ <b>A fee confirmation was disputed</b> by {name}.").format(name=organiser)
    audience = await notice_audience(ctx, notice)
    return Rendered(heading + "\n" + fee_text(reader, fee, meeting, audience=audience))


# ---------------------------------------------------------------------------- feedback


def score_keyboard(reader: Reader, booking_id: int) -> Keyboard:
    _ = reader.gettext
    return [
        [
            {"text": f"{score} ⭐", "callback_data": ScoreData(booking_id=booking_id, score=score).pack()}
            for score in range(1, 6)
        ],
        [
            {
                "text": _("💬 Type a score and a comment"),
                "callback_data": FeedbackData(booking_id=booking_id, action="t").pack(),
            }
        ],
    ]


@renderer("feedback_request")
async def render_feedback_request(ctx: RenderContext, notice: Notice) -> Rendered | None:
    reader = notice_reader(ctx)
    _ = reader.gettext
    booking_id = int(notice.params["booking_id"])
    meeting = await AftercareService(ctx.site, ctx.clock).meeting(ctx.session, booking_id)
    if meeting is None:
        return None
    text = "\n".join(
        [
            _("⭐ <b>How was our service?</b>"),
            _("Meeting: {meeting}").format(
                meeting=meeting_title(reader, meeting, await notice_audience(ctx, notice))
            ),
            _("Please rate the service from 1 (poor) to 5 (excellent)."),
        ]
    )
    return Rendered(text, score_keyboard(reader, booking_id))


def thanks_text(reader: Reader, score: int, comment: str | None) -> str:
    _ = reader.gettext
    lines = [_("⭐ Thank you! You rated the service {score}/5.").format(score=score)]
    if comment:
        lines.append(_("Your comment: {comment}").format(comment=user_text(comment, 500)))
    return "\n".join(lines)


def thanks_keyboard(reader: Reader, booking_id: int, comment: str | None) -> Keyboard:
    _ = reader.gettext
    if comment:
        return []
    return [
        [
            {
                "text": _("💬 Add a comment"),
                "callback_data": FeedbackData(booking_id=booking_id, action="c").pack(),
            }
        ]
    ]


@renderer("feedback_low")
async def render_feedback_low(ctx: RenderContext, notice: Notice) -> Rendered | None:
    reader = notice_reader(ctx)
    _ = reader.gettext
    service = AftercareService(ctx.site, ctx.clock)
    booking_id = int(notice.params["booking_id"])
    feedback = await service.feedback(ctx.session, booking_id)
    meeting = await service.meeting(ctx.session, booking_id)
    if feedback is None or feedback.score is None or meeting is None:
        return None
    organiser = await person_name(ctx.session, ctx.site, feedback.organiser_id)
    if notice.params.get("comment_only"):
        heading = _("💬 <b>A comment on a low score</b> ({score}/5) from {name}").format(
            score=feedback.score, name=organiser
        )
    else:
        heading = _("⚠️ <b>Low satisfaction score: {score}/5</b> from {name}").format(
            score=feedback.score, name=organiser
        )
    audience = await notice_audience(ctx, notice)
    unit = shown(ctx.site, meeting, audience).department_id
    lines = [heading, _("Meeting: {meeting}").format(meeting=meeting_title(reader, meeting, audience))]
    if unit is not None:
        lines.append(_("Unit: {unit}").format(unit=reader.department_name(unit)))
    if feedback.comment:
        lines.append(_("Comment: {comment}").format(comment=user_text(feedback.comment, 800)))
    return Rendered(fit_message("\n".join(lines)))
