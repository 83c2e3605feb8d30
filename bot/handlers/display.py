"""/display <room>: a site admin issues (or rotates) the token of a room's door display in
chat and gets the display's address (docs/product.md §2 "The door display").

The token is a secret (whoever has the address sees the room's day), so the command works in
private only and the answer is the one copy of it: the database keeps its digest
(bot/services/door_display.py). A new token replaces the one before at once.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.render.text import Reader
from bot.services.clock import Clock
from bot.services.door_display import issue_display_token
from bot.services.people import PersonContext
from bot.settings import Settings
from bot.site import Role, SiteConfig
from storage.database import Database


def public_origin(settings: Settings) -> str | None:
    """Where the operations listener is published, when the bot knows it: the webhook's
    public address (docs/deploy.md serves both from one host); None in polling mode."""
    if not settings.webhook_url:
        return None
    parts = urlsplit(settings.webhook_url)
    return f"{parts.scheme}://{parts.netloc}"


async def issue_display(
    message: Message,
    command: CommandObject,
    person: PersonContext,
    site: SiteConfig,
    db: Database,
    clock: Clock,
    settings: Settings,
    read: Reader,
) -> None:
    if not person.has(Role.admin):
        await message.answer(_("Only a site admin can issue door display links. Nothing was changed."))
        return
    asked = (command.args or "").strip()
    room = site.room(asked) or site.room(asked.lower())
    if room is None:
        rooms = ", ".join(f"<code>{escape(room.id)}</code>" for room in site.rooms)
        text = _("Which room? Send /display &lt;room&gt;, one of: {rooms}").format(rooms=rooms)
        await message.answer(text)
        return
    async with db.transaction() as session:
        token = await issue_display_token(session, room.id, person.user_id, clock.now())
    path = f"/rooms/{room.id}/display?token={token}"
    origin = public_origin(settings)
    lines = [
        _("🖥 A new door display link for {room}:").format(room=escape(read.room_name(room.id))),
        f"<code>{escape((origin or '') + path)}</code>",
    ]
    if origin is None:
        lines.append(_("Put the address where the operations listener is published in front of it."))
    lines.append(
        _("Open it full screen on the tablet at the door. The link before it no longer opens the display.")
    )
    await message.answer("\n".join(lines))


async def display_in_group(message: Message) -> None:
    """A door display's address is a secret: never posted in a group."""
    await message.answer(_("Send /display to me in a private chat: its link is a secret."))


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.message.register(issue_display, Command("display"), F.chat.type == "private")
    router.message.register(display_in_group, Command("display"))


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
