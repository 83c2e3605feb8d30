"""The command menu, one per language and kind of chat."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.telegram.i18n import SUPPORTED

log = logging.getLogger(__name__)

PRIVATE_COMMANDS = (
    "start",
    "book",
    "my",
    "approvals",
    "mytasks",
    "today",
    "overdue",
    "tomorrow",
    "week",
    "ics",
    "lost",
    "language",
    "cancel",
    "help",
)
# Reports and files (/today, /overdue, /tomorrow, /week, /ics) are answered only in private.
GROUP_COMMANDS = ("mytasks", "lost", "bind", "help")


def describe(command: str) -> str:
    descriptions = {
        "start": _("Start or join a department"),
        "book": _("Book a meeting room"),
        "my": _("My upcoming bookings"),
        "approvals": _("Requests waiting for approval"),
        "language": _("Change the language"),
        "cancel": _("Leave the current dialog"),
        "help": _("What this bot can do"),
        "mytasks": _("My team's open tasks"),
        "bind": _("Bind this group to a team"),
        "today": _("Today's meetings and tasks"),
        "overdue": _("Tasks that are late now"),
        "tomorrow": _("Tomorrow's meetings and tasks"),
        "week": _("The weekly briefing"),
        "ics": _("A room's calendar file"),
        "lost": _("Lost and found: unclaimed items"),
    }
    return descriptions[command]


async def set_command_menus(bot: Bot, i18n: I18n) -> None:
    for language in SUPPORTED:
        with i18n.context(), i18n.use_locale(language):
            private = [BotCommand(command=c, description=describe(c)) for c in PRIVATE_COMMANDS]
            group = [BotCommand(command=c, description=describe(c)) for c in GROUP_COMMANDS]
        code = None if language == i18n.default_locale else language
        await bot.set_my_commands(private, scope=BotCommandScopeAllPrivateChats(), language_code=code)
        await bot.set_my_commands(group, scope=BotCommandScopeAllGroupChats(), language_code=code)
        if code is None:
            await bot.set_my_commands(private, scope=BotCommandScopeAllPrivateChats(), language_code=language)
            await bot.set_my_commands(group, scope=BotCommandScopeAllGroupChats(), language_code=language)


async def offer_command_menus(bot: Bot, i18n: I18n) -> None:
    """Set the command menus; a refusal is logged, since the bot serves people without them."""
    try:
        await set_command_menus(bot, i18n)
    except TelegramAPIError as error:
        log.warning("could not set the command menus: %s", error)
