"""What the dispatch services share: task statuses, who may press what, and where teams talk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.types import Notice
from bot.site import Role, SiteConfig, Team
from storage.models import Task
from storage.repositories.tasks import ChatBindingRepository, TaskRepository


class TaskStatus(StrEnum):
    planned = "planned"
    """Waiting for its push time (``next_at`` = push time)."""
    open = "open"
    """Pushed to the team, waiting for Done; ``next_at`` is the next escalation step."""
    problem = "problem"
    """Open, with a problem reported; the supervisor was told at once."""
    done = "done"
    sent = "sent"
    """A reminder that needs no confirmation, pushed."""
    cancelled = "cancelled"
    skipped = "skipped"
    """Its moment had passed before it could be pushed (see planning.expiry)."""
    missed = "missed"
    """Still open when its window closed (``expires_at``): no more reminders or escalations."""


ACTIVE = (TaskStatus.planned, TaskStatus.open, TaskStatus.problem)
OPEN = (TaskStatus.open, TaskStatus.problem)


class TaskState(StrEnum):
    """A task as the supervisor's views show it."""

    pending = "pending"
    done = "done"
    late = "late"
    problem = "problem"
    escalated = "escalated"
    skipped = "skipped"
    missed = "missed"
    cancelled = "cancelled"
    sent = "sent"


# task_messages.purpose: which message shows the task, so a change can re-render each one
CARD = "card"
REMINDER = "reminder"
PROBLEM_ALERT = "problem"
ESCALATION_PREFIX = "esc:"

SUPERVISING = (Role.supervisor, Role.manager)


def escalation_purpose(role: str) -> str:
    return f"{ESCALATION_PREFIX}{role}"


def task_state(task: Task, now: datetime) -> TaskState:
    status = TaskStatus(task.status)
    if status == TaskStatus.done:
        return TaskState.done
    if status in (TaskStatus.cancelled, TaskStatus.skipped, TaskStatus.missed, TaskStatus.sent):
        return TaskState(status.value)
    if status == TaskStatus.problem:
        return TaskState.problem
    if status == TaskStatus.open and task.stage >= 2:
        return TaskState.escalated
    if task.due_at is not None and task.due_at < now and status == TaskStatus.open:
        return TaskState.late
    return TaskState.pending


class Windowed(Protocol):
    """A task as an ORM row or as the tick's plain row (storage.repositories.tasks.TimerRow)."""

    @property
    def status(self) -> str: ...

    @property
    def expires_at(self) -> datetime | None: ...


def within_window(task: Windowed, step_at: datetime | None) -> datetime | None:
    """The timer of an open task: its next step, but no later than its expiry, when the tick
    records it as missed (also after its last step, or once acknowledged)."""
    if task.expires_at is None or task.status not in OPEN:
        return step_at
    return task.expires_at if step_at is None else min(step_at, task.expires_at)


@dataclass(frozen=True)
class Outgoing:
    """A notice to queue, linked to its tasks (``link`` = purpose) or replacing a message."""

    notice: Notice
    link: str | None = None
    edit_of: int | None = None


@dataclass(frozen=True)
class Permission:
    allowed: bool
    on_behalf: bool = False


def may_confirm(site: SiteConfig, task: Task, user_id: int) -> Permission:
    """Done: the team (only its leader for leader-only tasks), or a supervisor/manager on its behalf."""
    team = site.team(task.team_id)
    if (team is not None and user_id == team.leader) or user_id == task.assignee_id:
        return Permission(True)
    if team is not None and not task.leader_only and user_id in team.everyone:
        return Permission(True)
    if site.roles_of(user_id) & set(SUPERVISING):
        return Permission(True, on_behalf=True)
    return Permission(False)


def may_report(site: SiteConfig, task: Task, user_id: int) -> Permission:
    """Problem: anyone of the team (a leader-only check too), or a supervisor/manager."""
    team = site.team(task.team_id)
    if team is not None and (user_id in team.everyone or user_id == task.assignee_id):
        return Permission(True)
    if site.roles_of(user_id) & set(SUPERVISING):
        return Permission(True, on_behalf=True)
    return Permission(False)


def supervises(site: SiteConfig, user_id: int) -> bool:
    return bool(site.roles_of(user_id) & set(SUPERVISING))


async def team_chats(session: AsyncSession, site: SiteConfig) -> dict[str, int]:
    """Each team's group: a /bind binding, else the site file's chat_id."""
    chats = {team.id: team.chat_id for team in site.teams if team.chat_id is not None}
    for binding in await ChatBindingRepository(session).all():
        if site.team(binding.team_id) is None:
            continue
        for team_id, chat_id in list(chats.items()):
            if chat_id == binding.chat_id:
                del chats[team_id]
        chats[binding.team_id] = binding.chat_id
    return chats


async def bind_team_chat(session: AsyncSession, team_id: str, chat_id: int, by: int, now: datetime) -> None:
    """/bind: the group becomes the team's group; one group per team and one team per group."""
    await ChatBindingRepository(session).bind(team_id, chat_id, by, now)


async def team_of_chat(session: AsyncSession, site: SiteConfig, chat_id: int) -> Team | None:
    for team_id, chat in (await team_chats(session, site)).items():
        if chat == chat_id:
            return site.team(team_id)
    return None


REASSIGNED = "reassigned"

_PURPOSE_KINDS = {
    CARD: "task_card",
    REMINDER: "task_reminder",
    PROBLEM_ALERT: "task_problem",
    REASSIGNED: "task_reassigned",
}


def notice_for(purpose: str, chat_id: int, task_id: int) -> Notice:
    """The notice that (re-)renders the message of this purpose for this task."""
    params: dict[str, object] = {"task_id": task_id}
    if purpose.startswith(ESCALATION_PREFIX):
        kind = "task_escalation"
        params["role"] = purpose.removeprefix(ESCALATION_PREFIX)
    else:
        kind = _PURPOSE_KINDS[purpose]
    return Notice(kind, chat_id, params, task_ids=(task_id,), mergeable=chat_id < 0)


async def refresh_messages(
    session: AsyncSession, task: Task, purposes: tuple[str, ...] | None = None
) -> list[Outgoing]:
    """Edits that re-render every message showing this task (its state changed)."""
    messages = await TaskRepository(session).messages(task.id)
    return [
        Outgoing(notice_for(message.purpose, message.chat_id, task.id), edit_of=message.outbox_id)
        for message in messages
        if purposes is None
        or message.purpose in purposes
        or (message.purpose.startswith(ESCALATION_PREFIX) and ESCALATION_PREFIX in purposes)
    ]


async def refresh_tasks(session: AsyncSession, task_ids: Sequence[int]) -> list[Outgoing]:
    """Edits that re-render every message showing any of these tasks (the tick's missed ones)."""
    if not task_ids:
        return []
    return [
        Outgoing(notice_for(message.purpose, message.chat_id, message.task_id), edit_of=message.outbox_id)
        for message in await TaskRepository(session).messages_of(task_ids)
    ]
