"""Turn the services' notices into outbox rows, each in its reader's language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.clock import Clock
from bot.services.types import Notice
from bot.site import SiteConfig
from storage.repositories.outbox import OutboxRepository, outbox_row
from storage.repositories.users import UserRepository

Keyboard = list[list[dict[str, str]]]


@dataclass(frozen=True)
class Rendered:
    text: str
    keyboard: Keyboard | None = None
    merge_text: str | None = None
    """The notice as one line of a merged message (mergeable notices only; see bot/sender.py)."""


@dataclass(frozen=True)
class RenderContext:
    session: AsyncSession
    site: SiteConfig
    clock: Clock
    i18n: I18n
    language: str

    def _(self, message: str) -> str:
        return self.i18n.gettext(message, locale=self.language)


Renderer = Callable[[RenderContext, Notice], Awaitable[Rendered | None]]
RENDERERS: dict[str, Renderer] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    def register(function: Renderer) -> Renderer:
        RENDERERS[kind] = function
        return function

    return register


async def language_of_chat(session: AsyncSession, site: SiteConfig, chat_id: int) -> str:
    """A person's chosen language, else the one the site file gives them, else the site's."""
    if chat_id < 0:
        return site.site.default_language
    user = await UserRepository(session).get(chat_id)
    if user is not None and user.language:
        return user.language
    person = site.person(chat_id)
    if person is not None and person.language:
        return person.language
    return site.site.default_language


class NoticeDelivery:
    """Renders notices and queues them in the outbox within the caller's transaction."""

    def __init__(self, site: SiteConfig, clock: Clock, i18n: I18n) -> None:
        self.site = site
        self.clock = clock
        self.i18n = i18n

    async def deliver(self, session: AsyncSession, notices: Iterable[Notice]) -> list[int]:
        return [row_id for row_id in await self.deliver_many(session, [(n, {}) for n in notices]) if row_id]

    async def deliver_one(self, session: AsyncSession, notice: Notice, **extra: Any) -> int | None:
        return (await self.deliver_many(session, [(notice, extra)]))[0]

    async def deliver_many(
        self, session: AsyncSession, notices: Sequence[tuple[Notice, dict[str, Any]]]
    ) -> list[int | None]:
        """Render each notice and queue it; the outbox row id of each (None: nothing to send,
        or a row with its dedupe key exists). The rows are written together: a tick that
        pushes hundreds of tasks makes a few statements, not a few per task."""
        rows: list[tuple[int, dict[str, Any]]] = []
        for index, (notice, extra) in enumerate(notices):
            render = RENDERERS.get(notice.kind)
            if render is None:
                raise LookupError(f"no renderer for notice kind {notice.kind!r}")
            language = await language_of_chat(session, self.site, notice.chat_id)
            context = RenderContext(session, self.site, self.clock, self.i18n, language)
            rendered = await render(context, notice)
            if rendered is None:
                continue
            rows.append(
                (
                    index,
                    outbox_row(
                        chat_id=notice.chat_id,
                        text=rendered.text,
                        reply_markup=rendered.keyboard,
                        now=self.clock.now(),
                        mergeable=notice.mergeable,
                        merge_text=rendered.merge_text if notice.mergeable else None,
                        dedupe_key=notice.dedupe_key,
                        **extra,
                    ),
                )
            )
        written = await OutboxRepository(session).add_many([row for _, row in rows])
        ids: list[int | None] = [None] * len(notices)
        for (index, _), row_id in zip(rows, written, strict=True):
            ids[index] = row_id
        return ids
