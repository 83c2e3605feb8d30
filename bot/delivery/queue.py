"""Queue the dispatch services' notices: write each one's outbox row and link it to its tasks."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.notices import NoticeDelivery
from bot.services.dispatch import Outgoing
from storage.repositories.tasks import TaskRepository


async def queue(session: AsyncSession, delivery: NoticeDelivery, outgoing: Iterable[Outgoing]) -> list[int]:
    """Outbox rows for ``outgoing``, in the caller's transaction; the ids of the rows written."""
    items = [item for item in outgoing if item.notice.chat_id != 0]  # 0: nobody to tell
    if not items:
        return []
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
    await TaskRepository(session).link(links)
    return written
