"""/language: choose zh or en (otherwise Telegram's language_code decides)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.delivery.notices import Keyboard
from bot.handlers.replies import answer_quietly, markup, refuse_button, show
from bot.services.people import PeopleService, PersonContext
from bot.telegram.callback_data import LanguageData, family_filter
from bot.telegram.i18n import SUPPORTED
from storage.database import Database

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def language_keyboard() -> Keyboard:
    return [
        [
            {"text": LANGUAGE_NAMES[code], "callback_data": LanguageData(code=code).pack()}
            for code in SUPPORTED
        ]
    ]


async def _switch(db: Database, people_service: PeopleService, i18n: I18n, user_id: int, code: str) -> str:
    async with db.transaction() as session:
        await people_service.set_language(session, user_id, code)
    with i18n.use_locale(code):
        return _("Language set to English.")


async def choose_language(
    message: Message,
    command: CommandObject,
    person: PersonContext,
    db: Database,
    people_service: PeopleService,
    i18n: I18n,
) -> None:
    wanted = (command.args or "").strip().lower()
    if wanted in SUPPORTED:
        await message.answer(await _switch(db, people_service, i18n, person.user_id, wanted))
        return
    await message.answer(_("Choose your language / 请选择语言:"), reply_markup=markup(language_keyboard()))


async def language_chosen(
    callback: CallbackQuery,
    callback_data: LanguageData,
    person: PersonContext,
    db: Database,
    people_service: PeopleService,
    i18n: I18n,
) -> None:
    code = callback_data.code
    if code not in SUPPORTED:
        await refuse_button(callback)
        return
    text = await _switch(db, people_service, i18n, person.user_id, code)
    await answer_quietly(callback)
    await show(callback, text)


async def language_data_refused(callback: CallbackQuery) -> None:
    """``lang:`` data that is no language code."""
    await refuse_button(callback)


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.message.register(choose_language, Command("language"), F.chat.type == "private")
    router.callback_query.register(language_chosen, LanguageData.filter())
    router.callback_query.register(language_data_refused, family_filter(LanguageData))


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
