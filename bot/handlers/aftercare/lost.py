"""Lost and found: Item found on the "meeting ended" card in a team's group, and /lost (the
unclaimed items, handed over with a button; the organiser may see an item's photo)."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.handlers.aftercare.common import (
    HANDOVER,
    LOST_ITEM,
    AftercareContext,
    answers_to,
    chat_of,
    mention,
    typed,
)
from bot.handlers.replies import answer_quietly, carries_no_words, markup, show, text_needed
from bot.render.aftercare import LOST_PAGE, error_text, lost_list
from bot.render.text import Reader
from bot.services.aftercare import AftercareError, AftercareService, PromptView
from bot.services.people import PersonContext
from bot.telegram.callback_data import ItemFoundData, LostItemData, LostPageData

# ---------------------------------------------------------------------------- Item found


def _found_question(read: Reader, user_id: int, name: str | None, room: str) -> str:
    return (
        _(
            "📝 {name}, describe the item found after the meeting in {room}: reply to this message with a "
            "description, or with a photo that has the description as its caption."
        )
        .replace("{name}", mention(user_id, name))
        .replace("{room}", room)
    )


async def item_found_pressed(
    callback: CallbackQuery, callback_data: ItemFoundData, care: AftercareContext
) -> None:
    booking_id = callback_data.booking_id
    team = await care.group_team(chat_of(callback))
    if not care.service.may_record(callback.from_user.id, team):
        await care.refuse(callback, "not_allowed_here")
        return
    meeting = await care.meeting(booking_id)
    if meeting is None:
        await care.refuse(callback, "meeting_not_found")
        return
    presser = callback.from_user
    await care.ask_presser(
        callback,
        _("Reply to my question with the description."),
        text=_found_question(care.read, presser.id, presser.first_name, care.read.room_name(meeting.room_id)),
        kind=LOST_ITEM,
        ref_id=booking_id,
        extra={"team_id": team.id if team else None},
    )


@answers_to(LOST_ITEM)
async def lost_item_answer(message: Message, prompt: PromptView, care: AftercareContext) -> None:
    description = typed(message)
    photo = message.photo[-1].file_id if message.photo else prompt.extra.get("photo")
    if not (description or "").strip():
        if message.photo:
            text = _(
                "📝 {name}, thank you for the photo. Now reply to this message with a short description."
            )
        else:
            text = (
                (text_needed() + "\n" if carries_no_words(message) else "")
                + error_text(care.read, AftercareError("item_no_description"))
                + "\n"
                + _("📝 {name}, reply to this message with a description of the item.")
            )
        await care.reask(message, prompt, text, extra={**prompt.extra, "photo": photo})
        return
    service = care.service
    try:
        async with care.db.transaction() as session:
            item, notices = await service.register_item(
                session, prompt.ref_id, prompt.user_id, prompt.extra.get("team_id"), description, photo
            )
            await care.delivery.deliver(session, notices)
            await service.answered(session, prompt.chat_id, prompt.message_id)
    except AftercareError as error:
        await message.reply(error_text(care.read, error))
        return
    photo_note = _(" (with a photo)") if item.photo_file_id else _(" (no photo)")
    await message.reply(
        _("🧳 Registered as item #{number}{photo}. The organiser has been told.").format(
            number=item.id, photo=photo_note
        )
    )


# ---------------------------------------------------------------------------- /lost


def _may_see_lost(service: AftercareService, person: PersonContext) -> bool:
    return service.is_staff(person.user_id)


async def lost_command(message: Message, person: PersonContext, care: AftercareContext) -> None:
    if not _may_see_lost(care.service, person):
        await message.answer(error_text(care.read, AftercareError("not_staff")))
        return
    async with care.db.transaction() as session:
        items, total = await care.service.unclaimed(session, 0, LOST_PAGE)
    text, keyboard = lost_list(care.read, items, total, 0)
    await message.answer(text, reply_markup=markup(keyboard))


async def lost_page_pressed(
    callback: CallbackQuery, callback_data: LostPageData, person: PersonContext, care: AftercareContext
) -> None:
    if not _may_see_lost(care.service, person):
        await care.refuse(callback, "not_staff")
        return
    page = callback_data.page
    async with care.db.transaction() as session:
        items, total = await care.service.unclaimed(session, page, LOST_PAGE)
    await answer_quietly(callback)
    await show(callback, *lost_list(care.read, items, total, page))


async def lost_photo_pressed(
    callback: CallbackQuery, callback_data: LostItemData, person: PersonContext, care: AftercareContext
) -> None:
    """The item's photo, for the staff and the organiser of the meeting it was left at."""
    service = care.service
    async with care.db.transaction() as session:
        item = await service.item(session, callback_data.item_id)
        meeting = await service.meeting(session, item.booking_id) if item and item.booking_id else None
    organiser = meeting is not None and meeting.requester_id == person.user_id
    if item is None or not item.photo_file_id:
        await care.refuse(callback, "item_not_found")
        return
    if not (organiser or _may_see_lost(service, person)):
        await care.refuse(callback, "not_organiser")
        return
    await answer_quietly(callback)
    await care.bot.send_photo(
        chat_of(callback), item.photo_file_id, caption=_("🧳 Item #{number}").format(number=item.id)
    )


async def handed_over_pressed(
    callback: CallbackQuery, callback_data: LostItemData, person: PersonContext, care: AftercareContext
) -> None:
    """Handed over: the presser is asked who received the item."""
    if not _may_see_lost(care.service, person):
        await care.refuse(callback, "not_staff")
        return
    async with care.db.transaction() as session:
        item = await care.service.item(session, callback_data.item_id)
    if item is None or item.status != "unclaimed":
        await care.refuse(callback, "item_not_found" if item is None else "item_closed")
        return
    await care.ask_presser(
        callback,
        _("Reply to my question with the receiver's name."),
        text=_("📝 {name}: who received item #{number}? Reply with their name (and unit).").format(
            name=mention(callback.from_user.id, callback.from_user.first_name), number=item.id
        ),
        kind=HANDOVER,
        ref_id=item.id,
    )


@answers_to(HANDOVER)
async def handover_answer(message: Message, prompt: PromptView, care: AftercareContext) -> None:
    try:
        async with care.db.transaction() as session:
            item = await care.service.hand_over(session, prompt.ref_id, prompt.user_id, typed(message))
            await care.service.answered(session, prompt.chat_id, prompt.message_id)
    except AftercareError as error:
        question = _("📝 {name}: who received the item? Reply with their name.")
        await care.answer_refused(
            message, prompt, error, question if error.code == "handover_no_name" else None
        )
        return
    await message.reply(
        _("✅ Item #{number} handed over to {receiver}.").format(
            number=item.id, receiver=escape(item.handed_to or "", quote=False)
        )
    )


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.callback_query.register(item_found_pressed, ItemFoundData.filter())
    router.message.register(lost_command, Command("lost"))
    router.callback_query.register(lost_page_pressed, LostPageData.filter())
    router.callback_query.register(lost_photo_pressed, LostItemData.filter(F.action == "ph"))
    router.callback_query.register(handed_over_pressed, LostItemData.filter(F.action == "h"))
