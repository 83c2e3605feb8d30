"""Reading a booking request typed as one message.

    from bot.services.understanding import understand, looks_like_booking_request

    if looks_like_booking_request(message.text, site):
        understood = understand(message.text, site, clock.now(), language_hint=user_language)

Plain Python, no aiogram. Chinese dates and times are read by jionlp, English dates by
dateparser; both run offline. ``warm_up()`` imports them ahead of the first request (about
0.8 s; of jionlp only its time extractor is loaded, see ``jionlp_time``); call it from the
composition root in a worker thread if the first request must not wait.

See docs/understanding.md.
"""

from __future__ import annotations

from .detect import looks_like_booking_request
from .engine import missing_fields, understand
from .result import BOOKING_FIELDS, Confidence, Problem, Understanding


def warm_up() -> None:
    """Load jionlp's time extractor and dateparser and let each read one phrase (about 0.8 s, once)."""
    from datetime import datetime

    from . import en_time, zh_time

    now = datetime(2026, 1, 1, 9, 0)
    zh_time.read("明天下午2点到4点", now)
    en_time.read("tomorrow 2-4pm", now)


__all__ = [
    "BOOKING_FIELDS",
    "Confidence",
    "Problem",
    "Understanding",
    "looks_like_booking_request",
    "missing_fields",
    "understand",
    "warm_up",
]
