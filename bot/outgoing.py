"""Queue the dispatch services' notices: render each, write its outbox row, link it to its tasks."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.notices import NoticeDelivery
from bot.services.dispatch import Outgoing
from storage.repositories.tasks import TaskRepository


async def queue(session: AsyncSession, delivery: NoticeDelivery, outgoing: Iterable[Outgoing]) -> list[int]:
    """Outbox rows for ``outgoing``, in the caller's transaction; the ids of the rows written."""
    items = [item for item in outgoing if item.notice.chat_id != 0]  # 0: nobody to tell
    if not items:
        return []
    repo = TaskRepository(session)
    # the renderers look their task and meeting up one by one: loaded here together and held,
    # those lookups are answered from the session instead of one query each
    held = await repo.with_bookings({task_id for item in items for task_id in item.notice.task_ids})
    row_ids = await delivery.deliver_many(
        session,
        [
            (item.notice, {} if item.edit_of is None else {"kind": "edit", "edit_of_id": item.edit_of})
            for item in items
        ],
    )
    written: list[int] = []
    links: list[tuple[int, int, int, str]] = []
    for item, row_id in zip(items, row_ids, strict=True):
        if row_id is None:
            continue
        if item.link is not None:
            links += [(task_id, item.notice.chat_id, row_id, item.link) for task_id in item.notice.task_ids]
        written.append(row_id)
    await repo.link(links)
    del held
    return written
