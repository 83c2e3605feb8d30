"""One alert per meeting and recipient, and reminders that edit the card (docs/product.md §4).

The tick's steps speak per task: a reminder for the team, an escalation for each person of
the chain's role. Left so, a supervisor gets a message per task (a day of ten meetings: near
two hundred) and a group a second keyboard for every task it was reminded of. Before the
tick's messages are queued, :func:`group_alerts` rewrites them:

- a reminder becomes an edit of the task's card in its group (the card then says it is
  overdue and names the leader), so the task keeps one message and one keyboard there;
  a task without a card (its group was bound after the push) keeps its reminder;
- the escalations of one meeting to one person become one ``meeting_escalation`` message,
  linked to each of its tasks (``task_messages``, purpose ``esc:<role>``); a task of a
  meeting that person already has a message for is linked to that message and edits it.

Every later change of a task (done, acknowledged, reassigned, missed) re-renders the
messages linked to it (``refresh_messages``), so the meeting's message follows.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.dispatch import CARD, ESCALATION_PREFIX, REMINDER, Outgoing, notice_for
from bot.services.types import Notice
from storage.models import OutboxMessage, Task, TaskMessage
from storage.repositories.tasks import TaskRepository

MEETING_ESCALATION = "meeting_escalation"
"""The notice kind of a meeting's escalation message (bot/render/tasks.py)."""


async def group_alerts(session: AsyncSession, outgoing: Sequence[Outgoing]) -> list[Outgoing]:
    """``outgoing`` with reminders turned into card edits and escalations grouped per meeting
    and recipient; links to existing messages are written here (an edit has none of its own)."""
    repo = TaskRepository(session)
    reminders = [o for o in outgoing if o.link == REMINDER and o.edit_of is None]
    escalations = [
        o
        for o in outgoing
        if o.edit_of is None and o.link is not None and o.link.startswith(ESCALATION_PREFIX)
    ]
    reminder_ids, escalation_ids = {id(o) for o in reminders}, {id(o) for o in escalations}
    if not reminders and not escalations:
        return one_edit_per_message(outgoing)
    cards: dict[tuple[int, int], int] = {}
    reminded = [task_id for o in reminders for task_id in o.notice.task_ids]
    for message in await repo.messages_of(reminded):
        if message.purpose == CARD:
            cards.setdefault((message.task_id, message.chat_id), message.outbox_id)
    grouped = await _group_escalations(session, escalations)
    result: list[Outgoing] = []
    for item in outgoing:
        if id(item) in reminder_ids:
            task_id, chat_id = item.notice.task_ids[0], item.notice.chat_id
            card = cards.get((task_id, chat_id))
            result.append(
                item if card is None else Outgoing(notice_for(CARD, chat_id, task_id), edit_of=card)
            )
        elif id(item) in escalation_ids:
            result += grouped.pop(id(item), [])
        else:
            result.append(item)
    return one_edit_per_message(result)


async def _group_escalations(
    session: AsyncSession, escalations: Sequence[Outgoing]
) -> dict[int, list[Outgoing]]:
    """The grouped messages, keyed by ``id()`` of the first escalation of each group."""
    if not escalations:
        return {}
    task_ids = sorted({task_id for o in escalations for task_id in o.notice.task_ids})
    rows = await session.execute(select(Task.id, Task.booking_id).where(Task.id.in_(task_ids)))
    booking_of = {task_id: booking_id for task_id, booking_id in rows}
    groups: dict[tuple[int, str, int], list[Outgoing]] = {}
    for item in escalations:
        task_id = item.notice.task_ids[0]
        if task_id not in booking_of:
            continue
        assert item.link is not None
        groups.setdefault((item.notice.chat_id, item.link, booking_of[task_id]), []).append(item)
    existing = await _existing_messages(session, list(groups))
    result: dict[int, list[Outgoing]] = {}
    links: list[tuple[int, int, int, str]] = []
    for (chat_id, purpose, booking_id), items in groups.items():
        ids = list(dict.fromkeys(task_id for item in items for task_id in item.notice.task_ids))
        role = purpose.removeprefix(ESCALATION_PREFIX)
        params: dict[str, object] = {"booking_id": booking_id, "role": role}
        found = existing.get((chat_id, purpose, booking_id))
        if found is not None:
            message_id, linked = found
            links += [(task_id, chat_id, message_id, purpose) for task_id in ids if task_id not in linked]
            notice = Notice(MEETING_ESCALATION, chat_id, params, task_ids=tuple(ids))
            result[id(items[0])] = [Outgoing(notice, edit_of=message_id)]
            continue
        params["late"] = any(item.notice.params.get("late") for item in items)
        first_key = items[0].notice.dedupe_key
        notice = Notice(
            MEETING_ESCALATION,
            chat_id,
            params,
            task_ids=tuple(ids),
            dedupe_key=f"meeting:{first_key}" if first_key else None,
        )
        result[id(items[0])] = [Outgoing(notice, link=purpose)]
    await TaskRepository(session).link(links)
    return result


