"""The site file's ``[checkin]``: check-in and no-show release (docs/product.md §2)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator

from bot.site.basics import StrictModel


class CheckIn(StrictModel):
    """The organiser and the department's members get a Check in button ``prompt_minutes``
    before the start; a meeting nobody checked in to (or said is running late) by its start
    plus its class's release time is a no-show: its room is free again and its open tasks are
    cancelled."""

    enabled: bool = True
    """False: no prompts and no releases anywhere (a check-in from a door's QR code still counts)."""
    prompt_minutes: float = Field(default=10, ge=1, le=120)
    default_release_after_minutes: float = Field(default=15, ge=1, le=240)
    release_after_minutes: dict[str, float] = {}
    """Per room class: minutes after the start; a class not named waits the default."""
    off_classes: tuple[str, ...] = ()
    """Room classes whose meetings are never prompted nor released."""
    off_rooms: tuple[str, ...] = ()
    """Rooms whose meetings are never prompted nor released."""
    release_confidential: bool = True
    """False: confidential meetings are never prompted nor released."""

    @field_validator("release_after_minutes")
    @classmethod
    def _release_minutes(cls, value: dict[str, float]) -> dict[str, float]:
        for room_class, minutes in value.items():
            if not 1 <= minutes <= 240:
                raise ValueError(f"class {room_class!r}: must be between 1 and 240 minutes")
        return value

    @property
    def prompt_before(self) -> timedelta:
        return timedelta(minutes=self.prompt_minutes)

    def release_after(self, room_class: str) -> timedelta:
        return timedelta(
            minutes=self.release_after_minutes.get(room_class, self.default_release_after_minutes)
        )
