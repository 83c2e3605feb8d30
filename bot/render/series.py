"""A recurring series as text (docs/product.md §2): a meeting's place in its series, and what a
change or cancellation of several meetings did, each meeting left as it was with why."""

from __future__ import annotations

from bot.render.booking import booking_line
from bot.render.errors import error_text
from bot.render.text import Reader, fit_message
from bot.services.booking import BookingError
from bot.services.series import OccurrenceOutcome, SeriesPlace
from bot.services.types import Outcome
from bot.services.visibility import Audience


def place_text(place: SeriesPlace) -> str:
    """``🔁 3/12``: the meeting's place in its series, for a line of a list."""
    return f"🔁 {place.index + 1}/{place.total}"


def place_line(reader: Reader, place: SeriesPlace) -> str:
    """The sentence under a meeting's details."""
    return reader.gettext("🔁 Meeting {number} of {total} of a recurring series.").format(
        number=place.index + 1, total=place.total
    )


def outcomes_text(reader: Reader, audience: Audience, outcomes: list[Outcome], *, cancelled: bool) -> str:
    """The meetings cancelled (or changed), then each one left as it was and why."""
    _ = reader.gettext
    done = [o.booking for o in outcomes if not (isinstance(o, OccurrenceOutcome) and o.problem)]
    left = [o for o in outcomes if isinstance(o, OccurrenceOutcome) and o.problem]
    if not done and not left:
        return _("No meeting of the series is still ahead: nothing was done.")
    heading = (
        _("🚫 Cancelled, {count} meeting(s) of the series:")
        if cancelled
        else _("✏️ Changed, {count} meeting(s) of the series:")
    )
    lines = [heading.format(count=len(done))]
    lines += [booking_line(reader, view, audience) for view in done]
    if left:
        lines.append(_("Left as they were:"))
        for outcome in left:
            reason = error_text(reader, BookingError(outcome.problem or "", **outcome.problem_params))
            lines.append(f"{booking_line(reader, outcome.booking, audience)} — {reason}")
    return fit_message("\n".join(lines))
