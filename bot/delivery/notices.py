"""Notices: queued as outbox rows that say what to show, rendered for their reader when sent.

A service returns :class:`bot.services.types.Notice` values (a kind, a recipient, the ids of
what it is about). :class:`NoticeDelivery` writes each as an outbox row in the caller's
transaction — the kind, its parameters as JSON and the reader's language, no text — and
wakes this process's sender once that transaction has committed. The sender renders the row
with the renderer registered for its kind (``@renderer``, bot/render/*) from the state of
the moment it sends: a card whose task was done meanwhile goes out showing Done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.services.clock import Clock
from bot.services.planning import TaskChange
from bot.services.types import Notice
from bot.site import SiteConfig
from storage.models import OutboxMessage
from storage.repositories.outbox import OutboxRepository, outbox_row
from storage.repositories.users import UserRepository

Keyboard = list[list[dict[str, str]]]


class Translations(Protocol):
    """The gettext catalogues of locales/ (aiogram's I18n, built by bot/telegram/i18n.py)."""

    def gettext(
        self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None
    ) -> str: ...


@dataclass(frozen=True)
class OutgoingFile:
    """A picture or a document a notice sends; the notice's text is its caption."""

    method: Literal["photo", "document"]
    name: str
    content: Callable[[], Awaitable[bytes]]
    """Makes the file: called by the sender outside any transaction (drawing takes a while)."""


@dataclass(frozen=True)
class Rendered:
    text: str
    keyboard: Keyboard | None = None
    merge_text: str | None = None
    """The notice as one line of a merged message (mergeable notices only; see bot/delivery/outbox.py)."""
    file: OutgoingFile | None = None


@dataclass(frozen=True)
class RenderContext:
    session: AsyncSession
    site: SiteConfig
    clock: Clock
    i18n: Translations
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


# ---------------------------------------------------------------------------- parameters as JSON

_DATETIME = "$datetime"
_TASK_CHANGE = "$task_change"


def params_to_json(value: Any) -> Any:
    """A notice's parameters as JSON: datetimes and task changes (a change notice lists them)
    are tagged so that :func:`params_from_json` gives them back as they were."""
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, TaskChange):
        return {_TASK_CHANGE: params_to_json(asdict(value))}
    if is_dataclass(value) and not isinstance(value, type):
        raise TypeError(f"a notice parameter of type {type(value).__name__} cannot be stored")
    if isinstance(value, Mapping):
        return {str(key): params_to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [params_to_json(item) for item in value]
    return value


def params_from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_DATETIME}:
            return datetime.fromisoformat(value[_DATETIME])
        if set(value) == {_TASK_CHANGE}:
            return TaskChange(**params_from_json(value[_TASK_CHANGE]))
        return {key: params_from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [params_from_json(item) for item in value]
    return value


# ---------------------------------------------------------------------------- waking the sender


def wake_after_commit(session: AsyncSession, wake: asyncio.Event) -> None:
    """Set ``wake`` when ``session``'s transaction commits (not if it rolls back).

    The sender sleeps up to its idle interval between passes; a notice queued by a handler
    would wait that long. Woken before the commit it could look before the rows exist.
    """
    sync = session.sync_session
    if sync.info.get("huiwu_wakes_sender"):
        return
    sync.info["huiwu_wakes_sender"] = True

    def committed(_: Session) -> None:
        sync.info.pop("huiwu_wakes_sender", None)
        wake.set()

    event.listen(sync, "after_commit", committed, once=True)


class NoticeDelivery:
    """Queues notices in the outbox within the caller's transaction, and renders outbox rows."""

    def __init__(
        self, site: SiteConfig, clock: Clock, i18n: Translations, wake: asyncio.Event | None = None
    ) -> None:
        self.site = site
        self.clock = clock
        self.i18n = i18n
        self.wake = wake
        """Set after a transaction that queued something commits: the sender's loop wakes."""

    async def deliver(self, session: AsyncSession, notices: Iterable[Notice]) -> list[int]:
        return [row_id for row_id in await self.deliver_many(session, [(n, {}) for n in notices]) if row_id]

    async def deliver_one(self, session: AsyncSession, notice: Notice, **extra: Any) -> int | None:
        return (await self.deliver_many(session, [(notice, extra)]))[0]

    async def deliver_many(
        self, session: AsyncSession, notices: Sequence[tuple[Notice, dict[str, Any]]]
    ) -> list[int | None]:
        """Queue each notice (``extra``: outbox row fields, e.g. an edit's); the outbox row id
        of each (None: a row with its dedupe key exists). Nothing is rendered here, and the
        rows are written together: a tick that pushes hundreds of tasks makes a few
        statements, not a few per task."""
        languages: dict[int, str] = {}
        rows: list[dict[str, Any]] = []
        now = self.clock.now()
        for notice, extra in notices:
            if notice.kind not in RENDERERS:
                raise LookupError(f"no renderer for notice kind {notice.kind!r}")
            if notice.chat_id not in languages:
                languages[notice.chat_id] = await language_of_chat(session, self.site, notice.chat_id)
            rows.append(
                outbox_row(
                    chat_id=notice.chat_id,
                    now=now,
                    notice=notice.kind,
                    params=params_to_json(notice.params),
                    language=languages[notice.chat_id],
                    mergeable=notice.mergeable,
                    dedupe_key=notice.dedupe_key,
                    **extra,
                )
            )
        ids = await OutboxRepository(session).add_many(rows)
        if self.wake is not None and any(row_id is not None for row_id in ids):
            wake_after_commit(session, self.wake)
        return ids

    async def render(self, session: AsyncSession, row: OutboxMessage) -> Rendered | None:
        """The row as it reads now, for its reader; None when there is nothing to show any
        more. A row without a notice (queued before notices were stored) shows its text."""
        if row.notice is None:
            return Rendered(row.text, row.reply_markup, row.merge_text) if row.text else None
        render = RENDERERS.get(row.notice)
        if render is None:
            raise LookupError(f"no renderer for notice kind {row.notice!r}")
        notice = Notice(
            row.notice,
            row.chat_id,
            params_from_json(row.params or {}),
            mergeable=row.mergeable,
            dedupe_key=row.dedupe_key,
        )
        language = row.language or await language_of_chat(session, self.site, row.chat_id)
        return await render(RenderContext(session, self.site, self.clock, self.i18n, language), notice)
