"""Queue the dispatch services' notices: render each, write its outbox row, link it to its tasks."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.notices import NoticeDelivery
from bot.services.dispatch import Outgoing
from storage.repositories.tasks import TaskRepository


async def queue(session: AsyncSession, delivery: NoticeDelivery, outgoing: Iterable[Outgoing]) -> list[int]:
    """Outbox rows for ``outgoing``, in the caller's transaction; the ids of the rows written."""
    repo = TaskRepository(session)
    written: list[int] = []
    for item in outgoing:
        notice = item.notice
        if notice.chat_id == 0:  # nobody to tell (e.g. a site without a supervisor)
            continue
        extra = {} if item.edit_of is None else {"kind": "edit", "edit_of_id": item.edit_of}
        row_id = await delivery.deliver_one(session, notice, **extra)
        if row_id is None:
            continue
        if item.link is not None:
            for task_id in notice.task_ids:
                await repo.link(task_id, notice.chat_id, row_id, item.link)
        written.append(row_id)
    await session.flush()
    return written
