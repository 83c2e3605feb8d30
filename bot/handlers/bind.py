"""/bind <team> in a group: the group becomes that team's group (an admin of the site only).

The bot checks what it can do there: send messages (it must be a member, not restricted),
and whether it reads every message (``can_read_all_group_messages``). With privacy mode on it
still receives commands, replies to its own messages and button presses, which is all the
tasks need: a problem's reason is typed as a reply to its question (ForceReply).
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
from bot.services.people import PersonContext
from bot.site import Role, SiteConfig
from storage.database import Database
from storage.repositories.tasks import ChatBindingRepository

router = Router(name=__name__)


@router.message(Command("bind"), F.chat.type == "private")
async def bind_in_private(message: Message) -> None:
    await message.answer(_("Send /bind &lt;team&gt; inside the team's group, after adding me to it."))


@router.message(Command("bind"))
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
        await ChatBindingRepository(session).bind(team.id, message.chat.id, person.user_id, clock.now())
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
        if not me.can_read_all_group_messages:
            lines.append(
                _(
                    "ℹ️ Privacy mode is on: here I see only commands, replies to my messages and button "
                    "presses. That is enough: a problem's reason is typed as a reply to my question."
                )
            )
    await message.answer("\n".join(lines))
