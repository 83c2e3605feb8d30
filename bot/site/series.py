"""The site file's ``[series]``: the bounds of a recurring booking (docs/product.md §2)."""

from __future__ import annotations

from pydantic import Field

from bot.site.basics import StrictModel


class Series(StrictModel):
    """A booking that repeats is always bounded: its last meeting at most ``horizon_days``
    after its first, and at most ``max_occurrences`` meetings. A rule asking for more is
    refused with these numbers, never silently shortened."""

    horizon_days: int = Field(default=366, ge=7, le=731)
    max_occurrences: int = Field(default=260, ge=2, le=1000)
