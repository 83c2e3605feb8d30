"""/bind <team> in a group: the group becomes that team's group (an admin of the site only).

The bot checks what it can do there: send messages (it must be a member, not restricted),
and whether it sees every message, which lets people answer its questions (a problem's reason,
an item found, a quantity…) with a plain message instead of a reply quoting the question
(bot/handlers/prompts.py). Telegram shows a bot every group message when the bot is an admin
of the group, or when its privacy mode is off (``can_read_all_group_messages`` in getMe) —
the latter only in groups the bot joined after it was turned off. With privacy mode on it
still receives commands, replies to its own messages and button presses: a quoted reply
(which ForceReply invites) stays the way in, and /bind says plainly what to change.
"""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.services.clock import Clock
from bot.services.dispatch import bind_team_chat
from bot.services.people import PersonContext
from bot.site import Role, SiteConfig
from storage.database import Database


async def bind_in_private(message: Message) -> None:
    await message.answer(_("Send /bind &lt;team&gt; inside the team's group, after adding me to it."))


async def bind(
    message: Message,
    command: CommandObject,
    person: PersonContext,
    bot: Bot,
    db: Database,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
) -> None:
    if not person.has(Role.admin):
        await message.answer(_("Only an administrator of the bot can bind a group to a team."))
        return
    language = i18n.current_locale
    known = ", ".join(f"<code>{escape(team.id)}</code>" for team in site.teams)
    team = site.team((command.args or "").strip().lower())
    if team is None:
        await message.answer(_("Which team? Send /bind &lt;team&gt;, one of: {teams}").format(teams=known))
        return
    async with db.transaction() as session:
        await bind_team_chat(session, team.id, message.chat.id, person.user_id, clock.now())
    lines = [
        _("✅ This group is now the group of {team}: its tasks are posted here.").format(
            team=escape(team.name.get(language))
        )
    ]
    try:
        me = await bot.get_me()
        member = await bot.get_chat_member(message.chat.id, me.id)
    except TelegramAPIError as error:
        lines.append(_("⚠️ I could not check my rights here ({error}).").format(error=escape(error.message)))
    else:
        can_send = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.CREATOR) or (
            member.status == ChatMemberStatus.MEMBER
        )
        if member.status == ChatMemberStatus.RESTRICTED:
            can_send = bool(getattr(member, "can_send_messages", False))
        if not can_send:
            lines.append(
                _("⚠️ I cannot send messages in this group: make me a member allowed to write, or an admin.")
            )
        lines.append(_what_i_see(member.status, me.can_read_all_group_messages, me.username))
    await message.answer("\n".join(lines))


def _what_i_see(status: str, reads_all: bool | None, username: str | None) -> str:
    """Whether people can answer the bot's questions here without quoting them, and if not,
    what to change."""
    if status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.CREATOR):
        return _(
            "✅ I am an admin of this group, so I see every message: an answer to my question (a "
            "problem's reason, an item found, a quantity…) can simply be sent as the next message."
        )
    if reads_all:
        return _(
            "✅ Privacy mode is off, so I see every message: an answer to my question can simply be "
            "sent as the next message. If it was turned off after I was added to this group, remove "
            "me and add me again (or make me an admin): Telegram applies the change only then."
        )
    return _(
        "⚠️ Privacy mode is on: here I see only commands, replies to my messages and button presses, "
        "so an answer to my question (a problem's reason, an item found, a quantity…) reaches me "
        "only as a reply quoting the question. To let people simply send it, make me an admin of "
        "this group, or in @BotFather send /setprivacy, choose @{bot} and Disable, then remove me "
        "from this group and add me again (Telegram applies the change only then)."
    ).format(bot=escape(username or ""))


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.message.register(bind_in_private, Command("bind"), F.chat.type == "private")
    router.message.register(bind, Command("bind"))


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
