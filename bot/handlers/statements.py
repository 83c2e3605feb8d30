"""The monthly statement's buttons: a department's contact accepts it, or disputes it and is
asked the reason, which goes to the supervisors (docs/product.md §5).

The reason is a typed answer (bot/handlers/prompts.py): the contact's next message in that
chat, quoted or not, within the prompt's lifetime.
"""

from __future__ import annotations

import contextlib
from html import escape

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.delivery.notices import NoticeDelivery
from bot.handlers.prompts import Outcome, PendingPrompt, PendingPrompts, ask, takes_answers
from bot.handlers.replies import answer_quietly, markup, refuse_button, show, text_needed
from bot.render.statements import statement_keyboard, statement_text
from bot.render.text import Reader
from bot.services.statements import DepartmentStatement, StatementError, StatementService, StatementView
from bot.services.strict import parse_id
from bot.site import SiteConfig
from bot.telegram.callback_data import StatementData, family_filter
from storage.database import Database

STATEMENT_DISPUTE = "statement_dispute"


def refusal(code: str) -> str:
    return {
        "not_found": _("This statement no longer exists."),
        "not_yours": _("Only the department's contacts it was sent to can answer this statement."),
        "decided": _("This statement was already answered."),
        "no_reason": _("Please write why you dispute the statement."),
    }.get(code, _("This button is no longer valid."))


def _decider(site: SiteConfig, statement: StatementView, fallback: str | None) -> str:
    person = site.person(statement.decided_by_id) if statement.decided_by_id is not None else None
    return escape(person.name if person is not None else (fallback or ""), quote=False)


async def _figures(db: Database, service: StatementService, statement: StatementView) -> DepartmentStatement:
    async with db.read() as session:
        return await service.department(session, statement.department_id, statement.month)


async def statement_pressed(
    callback: CallbackQuery,
    callback_data: StatementData,
    db: Database,
    delivery: NoticeDelivery,
    statement_service: StatementService,
    prompts: PendingPrompts,
    site: SiteConfig,
    read: Reader,
) -> None:
    """a: the contact accepts the statement; d: disputes it, and is asked the reason."""
    statement_id, user = callback_data.statement_id, callback.from_user
    try:
        if callback_data.action == "a":
            async with db.transaction() as session:
                statement, notices = await statement_service.decide(
                    session, statement_id, user.id, accept=True
                )
                await delivery.deliver(session, notices)
        else:
            async with db.transaction() as session:
                statement = await statement_service.check_decision(session, statement_id, user.id)
    except StatementError as error:
        await answer_quietly(callback, refusal(error.code))
        return
    if callback_data.action == "a":
        figures = await _figures(db, statement_service, statement)
        await answer_quietly(callback, _("✅ Accepted. Thank you!"))
        await show(
            callback, statement_text(read, figures, statement, _decider(site, statement, user.first_name))
        )
        return
    await answer_quietly(callback, _("Reply to my question with the reason."))
    message = callback.message
    if callback.bot is None:
        return
    await ask(
        callback.bot,
        prompts,
        chat_id=message.chat.id if message is not None else user.id,
        user_id=user.id,
        text=_("📝 Why do you dispute this monthly statement? Reply with the reason."),
        topic=STATEMENT_DISPUTE,
        subject={
            "statement_id": statement.id,
            "message_id": message.message_id if message is not None else None,
        },
        placeholder=_("The reason …"),
    )


@takes_answers(STATEMENT_DISPUTE)
async def dispute_reason(
    message: Message,
    pending_prompt: PendingPrompt,
    bot: Bot,
    db: Database,
    delivery: NoticeDelivery,
    statement_service: StatementService,
    site: SiteConfig,
    read: Reader,
) -> Outcome:
    """The contact's next message after Dispute: the reason, sent to the supervisors."""
    statement_id = parse_id(str(pending_prompt.subject.get("statement_id", "")))
    if statement_id is None or message.from_user is None:
        return Outcome.GONE
    words = message.text if message.text is not None else message.caption
    try:
        async with db.transaction() as session:
            statement, notices = await statement_service.decide(
                session, statement_id, message.from_user.id, accept=False, reason=words or ""
            )
            await delivery.deliver(session, notices)
    except StatementError as error:
        if error.code == "no_reason":
            await message.reply(text_needed() + "\n" + refusal(error.code))
            return Outcome.WAITING
        await message.reply(refusal(error.code))
        return Outcome.ANSWERED
    original = parse_id(str(pending_prompt.subject.get("message_id") or ""))
    if original is not None:
        figures = await _figures(db, statement_service, statement)
        text = statement_text(
            read, figures, statement, _decider(site, statement, message.from_user.first_name)
        )
        with contextlib.suppress(TelegramAPIError):
            await bot.edit_message_text(
                text,
                chat_id=message.chat.id,
                message_id=original,
                reply_markup=markup(statement_keyboard(read, statement)),
            )
    await message.reply(_("❓ Your objection was sent to the supervisor, who will contact you."))
    return Outcome.ANSWERED


async def stale_statement_button(callback: CallbackQuery) -> None:
    await refuse_button(callback)


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.callback_query.register(statement_pressed, StatementData.filter())
    router.callback_query.register(stale_statement_button, family_filter(StatementData))


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
