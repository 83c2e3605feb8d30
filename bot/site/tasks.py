"""Task templates and the escalation chain of the site file."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from bot.site.basics import LocalText, StrictModel


class Anchor(StrEnum):
    start = "start"
    end = "end"


class TaskKind(StrEnum):
    task = "task"
    check = "check"
    reminder = "reminder"


class ExpiryFrom(StrEnum):
    """What a template's ``expires_after_minutes`` counts from."""

    start = "start"
    end = "end"
    due = "due"


class AppliesTo(StrictModel):
    """Empty lists mean "any"; services match when the booking has at least one of them."""

    classes: tuple[str, ...] = ()
    levels: tuple[int, ...] = ()
    services: tuple[str, ...] = ()


class TaskTemplate(StrictModel):
    """Offsets are minutes (fractions allowed, so a test site can run in seconds).

    ``name`` is the short label of the task in lists (/today, change notices); without it
    the start of ``text`` is used. A repeating template (``repeat_every_minutes``) makes one
    task per interval: the first one interval after the push offset, then every interval
    while the meeting lasts.

    ``expires_after_minutes`` (counted from ``expires_from``: the meeting's start or end, or
    the task's due time, the default) is when the task's window closes: still open then, it
    is recorded as missed. Without it a task ends at the start when it is due by the start,
    at the end when it is due by the end, else 12 hours after its due time
    (:func:`bot.services.planning.expiry`).
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=32)
    team: str
    kind: TaskKind = TaskKind.task
    name: LocalText | None = None
    text: LocalText
    anchor: Anchor = Anchor.start
    push_offset_minutes: float
    due_offset_minutes: float | None = None
    needs_confirmation: bool = True
    applies_to: AppliesTo = AppliesTo()
    repeat_every_minutes: float | None = Field(default=None, gt=0)
    repeat_interval_detail: str | None = None
    leader_only: bool = False
    expires_after_minutes: float | None = None
    expires_from: ExpiryFrom | None = None
    verifies: tuple[str, ...] = ()
    """Templates this check verifies (the hotline's check 3: checks 1 and 2). Its card is the
    meeting's readiness card, and it is confirmed over an unconfirmed one of them, or over an
    open problem of the meeting, only with an explicit "confirm anyway"."""

    @property
    def expiry_from(self) -> ExpiryFrom:
        return self.expires_from or ExpiryFrom.due


class ChainStep(StrictModel):
    role: Literal["supervisor", "manager"]
    wait_minutes: float = Field(ge=0)


class Escalation(StrictModel):
    reminder_after_due_minutes: float = Field(default=0, ge=0)
    chain: tuple[ChainStep, ...] = (
        ChainStep(role="supervisor", wait_minutes=10),
        ChainStep(role="manager", wait_minutes=10),
    )
    repeat_every_minutes: float = Field(default=0, ge=0)
    max_repeats: int = Field(default=0, ge=0)