async def _existing_messages(
    session: AsyncSession, groups: Sequence[tuple[int, str, int]]
) -> dict[tuple[int, str, int], tuple[int, set[int]]]:
    """The meeting message each (recipient, purpose, meeting) already has, with its tasks."""
    if not groups:
        return {}
    chats = sorted({chat for chat, _, _ in groups})
    purposes = sorted({purpose for _, purpose, _ in groups})
    bookings = sorted({booking for _, _, booking in groups})
    rows = await session.execute(
        select(TaskMessage.chat_id, TaskMessage.purpose, Task.booking_id, TaskMessage.outbox_id, Task.id)
        .join(Task, Task.id == TaskMessage.task_id)
        .join(OutboxMessage, OutboxMessage.id == TaskMessage.outbox_id)
        .where(
            TaskMessage.chat_id.in_(chats),
            TaskMessage.purpose.in_(purposes),
            Task.booking_id.in_(bookings),
            OutboxMessage.notice == MEETING_ESCALATION,
            OutboxMessage.status.notin_(("failed", "dropped")),
        )
        .order_by(TaskMessage.outbox_id)
    )
    found: dict[tuple[int, str, int], tuple[int, set[int]]] = {}
    for chat_id, purpose, booking_id, outbox_id, task_id in rows:
        key = (chat_id, purpose, booking_id)
        message_id, linked = found.setdefault(key, (outbox_id, set()))
        if outbox_id == message_id:
            linked.add(task_id)
    return found


def one_edit_per_message(outgoing: Sequence[Outgoing]) -> list[Outgoing]:
    """An edit re-renders its whole message: one per message is enough."""
    seen: set[int] = set()
    result: list[Outgoing] = []
    for item in outgoing:
        if item.edit_of is not None:
            if item.edit_of in seen:
                continue
            seen.add(item.edit_of)
        result.append(item)
    return result


async def meeting_alert_tasks(session: AsyncSession, chat_id: int, role: str, booking_id: int) -> list[Task]:
    """The tasks of a meeting escalated to this person for this role, earliest due first."""
    linked = select(TaskMessage.task_id).where(
        TaskMessage.chat_id == chat_id, TaskMessage.purpose == f"{ESCALATION_PREFIX}{role}"
    )
    query = (
        select(Task)
        .where(Task.booking_id == booking_id, Task.id.in_(linked))
        .order_by(func.coalesce(Task.due_at, Task.push_at), Task.id)
    )
    return list((await session.scalars(query)).all())


async def meeting_alert_role(session: AsyncSession, task_id: int, chat_id: int) -> str | None:
    """The role of the meeting escalation showing this task to this person, if one does."""
    purpose = await session.scalar(
        select(TaskMessage.purpose)
        .join(OutboxMessage, OutboxMessage.id == TaskMessage.outbox_id)
        .where(
            TaskMessage.task_id == task_id,
            TaskMessage.chat_id == chat_id,
            TaskMessage.purpose.startswith(ESCALATION_PREFIX),
            OutboxMessage.notice == MEETING_ESCALATION,
        )
        .order_by(TaskMessage.id.desc())
        .limit(1)
    )
    return None if purpose is None else purpose.removeprefix(ESCALATION_PREFIX)
